using Dsl;
using Dsl.Training;
using Samples;

// The valid network trains; a layer of a network that was not generated throws, naming its diagnostic.
using var device = Device.Cpu();
var model = new Classifier(device, seed: 3);
float[] inputs = new float[30 * model.InputSize];
int[] labels = new int[30];
for (int row = 0; row < labels.Length; row++)
{
    labels[row] = row % 3;
    inputs[(row * model.InputSize) + labels[row]] = 1f;
}

var optimizer = new Adam(learningRate: 1e-2f);
float first = model.TrainStep(inputs, labels, optimizer);
float last = first;
for (int step = 1; step < 40; step++)
{
    last = model.TrainStep(inputs, labels, optimizer);
}

Console.WriteLine(FormattableString.Invariant($"Classifier: first loss {first:0.0000}, last loss {last:0.0000}"));
try
{
    _ = new ZeroWidth().Logits;
}
catch (InvalidOperationException exception)
{
    Console.WriteLine("ZeroWidth.Logits: " + exception.Message);
}
