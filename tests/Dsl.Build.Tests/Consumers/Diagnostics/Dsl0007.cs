using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class NotPartialLayer
{
    [Dense(2)] public Layer Logits { get; } = null!;
}
