using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class ZeroWidth
{
    // A constructor of its own, so the program can show what a layer of a network that was not generated does.
    public ZeroWidth()
    {
    }

    [Dense(0)] public partial Layer Logits { get; }
}
