using Dsl;

namespace Mnist1dTraining;

/// <summary>
/// The MNIST-1D paper's MLP: 40-100-100-10 with ReLU, trained with softmax cross-entropy (15,210 parameters).
/// No Init is given, so every layer uses PyTorch's nn.Linear default, like the reference PyTorch run.
/// </summary>
[Network(Input = [40], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class Mnist1dMlp
{
    [Dense(100), Relu] public partial Layer Hidden1 { get; }
    [Dense(100), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}
