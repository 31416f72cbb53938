using Dsl;

namespace Samples;

[Network(Input = [1, 40])]
public sealed partial class ShapeMistake
{
    [Dense(100)] public partial Layer Hidden { get; }
}
