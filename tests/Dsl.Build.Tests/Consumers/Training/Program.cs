using Dsl;
using Dsl.Training;

// Three classes of 4 features, the class's own feature raised by 1: a network that trains drives the loss down.
using var device = Device.Cpu();
var model = new Tiny(device, seed: 1);
var random = new Random(7);
const int rows = 64;
float[] inputs = new float[rows * model.InputSize];
int[] labels = new int[rows];
for (int row = 0; row < rows; row++)
{
    labels[row] = row % 3;
    for (int feature = 0; feature < model.InputSize; feature++)
    {
        inputs[(row * model.InputSize) + feature] = (float)random.NextDouble() + (feature == labels[row] ? 1f : 0f);
    }
}

var optimizer = new Adam(learningRate: 1e-2f);
float first = model.TrainStep(inputs, labels, optimizer);
float last = first;
for (int step = 1; step < 50; step++)
{
    last = model.TrainStep(inputs, labels, optimizer);
}

Evaluation evaluation = model.Evaluate(inputs, labels);
Console.WriteLine(FormattableString.Invariant($"parameters {model.ParameterCount}, first loss {first:0.0000}, last loss {last:0.0000}, accuracy {evaluation.Accuracy:0.0000}"));

[Network(Input = [4])]
public sealed partial class Tiny
{
    [Dense(16), Relu] public partial Layer Hidden { get; }
    [Dense(3)] public partial Layer Logits { get; }
}
