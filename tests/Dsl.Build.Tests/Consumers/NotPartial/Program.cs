using Dsl;

Console.WriteLine("This program does not build: its network class is not partial.");

[Network(Input = [40])]
public sealed class NotPartial
{
    [Dense(100)] public partial Layer Hidden { get; }
}
