using Dsl;
using Dsl.Training;

// Three classes of 4 features, the class's own feature raised by 1: a network that trains drives the loss down.
using var device = Device.Cpu();
var model = new PreNorm(device, seed: 1);
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
Console.WriteLine(FormattableString.Invariant($"layers {model.Layers.Count}, Blocks[1].Up {model.Blocks[1].Up.Weight.Length} weights"));

[Block]
public sealed partial class Branch
{
    [LayerNorm] public partial Layer Norm { get; }
    [Dense(16)] public partial Layer Up { get; }
    [Gelu] public partial Layer Act { get; }
    [Dropout(0.1)] public partial Layer Drop { get; }
    [Dense(8)] public partial Layer Down { get; }
}

[Network(Input = [4])]
public sealed partial class PreNorm
{
    [Dense(8)] public partial Layer Embed { get; }
    [Repeat(2), Residual] public partial Repeated<Branch> Blocks { get; }
    [RmsNorm] public partial Layer FinalNorm { get; }
    [Dense(3)] public partial Layer Logits { get; }
}
