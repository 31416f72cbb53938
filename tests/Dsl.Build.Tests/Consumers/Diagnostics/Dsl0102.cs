using Dsl;

namespace Samples;

[Network(Input = [64])]
public sealed partial class Sigmoids
{
    [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer A { get; }
    [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer B { get; }
    [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer C { get; }
    [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer D { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}
