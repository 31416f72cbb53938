using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class TwoActivations
{
    [Dense(4), Relu, Tanh] public partial Layer Hidden { get; }
    [Dense(2)] public partial Layer Logits { get; }
}
