using Dsl;

Console.WriteLine("This program does not build: its network's input has two dimensions.");

[Network(Input = [1, 40])]
public sealed partial class ShapeMistake
{
    [Dense(100)] public partial Layer Hidden { get; }
}
