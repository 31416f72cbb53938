namespace Dsl;

/// <summary>
/// Base of the activation attributes. Beside <see cref="DenseAttribute"/> an activation applies to that layer's output
/// (<c>[Dense(100), Relu]</c>); alone on a property it is a layer of its own (<c>[Gelu] public partial Layer Act { get; }</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public abstract class ActivationAttribute : Attribute;

/// <summary>max(0, z).</summary>
public sealed class ReluAttribute : ActivationAttribute;

/// <summary>z for z &gt; 0, slope * z otherwise.</summary>
public sealed class LeakyReluAttribute(double slope = 0.01) : ActivationAttribute
{
    /// <summary>Slope of the negative side (PyTorch's default 0.01).</summary>
    public double Slope { get; } = slope;
}

/// <summary>z * Phi(z), the exact (erf) form, as PyTorch's default <c>nn.GELU</c>.</summary>
public sealed class GeluAttribute : ActivationAttribute;

/// <summary>z * sigmoid(z) (a.k.a. swish).</summary>
public sealed class SiluAttribute : ActivationAttribute;

/// <summary>tanh(z).</summary>
public sealed class TanhAttribute : ActivationAttribute;

/// <summary>1 / (1 + exp(-z)).</summary>
public sealed class SigmoidAttribute : ActivationAttribute;
