using Dsl;

namespace Samples;

[Network(Input = [64])]
public sealed partial class BiasBeforeNorm
{
    [Dense(64, Init = Init.He)] public partial Layer Hidden { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Relu] public partial Layer Act { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}
