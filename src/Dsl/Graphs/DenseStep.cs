using System.Globalization;
using Dsl.Cpu;
using Dsl.Gpu;
using ILGPU;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// A dense layer with its activation in the GEMM's epilogue: y = phi(x W^T + b). Shapes: x (rows, fanIn), W (units,
/// fanIn) at <see cref="WeightOffset"/>, b (units) at <see cref="BiasOffset"/> (-1: none), y (rows, units); z (rows,
/// units) is kept only when phi' reads it.
/// Backward: dz = dy * phi'(z, y) in place in dy's buffer (every consumer of y has run, so dy is complete and read by
/// no one after), dW = dz^T x, db = column sums of dz, dx (+)= dz W.
/// Fusion (planned by <see cref="GraphBuilder"/>): when this layer's one consumer is another dense layer, that layer's
/// dx GEMM applies phi' in its epilogue and writes dz here directly (<see cref="DerivativeFused"/>), so this backward
/// skips its own pass over dy.
/// </summary>
/// <remarks>
/// <see cref="Kind"/> and <see cref="Slope"/> name phi for what cannot read the struct: the GPU sequence, which creates its
/// kernels with <see cref="CreateGpuLayer"/>.
/// </remarks>
internal sealed class DenseStep<TActivation>(
    string path, int input, int output, int fanIn, int units, int weightOffset, int biasOffset, TActivation activation,
    Activation kind, float slope, Func<GpuAccelerator, Activation, float, Activation, float, IGpuDenseLayer> gpuLayer)
    : GraphStep(path, output), IDenseStep
    where TActivation : struct, IActivation
{
    private readonly int[] _inputs = [input];
    private float[] _preActivation = [];

    public override int[] Inputs => _inputs;

    public int WeightOffset { get; } = weightOffset;

    public int BiasOffset { get; } = biasOffset;

    public int FanIn => fanIn;

    public int Units => units;

    public Activation Kind => kind;

    public float Slope => slope;

    public bool HasActivation => typeof(TActivation) != typeof(Identity);

    /// <summary>Set when the one consumer's dx GEMM writes dz (not dy) into this layer's output gradient.</summary>
    public bool DerivativeFused { get; set; }

    /// <summary>The dense layer whose output this one reads, when its derivative is fused into this layer's dx GEMM.</summary>
    public IDenseStep? FusedProducer { get; set; }

    /// <summary>
    /// Set when this layer (without activation) closes a residual branch and its forward epilogue computes the add
    /// (see <see cref="FuseResidual"/>); null otherwise.
    /// </summary>
    public ResidualAddStep? FusedAdd { get; private set; }

    /// <summary>
    /// Takes the add that reads this layer's output into the forward epilogue: y_add = skip + scale * (x W^T + b) is
    /// written straight into the add's output, and this layer's own output is not written (only the add reads it, and
    /// without activation this backward does not read it). The add's backward still writes dz = scale * dy here.
    /// </summary>
    public void FuseResidual(ResidualAddStep add)
    {
        FusedAdd = add;
        add.ForwardFused = true;
    }

    /// <summary>The same layer with <paramref name="phi"/> in its epilogue (an identity dense layer followed by a standalone activation).</summary>
    public DenseStep<TOther> WithActivation<TOther>(TOther phi, Activation otherKind, float otherSlope)
        where TOther : struct, IActivation
        => new(Path, _inputs[0], Output, fanIn, units, WeightOffset, BiasOffset, phi, otherKind, otherSlope, gpuLayer);

    /// <summary>This layer's GPU kernels, after a layer with activation <paramref name="previous"/> (Identity for the first layer).</summary>
    public IGpuDenseLayer CreateGpuLayer(GpuAccelerator gpu, Activation previous, float previousSlope)
        => gpuLayer(gpu, kind, slope, previous, previousSlope);

    /// <summary>dzThis = (dzConsumer W) * phi'(z, y): the consumer's dx GEMM with this layer's derivative in its epilogue.</summary>
    public void BackwardThroughConsumer(GraphPass pass, int row0, int rows, ReadOnlySpan<float> consumerDz, ReadOnlySpan<float> consumerWeight, int consumerUnits)
    {
        Span<float> y = pass.Rows(Output, row0, rows);
        ReadOnlySpan<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * units, rows * units) : y;
        Dense.BackwardInput(pass.GradientRows(Output, row0, rows), consumerDz, consumerWeight, z, y, rows, units, consumerUnits, activation, pass.Workers);
    }

    public override string Describe()
        => string.Create(CultureInfo.InvariantCulture, $"Dense {fanIn} -> {units}, {kind}{(kind == Activation.LeakyRelu ? $"({slope})" : "")}, weight @{WeightOffset}")
            + (BiasOffset < 0 ? ", no bias" : string.Create(CultureInfo.InvariantCulture, $", bias @{BiasOffset}"))
            + (activation.NeedsPreActivation ? ", z kept" : string.Empty)
            + (FusedAdd is { } add ? string.Create(CultureInfo.InvariantCulture, $", with {add.Path}'s add in its epilogue (writes v{add.Output})") : string.Empty);

    public override void EnsureCapacity(int rows)
    {
        if (activation.NeedsPreActivation)
        {
            _preActivation = new float[checked(rows * units)];
        }
    }

    public override void Forward(GraphPass pass, int row0, int rows)
    {
        if (FusedAdd is { } add && !pass.MeasuresSignal)
        {
            Dense.ForwardResidual(
                pass.Rows(add.Output, row0, rows), pass.Rows(_inputs[0], row0, rows), pass.Parameters.AsSpan(WeightOffset, units * fanIn), Bias(pass.Parameters),
                pass.Rows(add.Inputs[0], row0, rows), add.Scale, rows, fanIn, units, pass.Workers);
            return;
        }

        Span<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * units, rows * units) : default;
        Dense.Forward(
            pass.Rows(Output, row0, rows), z, pass.Rows(_inputs[0], row0, rows),
            pass.Parameters.AsSpan(WeightOffset, units * fanIn), Bias(pass.Parameters), rows, fanIn, units, activation, pass.Workers);
    }

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        Span<float> dz = pass.GradientRows(Output, row0, rows);
        if (HasActivation && (!DerivativeFused || pass.MeasuresSignal))
        {
            Span<float> y = pass.Rows(Output, row0, rows);
            ReadOnlySpan<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * units, rows * units) : y;
            ActivationBackward.Apply(dz, dz, z, y, activation);
        }

        ReadOnlySpan<float> x = pass.Rows(_inputs[0], row0, rows);
        Dense.BackwardWeights(pass.Gradients.AsSpan(WeightOffset, units * fanIn), Bias(pass.Gradients), dz, x, rows, fanIn, units, pass.Workers);
        if (FusedProducer is { } producer && !pass.MeasuresSignal)
        {
            producer.BackwardThroughConsumer(pass, row0, rows, dz, pass.Parameters.AsSpan(WeightOffset, units * fanIn), units);
        }
        else if (_inputs[0] != 0 || pass.MeasuresSignal)
        {
            Gemm.Multiply(
                Transpose.No, Transpose.No, rows, fanIn, units, dz, units, pass.Parameters.AsSpan(WeightOffset, units * fanIn), fanIn,
                pass.GradientRows(_inputs[0], row0, rows), fanIn, Accumulate[0], default(NoEpilogue), pass.Workers);
        }
    }

    private Span<float> Bias(float[] buffer) => BiasOffset < 0 ? default : buffer.AsSpan(BiasOffset, units);

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, gpu);

    /// <summary>
    /// The GPU twin in a graph (chains of dense layers run the fused sequences of <see cref="GpuDenseChain"/> instead):
    /// the forward GEMM with bias and phi in its epilogue; the backward applies phi' in place in dy (dz), then dW, db and
    /// dX = dz W, which goes through scratch and is added when the input's gradient has other writers.
    /// </summary>
    private sealed class OnGpu : GpuGraphStep
    {
        private readonly DenseStep<TActivation> _step;
        private readonly IGpuDenseLayer _layer;
        private readonly IGpuActivationBackward? _derivative;
        private readonly GpuBiasGradient _bias;
        private readonly DeviceBuffer<float> _preActivation;

        public OnGpu(DenseStep<TActivation> step, GpuAccelerator gpu)
        {
            _step = step;
            _layer = GpuActivationDispatch.CreateDense<LaunchWidths>(gpu, step.Kind, step.Slope, Activation.Identity, 0f);
            _derivative = step.Kind == Activation.Identity ? null : GpuActivationDispatch.CreateBackward(gpu, step.Kind, step.Slope);
            _bias = new GpuBiasGradient(gpu);
            _preActivation = new DeviceBuffer<float>(gpu, 0);
        }

        public override void EnsureCapacity(int rows)
        {
            if (_layer.NeedsPreActivation)
            {
                _preActivation.EnsureLength((long)rows * _step.Units);
            }
        }

        public override void Forward(GpuGraphPass pass, int rows)
            => _layer.Forward(
                pass.Stream, pass.Rows(_step.Output, rows), PreActivation(rows), pass.Rows(_step._inputs[0], rows),
                pass.Parameter(_step.WeightOffset, _step.Units * _step.FanIn), pass.Parameter(_step.BiasOffset, _step.Units), rows, _step.FanIn, _step.Units);

        public override void Backward(GpuGraphPass pass, int rows)
        {
            int units = _step.Units;
            int fanIn = _step.FanIn;
            int input = _step._inputs[0];
            ArrayView<float> dz = pass.GradientRows(_step.Output, rows);
            if (_derivative is not null)
            {
                ArrayView<float> y = pass.Rows(_step.Output, rows);
                _derivative.Apply(pass.Stream, dz, dz, _layer.NeedsPreActivation ? PreActivation(rows) : y, y, rows * units);
            }

            ArrayView<float> x = pass.Rows(input, rows);
            ArrayView<float> weight = pass.Parameter(_step.WeightOffset, units * fanIn);
            _layer.BackwardWeights(pass.Stream, pass.ParameterGradient(_step.WeightOffset, units * fanIn), dz, x, rows, fanIn, units);
            if (_step.BiasOffset >= 0)
            {
                _bias.Compute(pass.Stream, pass.ParameterGradient(_step.BiasOffset, units), dz, rows, units);
            }

            if (input == 0)
            {
                return;
            }

            ArrayView<float> dx = pass.GradientRows(input, rows);
            ArrayView<float> target = _step.Accumulate[0] ? pass.Scratch.Slice(0, (long)rows * fanIn) : dx;
            _layer.BackwardInput(pass.Stream, target, dz, weight, default, x, rows, fanIn, units);
            if (_step.Accumulate[0])
            {
                pass.Adds.AddInto(pass.Stream, dx, target, rows * fanIn);
            }
        }

        public override void Dispose() => _preActivation.Dispose();

        private ArrayView<float> PreActivation(int rows) => _layer.NeedsPreActivation ? _preActivation.Slice(0, (long)rows * _step.Units) : default;
    }
}

/// <summary>What the fusion rules need of a dense step, whatever its activation.</summary>
internal interface IDenseStep
{
    string Path { get; }

    int[] Inputs { get; }

    int Output { get; }

    int FanIn { get; }

    int Units { get; }

    Activation Kind { get; }

    float Slope { get; }

    int WeightOffset { get; }

    int BiasOffset { get; }

    IGpuDenseLayer CreateGpuLayer(GpuAccelerator gpu, Activation previous, float previousSlope);

    bool HasActivation { get; }

    bool DerivativeFused { get; set; }

    IDenseStep? FusedProducer { get; set; }

    void BackwardThroughConsumer(GraphPass pass, int row0, int rows, ReadOnlySpan<float> consumerDz, ReadOnlySpan<float> consumerWeight, int consumerUnits);
}
