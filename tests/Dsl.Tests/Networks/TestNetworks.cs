using Dsl;

namespace Dsl.Tests.Networks;

// The networks the runtime tests train, differentiate and compare with PyTorch. NetA, NetB and NetC
// mirror tests/fixtures/torch/make_fixtures.py layer for layer.

/// <summary>ReLU, LeakyReLU(0.1), identity; softmax cross-entropy. PyTorch fixture net_a.</summary>
[Network(Input = [7], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class NetA
{
    [Dense(9), Relu] public partial Layer First { get; }
    [Dense(8), LeakyRelu(0.1)] public partial Layer Second { get; }
    [Dense(5)] public partial Layer Logits { get; }
}

/// <summary>NetA's layer names and widths with another first activation: the same parameter count, another network.</summary>
[Network(Input = [7], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class NetATanh
{
    [Dense(9), Tanh] public partial Layer First { get; }
    [Dense(8), LeakyRelu(0.1)] public partial Layer Second { get; }
    [Dense(5)] public partial Layer Logits { get; }
}

/// <summary>GELU, SiLU, a bias-free head; softmax cross-entropy. PyTorch fixture net_b.</summary>
[Network(Input = [6])]
public sealed partial class NetB
{
    [Dense(11), Gelu] public partial Layer First { get; }
    [Dense(7), Silu] public partial Layer Second { get; }
    [Dense(4, Bias = false)] public partial Layer Logits { get; }
}

/// <summary>tanh, sigmoid, identity; mean squared error. PyTorch fixture net_c.</summary>
[Network(Input = [5], Loss = Loss.MeanSquaredError)]
public sealed partial class NetC
{
    [Dense(8), Tanh] public partial Layer First { get; }
    [Dense(6), Sigmoid] public partial Layer Second { get; }
    [Dense(3)] public partial Layer Output { get; }
}

/// <summary>Every other initialiser, and an activation on the output layer (its derivative is applied after the loss).</summary>
[Network(Input = [13], Loss = Loss.MeanSquaredError)]
public sealed partial class InitZoo
{
    [Dense(17, Init = Init.He), Relu] public partial Layer A { get; }
    [Dense(9, Init = Init.HeUniform, Fan = Fan.Out), Gelu] public partial Layer B { get; }
    [Dense(11, Init = Init.Xavier), Tanh] public partial Layer C { get; }
    [Dense(6, Init = Init.XavierUniform, Bias = false), Silu] public partial Layer D { get; }
    [Dense(5, Init = Init.LeCun), LeakyRelu(0.2)] public partial Layer E { get; }
    [Dense(4, Init = Init.Normal, InitStd = 0.3), Sigmoid] public partial Layer Output { get; }
}

/// <summary>A classifier whose logits pass through an activation, and a single layer straight from input to logits.</summary>
[Network(Input = [3], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class ActivatedLogits
{
    [Dense(33, Init = Init.He), Relu] public partial Layer Hidden { get; }
    [Dense(7, Init = Init.Xavier), Tanh] public partial Layer Logits { get; }
}

/// <summary>The smallest network: one Dense layer (logistic regression).</summary>
[Network(Input = [40])]
public sealed partial class Logistic
{
    [Dense(10, Init = Init.Zero)] public partial Layer Logits { get; }
}

/// <summary>The MNIST-1D MLP, as in examples/Mnist1d.</summary>
[Network(Input = [40])]
public sealed partial class Mnist1dMlp
{
    [Dense(100, Init = Init.He), Relu] public partial Layer Hidden1 { get; }
    [Dense(100, Init = Init.He), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}

/// <summary>
/// A first layer that starts at zero: its output is tanh(0) = 0 whatever the input, so huge inputs leave the loss
/// finite while that layer's weight gradient (dz^T x) overflows once the logits' weights are large.
/// </summary>
[Network(Input = [3])]
public sealed partial class ZeroFirstLayer
{
    [Dense(4, Init = Init.Zero), Tanh] public partial Layer Hidden { get; }
    [Dense(3)] public partial Layer Logits { get; }
}

/// <summary>A linear regressor: an output (finite for finite inputs) whose squared error overflows float32 past about 1.8e19.</summary>
[Network(Input = [4], Loss = Loss.MeanSquaredError)]
public sealed partial class LinearRegressor
{
    [Dense(2)] public partial Layer Output { get; }
}

/// <summary>A pre-norm residual block with a standalone activation (fused into Up) and dropout; the plan test's.</summary>
[Block]
public sealed partial class PlanBlock
{
    [LayerNorm] public partial Layer Norm { get; }
    [Dense(12)] public partial Layer Up { get; }
    [Gelu] public partial Layer Act { get; }
    [Dropout(0.1)] public partial Layer Drop { get; }
    [Dense(8)] public partial Layer Down { get; }
}

/// <summary>Two scaled residual blocks between a dense embedding and a final norm: the plan test's graph network.</summary>
[Network(Input = [5])]
public sealed partial class PlanNet
{
    [Dense(8), Relu] public partial Layer Embed { get; }
    [Repeat(2), Residual(Scale = 0.5)] public partial Repeated<PlanBlock> Blocks { get; }
    [RmsNorm] public partial Layer FinalNorm { get; }
    [Dense(3)] public partial Layer Head { get; }
}

/// <summary>The MNIST-1D authors' CNN, 5,210 parameters. PyTorch fixture conv.json's cnn.</summary>
[Network(Input = [1, 40], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class CnnNet
{
    [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
    [Conv1d(25, 3, Stride = 2, Padding = 1), Relu] public partial Layer Conv2 { get; }
    [Conv1d(25, 3, Stride = 2, Padding = 1), Relu] public partial Layer Conv3 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(10)] public partial Layer Logits { get; }
}

/// <summary>A two-dimensional CNN over (3, 9, 8) with both pools and global average pooling, as conv.json's image_cnn.</summary>
[Network(Input = [3, 9, 8])]
public sealed partial class ImageCnnNet
{
    [Conv2d(6, 3, Padding = 1), Relu] public partial Layer Conv1 { get; }
    [MaxPool2d(2)] public partial Layer Pool1 { get; }
    [Conv2d(8, 3, 2, PaddingHeight = 1, Groups = 2), Relu] public partial Layer Conv2 { get; }
    [AvgPool2d(2, Stride = 1, Padding = 1)] public partial Layer Pool2 { get; }
    [GlobalAvgPool] public partial Layer Gap { get; }
    [Dense(5)] public partial Layer Logits { get; }
}

/// <summary>A one-dimensional CNN over (2, 30) with a max pool and an average pool, as conv.json's pooled_cnn.</summary>
[Network(Input = [2, 30])]
public sealed partial class PooledCnnNet
{
    [Conv1d(6, 3, Padding = 1), Tanh] public partial Layer Conv1 { get; }
    [MaxPool1d(3, Stride = 2, Padding = 1)] public partial Layer Pool1 { get; }
    [Conv1d(6, 3, Dilation = 2, Bias = false), Tanh] public partial Layer Conv2 { get; }
    [AvgPool1d(2)] public partial Layer Pool2 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(4)] public partial Layer Logits { get; }
}
