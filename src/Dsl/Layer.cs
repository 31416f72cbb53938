namespace Dsl;

/// <summary>The activation applied after a layer's affine map.</summary>
public enum Activation
{
    Identity,
    Relu,
    LeakyRelu,
    Gelu,
    Silu,
    Tanh,
    Sigmoid,
}

/// <summary>
/// One declared layer: its widths and activation, and typed views of its parameters and gradients
/// inside the network's single parameter buffer. Generated networks create these; users read them.
/// </summary>
public sealed class Layer
{
    private readonly float[] _parameters;
    private readonly float[] _gradients;

    public Layer(string name, int index, int fanIn, int units, Activation activation, float slope, float[] parameters, float[] gradients, int weightOffset, int biasOffset)
    {
        Name = name;
        Index = index;
        FanIn = fanIn;
        Units = units;
        Activation = activation;
        Slope = slope;
        _parameters = parameters;
        _gradients = gradients;
        WeightOffset = weightOffset;
        BiasOffset = biasOffset;
    }

    /// <summary>The property name that declares the layer.</summary>
    public string Name { get; }

    /// <summary>Position in declaration order.</summary>
    public int Index { get; }

    /// <summary>Input width.</summary>
    public int FanIn { get; }

    /// <summary>Output width.</summary>
    public int Units { get; }

    public Activation Activation { get; }

    /// <summary>Negative slope of LeakyReLU (0 for other activations).</summary>
    public float Slope { get; }

    public bool HasBias => BiasOffset >= 0;

    /// <summary>Offset of the weight (Units, FanIn) in the network's parameter buffer.</summary>
    public int WeightOffset { get; }

    /// <summary>Offset of the bias (Units) in the parameter buffer, or -1.</summary>
    public int BiasOffset { get; }

    public int ParameterCount => (Units * FanIn) + (HasBias ? Units : 0);

    /// <summary>Weight, shape (Units, FanIn), row-major: Weight[o * FanIn + i] connects input i to output o.</summary>
    public Span<float> Weight => _parameters.AsSpan(WeightOffset, Units * FanIn);

    /// <summary>Bias, shape (Units); empty when the layer has none.</summary>
    public Span<float> Bias => HasBias ? _parameters.AsSpan(BiasOffset, Units) : Span<float>.Empty;

    /// <summary>Gradient of the last loss w.r.t. <see cref="Weight"/>, shape (Units, FanIn).</summary>
    public ReadOnlySpan<float> WeightGradient => _gradients.AsSpan(WeightOffset, Units * FanIn);

    /// <summary>Gradient of the last loss w.r.t. <see cref="Bias"/>; empty when the layer has none.</summary>
    public ReadOnlySpan<float> BiasGradient => HasBias ? _gradients.AsSpan(BiasOffset, Units) : ReadOnlySpan<float>.Empty;

    public override string ToString() => $"{Name}: Dense {FanIn} -> {Units}, {Activation}";
}
