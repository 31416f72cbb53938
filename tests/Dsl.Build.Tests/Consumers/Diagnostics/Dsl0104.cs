using Dsl;

namespace Samples;

[Block]
public sealed partial class NormalisedRelu
{
    [Dense(64, Init = Init.He, Bias = false)] public partial Layer Dense { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Relu] public partial Layer Act { get; }
}

[Network(Input = [64])]
public sealed partial class DeepBatchNorm
{
    [Repeat(12)] public partial Repeated<NormalisedRelu> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}
