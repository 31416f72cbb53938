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

/// <summary>W3: 784-1024-1024-10 ReLU.</summary>
[Network(Input = [784])]
public sealed partial class W3Mlp
{
    [Dense(1024), Relu] public partial Layer Hidden1 { get; }
    [Dense(1024), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
}
