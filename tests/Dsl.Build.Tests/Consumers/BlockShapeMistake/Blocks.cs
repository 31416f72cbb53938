using Dsl;

[Block]
public sealed partial class Narrow
{
    [Dense(8)] public partial Layer Down { get; }
}

[Block]
public sealed partial class Outer
{
    [LayerNorm] public partial Layer Norm { get; }
    [Residual] public partial Narrow Inner { get; }
}
