using System.Diagnostics.CodeAnalysis;
using Dsl;

namespace Mnist1dTraining;

/// <summary>
/// The MNIST-1D authors' CNN: three Conv1d layers of 25 channels with ReLU, (1, 40) -> (25, 19) -> (25, 10) -> (25, 5),
/// flattened to 125 features, then Linear(125 -> 10): 5,210 parameters, PyTorch's default initialisation (which shrinks
/// the signal by 0.00512 and the gradient by 0.00133 at initialisation: DSL0101, DSL0102).
/// </summary>
[SuppressMessage("Dsl.Signal", "DSL0101", Justification = "PyTorch's default initialisation, as the reference PyTorch recipe uses; docs/analyzers.md measures what He changes")]
[SuppressMessage("Dsl.Signal", "DSL0102", Justification = "PyTorch's default initialisation, as the reference PyTorch recipe uses; docs/analyzers.md measures what He changes")]
[Network(Input = [1, 40], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class Mnist1dCnn
{
    [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
    [Conv1d(25, 3, Stride = 2, Padding = 1), Relu] public partial Layer Conv2 { get; }
    [Conv1d(25, 3, Stride = 2, Padding = 1), Relu] public partial Layer Conv3 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(10)] public partial Layer Logits { get; }
}
