using Dsl;

namespace Mnist1dTraining;

/// <summary>
/// The MNIST-1D authors' CNN: three Conv1d layers of 25 channels with ReLU, (1, 40) -> (25, 19) -> (25, 10) -> (25, 5),
/// flattened to 125 features, then Linear(125 -> 10): 5,210 parameters, PyTorch's default initialisation.
/// </summary>
[Network(Input = [1, 40], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class Mnist1dCnn
{
    [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
    [Conv1d(25, 3, Stride = 2, Padding = 1), Relu] public partial Layer Conv2 { get; }
    [Conv1d(25, 3, Stride = 2, Padding = 1), Relu] public partial Layer Conv3 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(10)] public partial Layer Logits { get; }
}
