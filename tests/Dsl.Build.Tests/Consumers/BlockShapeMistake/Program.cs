using Dsl;

Console.WriteLine("This program does not build: a residual branch in its repeated block narrows 16 features to 8.");

[Network(Input = [40])]
public sealed partial class BlockShapeMistake
{
    [Dense(16)] public partial Layer Hidden { get; }
    [Repeat(3)] public partial Repeated<Outer> Blocks { get; }
    [Dense(10)] public partial Layer Logits { get; }
}
