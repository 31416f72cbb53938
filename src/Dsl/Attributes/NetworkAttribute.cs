namespace Dsl;

/// <summary>
/// Marks a <c>partial</c> class as a network. Its layers are the properties carrying layer attributes
/// (<see cref="DenseAttribute"/>, ...), in declaration order. The source generator emits the model:
/// constructor, typed parameter views, <c>Predict</c>, <c>TrainStep</c>, <c>Evaluate</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>Shape of one input sample, without the batch dimension (e.g. <c>[40]</c>).</summary>
    public int[] Input { get; set; } = [];

    /// <summary>The training loss applied to the last layer's output.</summary>
    public Loss Loss { get; set; } = Loss.SoftmaxCrossEntropy;
}

/// <summary>Training losses. Each is fused with its gradient in one pass.</summary>
public enum Loss
{
    /// <summary>Softmax over the last layer, then mean cross-entropy against integer labels in [0, classes).</summary>
    SoftmaxCrossEntropy = 0,

    /// <summary>Mean over batch and outputs of (output - target)^2, as PyTorch's <c>MSELoss</c>.</summary>
    MeanSquaredError = 1,
}
