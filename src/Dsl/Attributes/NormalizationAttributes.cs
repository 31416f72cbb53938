namespace Dsl;

/// <summary>
/// Layer normalisation over one sample's features, as PyTorch's <c>nn.LayerNorm(features)</c>:
/// y = (x - mean) / sqrt(var + Epsilon) * gain + bias, the variance biased (divided by the feature count).
/// Gain starts at 1 and bias at 0. Declared alone on a property: <c>[LayerNorm] public partial Layer Norm { get; }</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class LayerNormAttribute : Attribute
{
    /// <summary>Added to the variance before the square root (PyTorch's default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;

    /// <summary>Whether the layer has a trainable gain and bias (default true).</summary>
    public bool Affine { get; set; } = true;
}

/// <summary>
/// Root-mean-square normalisation (Zhang and Sennrich 2019): y = x / sqrt(mean(x^2) + Epsilon) * gain, no centring and
/// no bias. Gain starts at 1.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class RmsNormAttribute : Attribute
{
    /// <summary>Added to the mean square before the square root (default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;

    /// <summary>Whether the layer has a trainable gain (default true).</summary>
    public bool Affine { get; set; } = true;
}

/// <summary>
/// Batch normalisation of each feature, as PyTorch's <c>nn.BatchNorm1d(features)</c>: in training
/// y = (x - mean) / sqrt(var + Epsilon) * gain + bias with the batch's mean and biased variance, and the running
/// statistics move towards the batch's by <see cref="Momentum"/> (the variance unbiased); in evaluation the running
/// statistics normalise. Gain starts at 1, bias at 0, running mean at 0, running variance at 1. A training batch needs
/// at least 2 samples, and a network with a batch norm does not split its batches across threads.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class BatchNormAttribute : Attribute
{
    /// <summary>Added to the variance before the square root (PyTorch's default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;

    /// <summary>How far each training step moves the running statistics towards the batch's (PyTorch's default 0.1).</summary>
    public double Momentum { get; set; } = 0.1;

    /// <summary>Whether the layer has a trainable gain and bias (default true).</summary>
    public bool Affine { get; set; } = true;
}

/// <summary>
/// Inverted dropout: in training each element is zeroed with probability <paramref name="probability"/> and the kept
/// ones are scaled by 1 / (1 - p); in evaluation (Predict, Evaluate) the identity. The mask is a function of the
/// network's seed, the layer's path, the step and the element, the same on every machine.
/// </summary>
/// <param name="probability">The probability of zeroing an element, in [0, 1).</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class DropoutAttribute(double probability) : Attribute
{
    /// <summary>The probability of zeroing an element.</summary>
    public double Probability { get; } = probability;
}

/// <summary>
/// A constant scale, y = <paramref name="factor"/> * x, declared alone on a property:
/// <c>[Scale(0.5)] public partial Layer Shrink { get; }</c>. No parameters; the gradient is scaled by the same factor.
/// </summary>
/// <param name="factor">Any finite number.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class ScaleAttribute(double factor) : Attribute
{
    /// <summary>The factor every element is multiplied by.</summary>
    public double Factor { get; } = factor;
}
