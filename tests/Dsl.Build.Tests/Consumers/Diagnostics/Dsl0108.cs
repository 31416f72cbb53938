using Dsl;

namespace Samples;

[Block]
public sealed partial class ZeroBranch
{
    [Dense(64, Init = Init.He), Relu] public partial Layer Up { get; }
    [Dense(64, Init = Init.Zero)] public partial Layer Down { get; }
}

[Network(Input = [64])]
public sealed partial class NormOnSkip
{
    [Residual] public partial ZeroBranch Body { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}
