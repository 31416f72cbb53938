using Dsl.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The fully connected layer on the GPU, the twin of the CPU's <see cref="Dsl.Ops.Dense"/>: forward and
/// backward as three GEMMs with fused epilogues. Shapes as there: input x (batch, fanIn), weight W (units,
/// fanIn) row-major like PyTorch's nn.Linear, bias b (units), pre-activation z = x W^T + b and output
/// y = phi(z), both (batch, units); all views dense and row-major.
/// </summary>
/// <typeparam name="TWidths">
/// fanIn and units as constants compiled into the layer's kernels (a generated network's struct for these widths), or
/// <see cref="LaunchWidths"/> to take them from each call. With constants, every call must pass those widths.
/// </typeparam>
/// <typeparam name="TActivation">phi, this layer's activation (used by <see cref="Forward"/>).</typeparam>
/// <typeparam name="TPreviousActivation">
/// The previous layer's activation, whose derivative <see cref="BackwardInput"/> fuses into the gradient it
/// passes back (<see cref="GpuIdentity"/> when the input is the network's input and no such gradient is needed).
/// </typeparam>
/// <remarks>
/// Each GEMM kernel (64 x 64 or 128 x 128 tiles, whichever the shapes pick; one per distinct widths when they are
/// constants) is compiled once per accelerator, then
/// cached by <see cref="GpuAccelerator"/>, by the first launch that uses it; after that the methods only enqueue
/// launches on the given stream and allocate nothing. The bias gradient (column sums of dz) is a separate
/// kernel, not part of this class.
/// </remarks>
public sealed class GpuDense<TWidths, TActivation, TPreviousActivation> : IGpuDenseLayer
    where TWidths : struct, IDenseWidths
    where TActivation : struct, IGpuActivation
    where TPreviousActivation : struct, IGpuActivation
{
    private readonly TActivation _activation;
    private readonly TPreviousActivation _previousActivation;
    private readonly GemmLauncher<DenseForwardSizes<TWidths>, BiasActivationEpilogue<TActivation>> _forward;
    // dW, one GEMM per update rule the layer is trained with (each compiles on its first launch).
    private readonly GemmLauncher<DenseWeightGradientSizes<TWidths>, WeightGradientEpilogue<NoUpdate>> _weightGradient;
    private readonly GemmLauncher<DenseWeightGradientSizes<TWidths>, WeightGradientEpilogue<SgdUpdate>> _weightGradientSgd;
    private readonly GemmLauncher<DenseWeightGradientSizes<TWidths>, WeightGradientEpilogue<AdamUpdate>> _weightGradientAdam;
    private readonly GemmLauncher<DenseInputGradientSizes<TWidths>, DerivativeEpilogue<TPreviousActivation>> _inputGradient;

    /// <summary>
    /// Prepares the layer's GEMMs on <paramref name="gpu"/>: forward, input gradient, and the weight gradient once per
    /// update rule (kernels compile on first use).
    /// </summary>
    /// <param name="activation">phi, with its parameters (e.g. a LeakyRelu slope).</param>
    /// <param name="previousActivation">The previous layer's activation, for <see cref="BackwardInput"/>.</param>
    public GpuDense(GpuAccelerator gpu, TActivation activation, TPreviousActivation previousActivation)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _activation = activation;
        _previousActivation = previousActivation;
        // z = x W^T: (batch, fanIn) x (units, fanIn)^T.
        _forward = GpuGemm.Load<DenseForwardSizes<TWidths>, BiasActivationEpilogue<TActivation>>(gpu, Transpose.No, Transpose.Yes);
        // dW = dz^T x: (batch, units)^T x (batch, fanIn).
        _weightGradient = GpuGemm.Load<DenseWeightGradientSizes<TWidths>, WeightGradientEpilogue<NoUpdate>>(gpu, Transpose.Yes, Transpose.No);
        _weightGradientSgd = GpuGemm.Load<DenseWeightGradientSizes<TWidths>, WeightGradientEpilogue<SgdUpdate>>(gpu, Transpose.Yes, Transpose.No);
        _weightGradientAdam = GpuGemm.Load<DenseWeightGradientSizes<TWidths>, WeightGradientEpilogue<AdamUpdate>>(gpu, Transpose.Yes, Transpose.No);
        // dzPrev = (dz W) * phiPrev': (batch, units) x (units, fanIn).
        _inputGradient = GpuGemm.Load<DenseInputGradientSizes<TWidths>, DerivativeEpilogue<TPreviousActivation>>(gpu, Transpose.No, Transpose.No);
    }

    /// <summary>True when the backward pass needs this layer's pre-activation z kept by <see cref="Forward"/>.</summary>
    public bool NeedsPreActivation => _activation.NeedsPreActivation;

    /// <summary>
    /// y = phi(x W^T + b) in one GEMM whose epilogue adds the bias, keeps z when asked and applies phi.
    /// </summary>
    /// <param name="output">y (batch, units).</param>
    /// <param name="preActivation">z (batch, units), or empty when phi's derivative reads only y.</param>
    /// <param name="input">x (batch, fanIn).</param>
    /// <param name="weight">W (units, fanIn).</param>
    /// <param name="bias">b (units), or empty for a layer without bias.</param>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> preActivation,
        ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, int batch, int fanIn, int units)
    {
        CheckWidths(fanIn, units);
        long size = (long)batch * units;
        Require(output, size, nameof(output), "(batch, units)");
        RequireOptional(preActivation, size, nameof(preActivation), "(batch, units)");
        RequireOptional(bias, units, nameof(bias), "(units)");
        var epilogue = new BiasActivationEpilogue<TActivation>(output, preActivation, bias, units, _activation);
        _forward.Launch(stream, batch, units, fanIn, input, fanIn, weight, fanIn, epilogue);
    }

    /// <summary>
    /// dW = dz^T x (units, fanIn), overwritten, and, unless <paramref name="update"/> is <see cref="GpuParameterUpdate.None"/>,
    /// the optimizer's update of W applied to each element as its gradient is finished (so call it after
    /// <see cref="BackwardInput"/>, which reads W). The bias gradient is computed elsewhere.
    /// </summary>
    /// <param name="dWeight">dW (units, fanIn).</param>
    /// <param name="dPreActivation">dz (batch, units).</param>
    /// <param name="input">x (batch, fanIn).</param>
    /// <param name="update">The step's update with its origin at W's first element (<see cref="GpuParameterUpdate.At"/>), or none.</param>
    /// <exception cref="ArgumentException">A view is shorter than its shape, the widths differ from constant <typeparamref name="TWidths"/>, or the update's buffer does not hold W.</exception>
    public void BackwardWeights(AcceleratorStream stream, ArrayView<float> dWeight, ArrayView<float> dPreActivation,
        ArrayView<float> input, int batch, int fanIn, int units, GpuParameterUpdate update = default)
    {
        CheckWidths(fanIn, units);
        Require(dWeight, (long)units * fanIn, nameof(dWeight), "(units, fanIn)");
        update.CheckCovers((long)units * fanIn, nameof(update));
        switch (update.Rule)
        {
            case GpuUpdateRule.Sgd:
                _weightGradientSgd.Launch(stream, units, fanIn, batch, dPreActivation, units, input, fanIn, new WeightGradientEpilogue<SgdUpdate>(dWeight, fanIn, update.Sgd));
                break;
            case GpuUpdateRule.Adam:
                _weightGradientAdam.Launch(stream, units, fanIn, batch, dPreActivation, units, input, fanIn, new WeightGradientEpilogue<AdamUpdate>(dWeight, fanIn, update.Adam));
                break;
            default:
                _weightGradient.Launch(stream, units, fanIn, batch, dPreActivation, units, input, fanIn, new WeightGradientEpilogue<NoUpdate>(dWeight, fanIn, default));
                break;
        }
    }

    /// <summary>
    /// The gradient flowing into the previous layer, with that layer's activation derivative fused:
    /// dzPrev = (dz W) * phiPrev'(zPrev, yPrev), all (batch, fanIn).
    /// </summary>
    /// <param name="dPreviousPreActivation">dzPrev (batch, fanIn), overwritten.</param>
    /// <param name="dPreActivation">dz (batch, units).</param>
    /// <param name="weight">W (units, fanIn).</param>
    /// <param name="previousPreActivation">zPrev (batch, fanIn); empty (or yPrev again) when phiPrev' reads only y.</param>
    /// <param name="previousOutput">yPrev (batch, fanIn).</param>
    public void BackwardInput(AcceleratorStream stream, ArrayView<float> dPreviousPreActivation, ArrayView<float> dPreActivation,
        ArrayView<float> weight, ArrayView<float> previousPreActivation, ArrayView<float> previousOutput,
        int batch, int fanIn, int units)
    {
        CheckWidths(fanIn, units);
        long size = (long)batch * fanIn;
        Require(dPreviousPreActivation, size, nameof(dPreviousPreActivation), "(batch, fanIn)");
        Require(previousOutput, size, nameof(previousOutput), "(batch, fanIn)");
        if (_previousActivation.NeedsPreActivation)
        {
            Require(previousPreActivation, size, nameof(previousPreActivation), "(batch, fanIn)");
        }
        else
        {
            RequireOptional(previousPreActivation, size, nameof(previousPreActivation), "(batch, fanIn)");
        }

        var epilogue = new DerivativeEpilogue<TPreviousActivation>(dPreviousPreActivation, previousPreActivation, previousOutput, fanIn, _previousActivation);
        _inputGradient.Launch(stream, batch, fanIn, units, dPreActivation, units, weight, fanIn, epilogue);
    }

    /// <summary>With constant widths the kernels ignore the arguments, so arguments that differ are refused, not run.</summary>
    private static void CheckWidths(int fanIn, int units)
    {
        TWidths widths = default;
        if (widths.AreConstant && (fanIn != widths.FanIn || units != widths.Units))
        {
            throw new ArgumentException(
                $"This layer's kernels were compiled for fanIn = {widths.FanIn}, units = {widths.Units} ({typeof(TWidths).Name}), " +
                $"but the call passes fanIn = {fanIn}, units = {units}.", fanIn != widths.FanIn ? nameof(fanIn) : nameof(units));
        }
    }

    private static void Require(ArrayView<float> view, long size, string name, string shape)
    {
        if (view.Length < size)
        {
            throw new ArgumentException($"{name} holds {view.Length} floats, but {shape} needs {size}.", name);
        }
    }

    private static void RequireOptional(ArrayView<float> view, long size, string name, string shape)
    {
        if (view.Length != 0)
        {
            Require(view, size, name, shape);
        }
    }
}

/// <summary>
/// A dense layer on the GPU whatever its widths and activations: what a runtime sequence of layers calls. See
/// <see cref="GpuDense{TWidths, TActivation, TPreviousActivation}"/> for the shapes.
/// </summary>
public interface IGpuDenseLayer
{
    /// <summary>True when the backward pass needs this layer's pre-activation z kept by <see cref="Forward"/>.</summary>
    bool NeedsPreActivation { get; }

    /// <summary>y = phi(x W^T + b), z kept when <paramref name="preActivation"/> is not empty.</summary>
    void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> preActivation,
        ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, int batch, int fanIn, int units);

    /// <summary>dW = dz^T x, with the optimizer's update fused unless <paramref name="update"/> is none.</summary>
    void BackwardWeights(AcceleratorStream stream, ArrayView<float> dWeight, ArrayView<float> dPreActivation,
        ArrayView<float> input, int batch, int fanIn, int units, GpuParameterUpdate update = default);

    /// <summary>dzPrev = (dz W) * phiPrev'(zPrev, yPrev).</summary>
    void BackwardInput(AcceleratorStream stream, ArrayView<float> dPreviousPreActivation, ArrayView<float> dPreActivation,
        ArrayView<float> weight, ArrayView<float> previousPreActivation, ArrayView<float> previousOutput,
        int batch, int fanIn, int units);
}

/// <summary>
/// The dense forward's epilogue at C = (batch, units): z = sum + b[column] (when there is a bias), z kept in
/// the pre-activation (when that view is non-empty), y = phi(z) written to the output.
/// </summary>
public readonly struct BiasActivationEpilogue<TActivation> : IGpuEpilogue
    where TActivation : struct, IGpuActivation
{
    private readonly ArrayView<float> _output;
    private readonly ArrayView<float> _preActivation;
    private readonly ArrayView<float> _bias;
    private readonly int _units;
    private readonly TActivation _activation;

    /// <param name="output">y (batch, units).</param>
    /// <param name="preActivation">z (batch, units), or empty to not keep it.</param>
    /// <param name="bias">b (units), or empty for none.</param>
    /// <param name="units">Row stride of y and z.</param>
    public BiasActivationEpilogue(ArrayView<float> output, ArrayView<float> preActivation, ArrayView<float> bias, int units, TActivation activation)
    {
        _output = output;
        _preActivation = preActivation;
        _bias = bias;
        _units = units;
        _activation = activation;
    }

    /// <inheritdoc />
    public void Store(int row, int column, float sum)
    {
        float z = sum;
        if (_bias.Length > 0)
        {
            z += _bias[column];
        }

        long index = ((long)row * _units) + column;
        if (_preActivation.Length > 0)
        {
            _preActivation[index] = z;
        }

        _output[index] = _activation.Forward(z);
    }
}

/// <summary>
/// The dense backward's input-gradient epilogue at C = (batch, fanIn): dzPrev = sum * phiPrev'(zPrev, yPrev),
/// reading the previous layer's z and y at the same (row, column). Without a pre-activation view (an
/// activation whose derivative reads only y) y stands in for z.
/// </summary>
public readonly struct DerivativeEpilogue<TActivation> : IGpuEpilogue
    where TActivation : struct, IGpuActivation
{
    private readonly ArrayView<float> _dPreActivation;
    private readonly ArrayView<float> _preActivation;
    private readonly ArrayView<float> _output;
    private readonly int _width;
    private readonly TActivation _activation;

    /// <param name="dPreActivation">dzPrev (batch, width), written.</param>
    /// <param name="preActivation">zPrev (batch, width), or empty when the derivative reads only y.</param>
    /// <param name="output">yPrev (batch, width).</param>
    /// <param name="width">Row stride of all three: the previous layer's units (this layer's fanIn).</param>
    public DerivativeEpilogue(ArrayView<float> dPreActivation, ArrayView<float> preActivation, ArrayView<float> output, int width, TActivation activation)
    {
        _dPreActivation = dPreActivation;
        _preActivation = preActivation;
        _output = output;
        _width = width;
        _activation = activation;
    }

    /// <inheritdoc />
    public void Store(int row, int column, float sum)
    {
        long index = ((long)row * _width) + column;
        float y = _output[index];
        float z = _preActivation.Length > 0 ? _preActivation[index] : y;
        _dPreActivation[index] = sum * _activation.Derivative(z, y);
    }
}

/// <summary>
/// The dense backward's weight-gradient epilogue: dW[unit, input] = sum, dW (units, fanIn) row-major, then the
/// optimizer's update of that weight (<see cref="NoUpdate"/>: none). The GEMM calls it once per element, so each
/// weight is updated exactly once.
/// </summary>
/// <typeparam name="TRule">The update rule, a type parameter so each rule is its own kernel with only its own math.</typeparam>
public readonly struct WeightGradientEpilogue<TRule> : IGpuEpilogue
    where TRule : struct, IGpuUpdateRule
{
    private readonly ArrayView<float> _dWeight;
    private readonly int _fanIn;
    private readonly TRule _update;

    /// <param name="dWeight">dW (units, fanIn), overwritten.</param>
    /// <param name="fanIn">Row stride of dW.</param>
    /// <param name="update">The rule with its origin at W's first element.</param>
    public WeightGradientEpilogue(ArrayView<float> dWeight, int fanIn, TRule update)
    {
        _dWeight = dWeight;
        _fanIn = fanIn;
        _update = update;
    }

    /// <inheritdoc />
    public void Store(int row, int column, float sum)
    {
        long index = ((long)row * _fanIn) + column;
        _dWeight[index] = sum;
        _update.Apply(index, sum);
    }
}
