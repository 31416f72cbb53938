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
    private readonly IHostBufferSync? _sync;

    /// <param name="sync">The network's host copy keeper when its parameters live on a GPU; null on the CPU backend.</param>
    public Layer(string name, int index, int fanIn, int units, Activation activation, float slope, float[] parameters, float[] gradients, int weightOffset, int biasOffset, IHostBufferSync? sync = null)
    {
        _sync = sync;
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
    /// <remarks>On a GPU device this copies the parameters to the host first; writes through the span reach the GPU before its next use.</remarks>
    public Span<float> Weight
    {
        get
        {
            _sync?.ParametersToHost();
            return _parameters.AsSpan(WeightOffset, Units * FanIn);
        }
    }

    /// <summary>Bias, shape (Units); empty when the layer has none.</summary>
    public Span<float> Bias
    {
        get
        {
            _sync?.ParametersToHost();
            return HasBias ? _parameters.AsSpan(BiasOffset, Units) : Span<float>.Empty;
        }
    }

    /// <summary>Gradient of the last loss w.r.t. <see cref="Weight"/>, shape (Units, FanIn).</summary>
    public ReadOnlySpan<float> WeightGradient
    {
        get
        {
            _sync?.GradientsToHost();
            return _gradients.AsSpan(WeightOffset, Units * FanIn);
        }
    }

    /// <summary>Gradient of the last loss w.r.t. <see cref="Bias"/>; empty when the layer has none.</summary>
    public ReadOnlySpan<float> BiasGradient
    {
        get
        {
            _sync?.GradientsToHost();
            return HasBias ? _gradients.AsSpan(BiasOffset, Units) : ReadOnlySpan<float>.Empty;
        }
    }

    public override string ToString() => $"{Name}: Dense {FanIn} -> {Units}, {Activation}";
}

/// <summary>
/// Keeps a GPU network's host copies of its parameters and gradients current. The device copy is the one
/// training updates; the host copy is brought up to date only when user code reads it.
/// </summary>
public interface IHostBufferSync
{
    /// <summary>
    /// Copies the parameters to the host if the device holds newer ones, and marks the host copy as the newer
    /// one: the caller receives a writable span, so the device copy is refreshed before its next use.
    /// </summary>
    void ParametersToHost();

    /// <summary>Copies the gradients of the last step to the host if the device holds newer ones.</summary>
    void GradientsToHost();
}
