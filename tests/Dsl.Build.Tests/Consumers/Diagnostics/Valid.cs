using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class Classifier
{
    [Dense(16), Relu] public partial Layer Hidden { get; }
    [Dense(3)] public partial Layer Logits { get; }
}
