using Dsl;

namespace Samples;

[Network(Input = [64])]
public sealed partial class DropoutThenNorm
{
    [Dense(64, Init = Init.He), Relu] public partial Layer First { get; }
    [Dropout(0.5)] public partial Layer Drop { get; }
    [Dense(64, Init = Init.He, Bias = false)] public partial Layer Second { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}
