using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class UndefinedInit
{
    [Dense(2, Init = (Init)99)] public partial Layer Logits { get; }
}
