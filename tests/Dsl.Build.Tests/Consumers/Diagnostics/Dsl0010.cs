using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class Primary(int width)
{
    public int Width => width;

    [Dense(2)] public partial Layer Logits { get; }
}
