using Dsl;

namespace Samples;

[Block]
public sealed partial class PostNormBranch
{
    [Dense(64, Init = Init.He), Relu] public partial Layer Up { get; }
    [Dense(64, Init = Init.He)] public partial Layer Down { get; }
}

[Block]
public sealed partial class PostNormLayer
{
    [Residual] public partial PostNormBranch Branch { get; }
    [LayerNorm] public partial Layer Norm { get; }
}

[Network(Input = [64])]
public sealed partial class PostNormStack
{
    [Repeat(8)] public partial Repeated<PostNormLayer> Blocks { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}
