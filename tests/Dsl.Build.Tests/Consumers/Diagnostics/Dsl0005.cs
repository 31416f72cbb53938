using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class SplitLayers
{
    [Dense(4), Relu] public partial Layer First { get; }
}

public sealed partial class SplitLayers
{
    [Dense(2)] public partial Layer Second { get; }
}
