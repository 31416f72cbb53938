using Dsl;

namespace Samples;

[Block]
public sealed partial class DefaultRelu
{
    [Dense(256), Relu] public partial Layer Dense { get; }
}

[Network(Input = [256])]
public sealed partial class DeepDefault
{
    [Repeat(10)] public partial Repeated<DefaultRelu> Stack { get; }
    [Dense(10)] public partial Layer Head { get; }
}
