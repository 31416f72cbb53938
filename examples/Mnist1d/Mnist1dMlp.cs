using System.Diagnostics.CodeAnalysis;
using Dsl;

namespace Mnist1dTraining;

/// <summary>
/// The MNIST-1D paper's MLP: 40-100-100-10 with ReLU, trained with softmax cross-entropy (15,210 parameters).
/// No Init is given, so every layer uses PyTorch's nn.Linear default, like the reference PyTorch run. The analyzers
/// say what that costs: at initialisation the signal shrinks by 0.0134 and the gradient by 0.00926 over the three
/// layers (DSL0101, DSL0102), where He initialisation would keep both at 2.
/// </summary>
[SuppressMessage("Dsl.Signal", "DSL0101", Justification = "PyTorch's default initialisation, as the reference PyTorch recipe uses; docs/analyzers.md measures what He changes")]
[SuppressMessage("Dsl.Signal", "DSL0102", Justification = "PyTorch's default initialisation, as the reference PyTorch recipe uses; docs/analyzers.md measures what He changes")]
[Network(Input = [40], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class Mnist1dMlp
{
    [Dense(100), Relu] public partial Layer Hidden1 { get; }
    [Dense(100), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}
