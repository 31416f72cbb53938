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

/// <summary>What a declared layer computes.</summary>
public enum LayerKind
{
    /// <summary>y = phi(x W^T + b): <see cref="Layer.Weight"/> (Units, FanIn) and <see cref="Layer.Bias"/> (Units).</summary>
    Dense,

    /// <summary>y = phi(x) element-wise; no parameters.</summary>
    Activation,

    /// <summary>Per-row normalisation to zero mean and unit variance, then y = xhat * gain + bias (<see cref="Layer.Weight"/> is the gain).</summary>
    LayerNorm,

    /// <summary>Per-row division by the root mean square, then y = xhat * gain (<see cref="Layer.Weight"/> is the gain).</summary>
    RmsNorm,

    /// <summary>Inverted dropout in training, the identity in evaluation; no parameters.</summary>
    Dropout,

    /// <summary>
    /// Per-feature normalisation by the batch's statistics in training and the running statistics in evaluation, then
    /// y = xhat * gain + bias (<see cref="Layer.Weight"/> is the gain); <see cref="Layer.RunningMean"/> and
    /// <see cref="Layer.RunningVariance"/> are its non-trainable state.
    /// </summary>
    BatchNorm,

    /// <summary>
    /// The add that closes a residual block: y = skip + <see cref="Layer.Scale"/> * branch, named by the block's path;
    /// no parameters.
    /// </summary>
    Add,

    /// <summary>y = <see cref="Layer.Scale"/> * x element-wise; no parameters.</summary>
    Scale,

    /// <summary>
    /// y = phi(conv1d(x, W) + b) per sample, x (InChannels, InLength) and y (OutChannels, OutLength) as
    /// <see cref="Layer.Convolution"/> gives them: <see cref="Layer.Weight"/> (OutChannels, InChannels / Groups, Kernel) and
    /// <see cref="Layer.Bias"/> (OutChannels), PyTorch's nn.Conv1d.
    /// </summary>
    Conv1d,

    /// <summary>Reads a sample of any shape as one vector of its elements in row-major order (PyTorch's flatten); no parameters, no copy.</summary>
    Flatten,

    /// <summary>
    /// y = phi(conv2d(x, W) + b) per sample, x (InChannels, InHeight, InWidth) and y (OutChannels, OutHeight, OutWidth) as
    /// <see cref="Layer.Convolution2d"/> gives them: <see cref="Layer.Weight"/> (OutChannels, InChannels / Groups,
    /// KernelHeight, KernelWidth) and <see cref="Layer.Bias"/> (OutChannels), PyTorch's nn.Conv2d.
    /// </summary>
    Conv2d,

    /// <summary>The maximum of each window of (channels, length), PyTorch's nn.MaxPool1d; <see cref="Layer.Pooling"/> has the window; no parameters.</summary>
    MaxPool1d,

    /// <summary>The maximum of each window of (channels, height, width), PyTorch's nn.MaxPool2d; no parameters.</summary>
    MaxPool2d,

    /// <summary>The mean of each window of (channels, length), padding counted, PyTorch's nn.AvgPool1d; no parameters.</summary>
    AvgPool1d,

    /// <summary>The mean of each window of (channels, height, width), padding counted, PyTorch's nn.AvgPool2d; no parameters.</summary>
    AvgPool2d,

    /// <summary>The mean over every position of each channel: (channels, ...) to (channels); no parameters.</summary>
    GlobalAvgPool,
}

/// <summary>
/// One declared layer: its widths and activation, and typed views of its parameters and gradients
/// inside the network's single parameter buffer. Generated networks create these; users read them.
/// </summary>
public sealed class Layer
{
    private readonly ParameterBuffers _buffers;

    /// <summary>A dense layer over the given parameter and gradient buffers (tests build layers this way).</summary>
    internal Layer(string name, int index, int fanIn, int units, Activation activation, float slope, float[] parameters, float[] gradients, int weightOffset, int biasOffset)
        : this(name, index, LayerKind.Dense, fanIn, units, activation, slope, new ParameterBuffers(parameters, gradients), weightOffset, units * fanIn, biasOffset, 0f)
    {
    }

    /// <summary>A layer of any kind; the buffers may be allocated after the layer is created.</summary>
    internal Layer(string name, int index, LayerKind kind, int fanIn, int units, Activation activation, float slope, ParameterBuffers buffers, int weightOffset, int weightLength, int biasOffset, float probability)
    {
        Name = name;
        Index = index;
        Kind = kind;
        FanIn = fanIn;
        Units = units;
        Activation = activation;
        Slope = slope;
        _buffers = buffers;
        WeightOffset = weightOffset;
        WeightLength = weightLength;
        BiasOffset = biasOffset;
        Probability = probability;
    }

    /// <summary>The layer's path: the property that declares it, prefixed by the block properties that lead to it (<c>Blocks[3].Up</c>).</summary>
    public string Name { get; }

    /// <summary>What the layer computes.</summary>
    public LayerKind Kind { get; }

    /// <summary>The drop probability of a <see cref="LayerKind.Dropout"/> layer (0 for other kinds).</summary>
    public float Probability { get; }

    /// <summary>The branch's scale of a <see cref="LayerKind.Add"/>, the factor of a <see cref="LayerKind.Scale"/> (0 for other kinds).</summary>
    public float Scale { get; internal init; }

    /// <summary>A one-dimensional convolution's geometry (channels, lengths, kernel, stride, padding, dilation, groups); null for other kinds.</summary>
    public Dsl.Ops.Conv1dGeometry? Convolution { get; internal init; }

    /// <summary>A two-dimensional convolution's geometry; null for other kinds.</summary>
    public Dsl.Ops.Conv2dGeometry? Convolution2d { get; internal init; }

    /// <summary>A pooling layer's window (a one-dimensional pool has height 1); null for other kinds.</summary>
    public Dsl.Ops.PoolGeometry? Pooling { get; internal init; }

    /// <summary>Floats in <see cref="Bias"/>: the output channels of a convolution, else <see cref="Units"/>; 0 without a bias.</summary>
    public int BiasLength => !HasBias ? 0
        : Convolution is { } convolution ? convolution.OutChannels
        : Convolution2d is { } convolution2d ? convolution2d.OutChannels
        : Units;

    /// <summary>The floats of one output channel's weights: a dense layer's FanIn, a convolution's (InChannels / Groups) times its kernel's taps.</summary>
    internal int WeightRowLength => Kind == LayerKind.Dense ? FanIn
        : Convolution is { } c1 ? c1.GroupInChannels * c1.Kernel
        : Convolution2d is { } c2 ? c2.GroupInChannels * c2.KernelHeight * c2.KernelWidth
        : WeightLength;

    /// <summary>
    /// Floats in <see cref="Weight"/>: Units * FanIn for a dense layer, OutChannels * InChannels / Groups * Kernel for a
    /// convolution, the features of a norm's gain, 0 without one.
    /// </summary>
    public int WeightLength { get; }

    /// <summary>Position in declaration order.</summary>
    public int Index { get; }

    /// <summary>Input width: the floats of one sample the layer reads (a convolution's InChannels * InLength).</summary>
    public int FanIn { get; }

    /// <summary>Output width: the floats of one sample the layer writes (a convolution's OutChannels * OutLength).</summary>
    public int Units { get; }

    public Activation Activation { get; }

    /// <summary>Negative slope of LeakyReLU (0 for other activations).</summary>
    public float Slope { get; }

    public bool HasBias => BiasOffset >= 0;

    /// <summary>Offset of the weight (Units, FanIn) in the network's parameter buffer.</summary>
    public int WeightOffset { get; }

    /// <summary>Offset of the bias (<see cref="BiasLength"/>) in the parameter buffer, or -1.</summary>
    public int BiasOffset { get; }

    public int ParameterCount => WeightLength + BiasLength;

    /// <summary>
    /// Weight, shape (Units, FanIn), row-major: Weight[o * FanIn + i] connects input i to output o; for a norm its gain
    /// (Units); empty for a layer without parameters.
    /// </summary>
    /// <remarks>On a GPU device this copies the parameters to the host first; writes through the span reach the GPU before its next use.</remarks>
    public Span<float> Weight
    {
        get
        {
            _buffers.Sync?.ParametersToHost();
            return WeightLength == 0 ? Span<float>.Empty : _buffers.Parameters.AsSpan(WeightOffset, WeightLength);
        }
    }

    /// <summary>The gain of a norm layer, shape (Units): the same floats as <see cref="Weight"/>; empty for other kinds.</summary>
    public Span<float> Gain => Kind is LayerKind.LayerNorm or LayerKind.RmsNorm or LayerKind.BatchNorm ? Weight : Span<float>.Empty;

    /// <summary>Offset of a batch norm's running mean (Units) in the network's state buffer, then its running variance (Units); -1 for other kinds.</summary>
    public int StateOffset { get; internal init; } = -1;

    /// <summary>A batch norm's running mean (Units), which evaluation normalises by; empty for other kinds.</summary>
    /// <remarks>On a GPU this copies the running statistics to the host first; writes through the span reach the GPU before its next use.</remarks>
    public Span<float> RunningMean
    {
        get
        {
            if (StateOffset < 0)
            {
                return Span<float>.Empty;
            }

            _buffers.Sync?.StateToHost();
            return _buffers.State.AsSpan(StateOffset, Units);
        }
    }

    /// <summary>A batch norm's running (unbiased) variance (Units); empty for other kinds.</summary>
    public Span<float> RunningVariance
    {
        get
        {
            if (StateOffset < 0)
            {
                return Span<float>.Empty;
            }

            _buffers.Sync?.StateToHost();
            return _buffers.State.AsSpan(StateOffset + Units, Units);
        }
    }

    /// <summary>Bias, shape (<see cref="BiasLength"/>): (Units), or a convolution's (OutChannels); empty when the layer has none.</summary>
    public Span<float> Bias
    {
        get
        {
            _buffers.Sync?.ParametersToHost();
            return HasBias ? _buffers.Parameters.AsSpan(BiasOffset, BiasLength) : Span<float>.Empty;
        }
    }

    /// <summary>Gradient of the last loss w.r.t. <see cref="Weight"/>, shape (Units, FanIn).</summary>
    public ReadOnlySpan<float> WeightGradient
    {
        get
        {
            _buffers.Sync?.GradientsToHost();
            return WeightLength == 0 ? ReadOnlySpan<float>.Empty : _buffers.Gradients.AsSpan(WeightOffset, WeightLength);
        }
    }

    /// <summary>Gradient of the last loss w.r.t. <see cref="Bias"/>; empty when the layer has none.</summary>
    public ReadOnlySpan<float> BiasGradient
    {
        get
        {
            _buffers.Sync?.GradientsToHost();
            return HasBias ? _buffers.Gradients.AsSpan(BiasOffset, BiasLength) : ReadOnlySpan<float>.Empty;
        }
    }

    public override string ToString() => Kind switch
    {
        LayerKind.Dense => $"{Name}: Dense {FanIn} -> {Units}, {Activation}",
        LayerKind.Activation => $"{Name}: {Activation} ({Units})",
        LayerKind.Dropout => $"{Name}: Dropout p = {Probability.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({Units})",
        LayerKind.Add => $"{Name}: Add skip + {Scale.ToString(System.Globalization.CultureInfo.InvariantCulture)} * branch ({Units})",
        LayerKind.Scale => $"{Name}: Scale by {Scale.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({Units})",
        LayerKind.Conv1d when Convolution is { } g => $"{Name}: Conv1d ({g.InChannels}, {g.InLength}) -> ({g.OutChannels}, {g.OutLength}), kernel {g.Kernel}, stride {g.Stride}, padding {g.Padding}, dilation {g.Dilation}, groups {g.Groups}, {Activation}",
        LayerKind.Flatten => $"{Name}: Flatten ({Units})",
        LayerKind.Conv2d when Convolution2d is { } g => $"{Name}: Conv2d ({g.InChannels}, {g.InHeight}, {g.InWidth}) -> ({g.OutChannels}, {g.OutHeight}, {g.OutWidth}), kernel {g.KernelHeight}x{g.KernelWidth}, stride {g.StrideHeight}x{g.StrideWidth}, padding {g.PaddingHeight}x{g.PaddingWidth}, dilation {g.DilationHeight}x{g.DilationWidth}, groups {g.Groups}, {Activation}",
        LayerKind.MaxPool1d or LayerKind.AvgPool1d when Pooling is { } p => $"{Name}: {Kind} ({p.Channels}, {p.InWidth}) -> ({p.Channels}, {p.OutWidth}), kernel {p.KernelWidth}, stride {p.StrideWidth}, padding {p.PaddingWidth}" + (Kind == LayerKind.MaxPool1d ? $", dilation {p.DilationWidth}" : ""),
        LayerKind.MaxPool2d or LayerKind.AvgPool2d when Pooling is { } p => $"{Name}: {Kind} ({p.Channels}, {p.InHeight}, {p.InWidth}) -> ({p.Channels}, {p.OutHeight}, {p.OutWidth}), kernel {p.KernelHeight}x{p.KernelWidth}, stride {p.StrideHeight}x{p.StrideWidth}, padding {p.PaddingHeight}x{p.PaddingWidth}" + (Kind == LayerKind.MaxPool2d ? $", dilation {p.DilationHeight}x{p.DilationWidth}" : ""),
        LayerKind.GlobalAvgPool => $"{Name}: GlobalAvgPool {FanIn} -> ({Units})",
        _ => $"{Name}: {Kind} ({Units}){(WeightLength > 0 ? "" : ", no affine parameters")}",
    };
}

/// <summary>
/// A network's parameter and gradient buffers, one each, and its non-trainable state (running statistics); layers
/// view slices of them.
/// </summary>
internal sealed class ParameterBuffers(float[] parameters, float[] gradients)
{
    public float[] Parameters { get; set; } = parameters;

    public float[] Gradients { get; set; } = gradients;

    public float[] State { get; set; } = [];

    /// <summary>The network's host copy keeper when its parameters live on a GPU; null on the CPU backend.</summary>
    public IHostBufferSync? Sync { get; set; }
}

/// <summary>
/// Keeps a GPU network's host copies of its parameters and gradients current. The device copy is the one
/// training updates; the host copy is brought up to date only when user code reads it.
/// </summary>
internal interface IHostBufferSync
{
    /// <summary>
    /// Copies the parameters to the host if the device holds newer ones, and marks the host copy as the newer
    /// one: the caller receives a writable span, so the device copy is refreshed before its next use.
    /// </summary>
    void ParametersToHost();

    /// <summary>Copies the gradients of the last step to the host if the device holds newer ones.</summary>
    void GradientsToHost();

    /// <summary>
    /// Copies the non-trainable state (running statistics) to the host if the device holds newer values, and marks the
    /// host copy as the newer one (the caller receives a writable span).
    /// </summary>
    void StateToHost();
}
