using Dsl;

namespace Dsl.Bench;

// The benchmark workloads of docs/performance.md, declared with PyTorch's default initialiser so
// both sides start from the same distribution.

/// <summary>W1: the MNIST-1D MLP, 40-100-100-10 ReLU.</summary>
[Network(Input = [40])]
public sealed partial class W1Mlp
{
    [Dense(100), Relu] public partial Layer Hidden1 { get; }
    [Dense(100), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}

/// <summary>The fused-versus-layered sweep's small network: 40-64-64-10 ReLU.</summary>
[Network(Input = [40])]
public sealed partial class Sweep64Mlp
{
    [Dense(64), Relu] public partial Layer Hidden1 { get; }
    [Dense(64), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}

/// <summary>
/// The fused-versus-layered sweep's large network: 40-200-200-10 ReLU, near the fused kernel's shared-memory limit
/// (16 rows x (40 + 200 + 200 + 10) = 7200 of 8192 floats).
/// </summary>
[Network(Input = [40])]
public sealed partial class Sweep200Mlp
{
    [Dense(200), Relu] public partial Layer Hidden1 { get; }
    [Dense(200), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}

/// <summary>W3: 784-1024-1024-10 ReLU.</summary>
[Network(Input = [784])]
public sealed partial class W3Mlp
{
    [Dense(1024), Relu] public partial Layer Hidden1 { get; }
    [Dense(1024), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}

/// <summary>W4: 1024-4096-4096-1024 ReLU, the GPU-only throughput workload (batch 4096).</summary>
[Network(Input = [1024])]
public sealed partial class W4Mlp
{
    [Dense(4096), Relu] public partial Layer Hidden1 { get; }
    [Dense(4096), Relu] public partial Layer Hidden2 { get; }
    [Dense(1024)] public partial Layer Logits { get; }
}

/// <summary>W1R: the MNIST-1D authors' MLP with its residual add, h = relu(l1(x)); h = h + relu(l2(h)); l3(h), on the graph runtime.</summary>
[Network(Input = [40])]
public sealed partial class W1ResidualMlp
{
    [Dense(100), Relu] public partial Layer Hidden1 { get; }
    [Residual] public partial W1Branch Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}

/// <summary>W1R's residual branch.</summary>
[Block]
public sealed partial class W1Branch
{
    [Dense(100), Relu] public partial Layer Linear { get; }
}

/// <summary>W5's block: LayerNorm -> Dense(256) -> GELU -> Dense(256), added to the stream.</summary>
[Block]
public sealed partial class W5Block
{
    [LayerNorm] public partial Layer Norm { get; }
    [Dense(256)] public partial Layer Up { get; }
    [Gelu] public partial Layer Act { get; }
    [Dense(256)] public partial Layer Down { get; }
}

/// <summary>W5: the pre-norm residual MLP, 40 -> Dense(256), 8 residual W5Blocks, final LayerNorm, Dense(10).</summary>
[Network(Input = [40])]
public sealed partial class W5DeepResidual
{
    [Dense(256)] public partial Layer Embed { get; }
    [Repeat(8), Residual] public partial Repeated<W5Block> Blocks { get; }
    [LayerNorm] public partial Layer FinalNorm { get; }
    [Dense(10)] public partial Layer Head { get; }
}

/// <summary>W2: the MNIST-1D authors' CNN, three Conv1d(25) with ReLU over (1, 40), flatten (125), Dense(10); 5,210 parameters.</summary>
[Network(Input = [1, 40], Loss = Loss.SoftmaxCrossEntropy)]
public sealed partial class W2Cnn
{
    [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
    [Conv1d(25, 3, Stride = 2, Padding = 1), Relu] public partial Layer Conv2 { get; }
    [Conv1d(25, 3, Stride = 2, Padding = 1), Relu] public partial Layer Conv3 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(10)] public partial Layer Logits { get; }
}
