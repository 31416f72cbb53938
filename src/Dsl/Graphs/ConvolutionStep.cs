using System.Globalization;
using Dsl.Gpu;
using Dsl.Ops;
using ILGPU;

namespace Dsl.Graphs;

/// <summary>
/// A convolution with its activation, y = phi(conv(x, W) + b), one- or two-dimensional: a Conv1d over (channels, length)
/// is the two-dimensional geometry with height 1. Shapes per sample: x (InChannels, InHeight, InWidth), y and z
/// (OutChannels, OutHeight, OutWidth), PyTorch's layout; W (OutChannels, InChannels / Groups, KernelHeight, KernelWidth)
/// at <see cref="WeightOffset"/>, b (OutChannels) at <see cref="BiasOffset"/> (-1: none).
/// Keeps per row the columns (ColumnWidth, OutPositions of each row) for the weight gradient, z when phi' reads it,
/// and a channel-major buffer (OutChannels, OutPositions of each row) the GEMMs write and read; a slice of rows holds
/// both for its own rows (see <see cref="Conv2d"/>).
/// Backward: dz = dy * phi'(z, y) in place in dy's buffer, then dW, db and dx (+)= col2im(dZ W) (see <see cref="Conv2d"/>).
/// </summary>
internal sealed class ConvolutionStep<TActivation>(
    string path, int input, int output, Conv2dGeometry geometry, string op, int weightOffset, int biasOffset, TActivation activation, Activation kind, float slope)
    : GraphStep(path, output)
    where TActivation : struct, IActivation
{
    private readonly int[] _inputs = [input];
    private float[] _columns = [];
    private float[] _channelMajor = [];
    private float[] _preActivation = [];

    public override int[] Inputs => _inputs;

    public int WeightOffset { get; } = weightOffset;

    public int BiasOffset { get; } = biasOffset;

    public Conv2dGeometry Geometry { get; } = geometry;

    /// <summary>phi, for the GPU twin's element-wise kernels, which cannot read the struct.</summary>
    public Activation Kind => kind;

    public float Slope => slope;

    public override void EnsureCapacity(int rows)
    {
        _columns = new float[checked(rows * Geometry.OutPositions * Geometry.ColumnWidth)];
        _channelMajor = new float[checked(rows * Geometry.OutputSize)];
        if (activation.NeedsPreActivation)
        {
            _preActivation = new float[checked(rows * Geometry.OutputSize)];
        }
    }

    public override string Describe()
        => op + string.Create(CultureInfo.InvariantCulture, $", {kind}{(kind == Activation.LeakyRelu ? $"({slope})" : "")}, weight @{WeightOffset}")
            + (BiasOffset < 0 ? ", no bias" : string.Create(CultureInfo.InvariantCulture, $", bias @{BiasOffset}"))
            + (activation.NeedsPreActivation ? ", z kept" : string.Empty);

    public override void Forward(GraphPass pass, int row0, int rows)
    {
        Conv2dGeometry g = Geometry;
        Span<float> y = pass.Rows(Output, row0, rows);
        Span<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * g.OutputSize, rows * g.OutputSize) : y;
        Conv2d.Forward(z, Columns(row0, rows), ChannelMajor(row0, rows), pass.Rows(_inputs[0], row0, rows), Weight(pass.Parameters), Bias(pass.Parameters), rows, g, pass.Workers);
        if (typeof(TActivation) != typeof(Identity))
        {
            ActivationStep<TActivation>.Apply(y, z, activation);
        }
    }

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        Conv2dGeometry g = Geometry;
        Span<float> dz = pass.GradientRows(Output, row0, rows);
        if (typeof(TActivation) != typeof(Identity))
        {
            Span<float> y = pass.Rows(Output, row0, rows);
            ReadOnlySpan<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * g.OutputSize, rows * g.OutputSize) : y;
            ActivationBackward.Apply(dz, dz, z, y, activation);
        }

        // The network's input needs no gradient, unless the signal is measured.
        Span<float> dx = _inputs[0] == 0 && !pass.MeasuresSignal ? default : pass.GradientRows(_inputs[0], row0, rows);
        Conv2d.Backward(
            dx, Weight(pass.Gradients), Bias(pass.Gradients), dz, Columns(row0, rows), ChannelMajor(row0, rows), Weight(pass.Parameters),
            rows, g, Accumulate[0], pass.Workers);
    }

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, gpu);

    private Span<float> Weight(float[] buffer) => buffer.AsSpan(WeightOffset, Geometry.WeightLength);

    private Span<float> Bias(float[] buffer) => BiasOffset < 0 ? default : buffer.AsSpan(BiasOffset, Geometry.OutChannels);

    private Span<float> Columns(int row0, int rows)
    {
        int perRow = Geometry.OutPositions * Geometry.ColumnWidth;
        return _columns.AsSpan(row0 * perRow, rows * perRow);
    }

    private Span<float> ChannelMajor(int row0, int rows)
        => _channelMajor.AsSpan(row0 * Geometry.OutputSize, rows * Geometry.OutputSize);

    /// <summary>
    /// The GPU twin (see <see cref="GpuConvolution"/>): the forward writes z (into y when phi' does not read it), then
    /// y = phi(z) element-wise; the backward applies phi' in place in dy's buffer (dz), then dW, db and dx (+)= through
    /// the convolution, one thread per element written. Keeps z on the device when phi' reads it; no columns.
    /// </summary>
    private sealed class OnGpu : GpuGraphStep
    {
        private readonly ConvolutionStep<TActivation> _step;
        private readonly GpuConvolution _convolution;
        private readonly IGpuActivationForward? _activation;
        private readonly IGpuActivationBackward? _derivative;
        private readonly DeviceBuffer<float> _preActivation;

        public OnGpu(ConvolutionStep<TActivation> step, GpuAccelerator gpu)
        {
            _step = step;
            _convolution = new GpuConvolution(gpu);
            if (step.Kind != Activation.Identity)
            {
                _activation = GpuActivationDispatch.CreateForward(gpu, step.Kind, step.Slope);
                _derivative = GpuActivationDispatch.CreateBackward(gpu, step.Kind, step.Slope);
            }

            _preActivation = new DeviceBuffer<float>(gpu, 0);
        }

        private bool KeepsPreActivation => _derivative is { NeedsPreActivation: true };

        public override void EnsureCapacity(int rows)
        {
            if (KeepsPreActivation)
            {
                _preActivation.EnsureLength(checked((long)rows * _step.Geometry.OutputSize));
            }
        }

        public override void Forward(GpuGraphPass pass, int rows)
        {
            Conv2dGeometry g = _step.Geometry;
            ArrayView<float> y = pass.Rows(_step.Output, rows);
            ArrayView<float> z = PreActivation(y, rows);
            _convolution.Forward(pass.Stream, z, pass.Rows(_step._inputs[0], rows), Weight(pass.Parameters), Bias(pass.Parameters), rows, g);
            _activation?.Apply(pass.Stream, y, z, rows * g.OutputSize);
        }

        public override void Backward(GpuGraphPass pass, int rows)
        {
            Conv2dGeometry g = _step.Geometry;
            int input = _step._inputs[0];
            ArrayView<float> dz = pass.GradientRows(_step.Output, rows);
            if (_derivative is not null)
            {
                ArrayView<float> y = pass.Rows(_step.Output, rows);
                _derivative.Apply(pass.Stream, dz, dz, PreActivation(y, rows), y, rows * g.OutputSize);
            }

            // The network's input needs no gradient.
            ArrayView<float> dx = input == 0 ? default : pass.GradientRows(input, rows);
            _convolution.Backward(
                pass.Stream, dx, Weight(pass.Gradients), Bias(pass.Gradients), dz, pass.Rows(input, rows), Weight(pass.Parameters),
                rows, g, _step.Accumulate[0]);
        }

        public override void Dispose() => _preActivation.Dispose();

        /// <summary>z: the kept pre-activation when phi' reads it, else y's own buffer (phi applied in place).</summary>
        private ArrayView<float> PreActivation(ArrayView<float> y, int rows)
            => KeepsPreActivation ? _preActivation.Slice(0, (long)rows * _step.Geometry.OutputSize) : y;

        private ArrayView<float> Weight(DeviceBuffer<float> buffer) => buffer.Slice(_step.WeightOffset, _step.Geometry.WeightLength);

        private ArrayView<float> Bias(DeviceBuffer<float> buffer) => _step.BiasOffset < 0 ? default : buffer.Slice(_step.BiasOffset, _step.Geometry.OutChannels);
    }
}
