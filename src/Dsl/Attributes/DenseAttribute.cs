namespace Dsl;

/// <summary>
/// A fully connected layer: y = x W^T + b, with W of shape (units, fanIn) and b of shape (units).
/// Combine it with at most one activation attribute on the same property (<c>[Dense(100), Relu]</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class DenseAttribute(int units) : Attribute
{
    /// <summary>Output width of the layer.</summary>
    public int Units { get; } = units;

    /// <summary>Whether the layer adds a bias vector (default true).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Weight initialiser (default: PyTorch's default for <c>nn.Linear</c>).</summary>
    public Init Init { get; set; } = Init.TorchDefault;

    /// <summary>Which fan the He/Kaiming initialisers scale by (default fan-in).</summary>
    public Fan Fan { get; set; } = Fan.In;

    /// <summary>Standard deviation for <see cref="Init.Normal"/> (ignored by the others).</summary>
    public double InitStd { get; set; } = 0.01;
}

/// <summary>
/// Weight initialisers, each a zero-mean distribution of known variance s2 (see docs/architecture.md).
/// Biases start at zero, except with <see cref="TorchDefault"/>, which draws them from U(+-1/sqrt(fanIn)) as PyTorch does.
/// </summary>
public enum Init
{
    /// <summary>PyTorch's nn.Linear default, kaiming_uniform(a = sqrt(5)): U(+-1/sqrt(fanIn)), s2 = 1/(3 fanIn).</summary>
    TorchDefault = 0,
    /// <summary>He/Kaiming normal: N(0, 2/fan) (fan from <see cref="DenseAttribute.Fan"/>).</summary>
    He,
    /// <summary>He/Kaiming uniform: U(+-sqrt(6/fan)).</summary>
    HeUniform,
    /// <summary>Glorot/Xavier normal: N(0, 2/(fanIn + fanOut)).</summary>
    Xavier,
    /// <summary>Glorot/Xavier uniform: U(+-sqrt(6/(fanIn + fanOut))).</summary>
    XavierUniform,
    /// <summary>LeCun normal: N(0, 1/fanIn).</summary>
    LeCun,
    /// <summary>All zeros (a branch that starts as identity or zero).</summary>
    Zero,
    /// <summary>N(0, InitStd^2).</summary>
    Normal,
}

/// <summary>The fan a He/Kaiming initialiser divides by.</summary>
public enum Fan
{
    /// <summary>Number of inputs of the layer: preserves the forward signal.</summary>
    In = 0,
    /// <summary>Number of outputs: preserves the backward gradient.</summary>
    Out = 1,
}
