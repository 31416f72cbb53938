using Dsl;

namespace Samples;

[Block]
public sealed partial class PreNormGelu
{
    [LayerNorm] public partial Layer Norm { get; }
    [Dense(64)] public partial Layer Up { get; }
    [Gelu] public partial Layer Act { get; }
    [Dense(64)] public partial Layer Down { get; }
}

[Network(Input = [64])]
public sealed partial class NoFinalNorm
{
    [Repeat(4), Residual] public partial Repeated<PreNormGelu> Blocks { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}
