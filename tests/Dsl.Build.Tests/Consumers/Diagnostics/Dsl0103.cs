using Dsl;

namespace Samples;

[Block]
public sealed partial class ReluBranch
{
    [Dense(64, Init = Init.He), Relu] public partial Layer Up { get; }
    [Dense(64, Init = Init.He)] public partial Layer Down { get; }
}

[Network(Input = [64])]
public sealed partial class Unnormalised
{
    [Repeat(8), Residual] public partial Repeated<ReluBranch> Blocks { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}
