using Dsl;

Console.WriteLine("This program does not build: its dense layer reads the convolution's (channels, length) output without a flatten.");

[Network(Input = [1, 40])]
public sealed partial class ConvShapeMistake
{
    [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}
