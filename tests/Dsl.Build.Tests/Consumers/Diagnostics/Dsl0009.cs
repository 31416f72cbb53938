using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class Collision
{
    [Dense(2)] public partial Layer Predict { get; }
}
