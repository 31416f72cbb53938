using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class Classifier
{
    [Dense(16, Init = Init.He), Relu] public partial Layer Hidden { get; }
    [Dense(3, Init = Init.He)] public partial Layer Logits { get; }
}
