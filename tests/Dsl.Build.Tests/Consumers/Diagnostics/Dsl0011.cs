using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class Labelled
{
    public string Label { get; set; }

    [Dense(2)] public partial Layer Logits { get; }
}
