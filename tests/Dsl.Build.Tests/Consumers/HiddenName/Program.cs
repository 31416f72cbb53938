using Dsl;

Console.WriteLine("This program does not build: Dsl.Ops is hidden.");

[Network(Input = [4])]
public sealed partial class Hidden
{
    [Dense(2)] public partial Layer Logits { get; }
}
