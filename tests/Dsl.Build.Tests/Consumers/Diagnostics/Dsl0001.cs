using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class Generic<T>
{
    [Dense(2)] public partial Layer Logits { get; }
}
