using System.Globalization;
using Dsl.Gpu;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// A one-dimensional convolution with its activation: y = phi(conv(x, W) + b). Shapes per sample: x (InChannels,
/// InLength), y and z (OutChannels, OutLength), PyTorch's layout; W (OutChannels, InChannels / Groups, Kernel) at
/// <see cref="WeightOffset"/>, b (OutChannels) at <see cref="BiasOffset"/> (-1: none).
/// Keeps per row the columns X (OutLength, InChannels * Kernel) for the weight gradient, z when phi' reads it, and a
/// position-major buffer (OutLength, OutChannels) the GEMMs write and read.
/// Backward: dz = dy * phi'(z, y) in place in dy's buffer, then dW, db and dx (+)= col2im(dZ W) (see <see cref="Conv1d"/>).
/// </summary>
internal sealed class Conv1dStep<TActivation>(
    string path, int input, int output, Conv1dGeometry geometry, int weightOffset, int biasOffset, TActivation activation, Activation kind, float slope)
    : GraphStep(path, output)
    where TActivation : struct, IActivation
{
    private readonly int[] _inputs = [input];
    private float[] _columns = [];
    private float[] _positionMajor = [];
    private float[] _preActivation = [];

    public override int[] Inputs => _inputs;

    public int WeightOffset { get; } = weightOffset;

    public int BiasOffset { get; } = biasOffset;

    public Conv1dGeometry Geometry { get; } = geometry;

    public override void EnsureCapacity(int rows)
    {
        _columns = new float[checked(rows * Geometry.OutLength * Geometry.ColumnWidth)];
        _positionMajor = new float[checked(rows * Geometry.OutLength * Geometry.OutChannels)];
        if (activation.NeedsPreActivation)
        {
            _preActivation = new float[checked(rows * Geometry.OutputWidth)];
        }
    }

    public override string Describe()
    {
        Conv1dGeometry g = Geometry;
        return string.Create(CultureInfo.InvariantCulture,
            $"Conv1d ({g.InChannels}, {g.InLength}) -> ({g.OutChannels}, {g.OutLength}), kernel {g.Kernel}, stride {g.Stride}, padding {g.Padding}, dilation {g.Dilation}, groups {g.Groups}, {kind}{(kind == Activation.LeakyRelu ? $"({slope})" : "")}, weight @{WeightOffset}")
            + (BiasOffset < 0 ? ", no bias" : string.Create(CultureInfo.InvariantCulture, $", bias @{BiasOffset}"))
            + (activation.NeedsPreActivation ? ", z kept" : string.Empty);
    }

    public override void Forward(GraphPass pass, int row0, int rows)
    {
        Conv1dGeometry g = Geometry;
        Span<float> y = pass.Rows(Output, row0, rows);
        Span<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * g.OutputWidth, rows * g.OutputWidth) : y;
        Conv1d.Forward(z, Columns(row0, rows), PositionMajor(row0, rows), pass.Rows(_inputs[0], row0, rows), Weight(pass.Parameters), Bias(pass.Parameters), rows, g, pass.Workers);
        if (typeof(TActivation) != typeof(Identity))
        {
            ActivationStep<TActivation>.Apply(y, z, activation);
        }
    }

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        Conv1dGeometry g = Geometry;
        Span<float> dz = pass.GradientRows(Output, row0, rows);
        if (typeof(TActivation) != typeof(Identity))
        {
            Span<float> y = pass.Rows(Output, row0, rows);
            ReadOnlySpan<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * g.OutputWidth, rows * g.OutputWidth) : y;
            ActivationBackward.Apply(dz, dz, z, y, activation);
        }

        Span<float> dx = _inputs[0] == 0 ? default : pass.GradientRows(_inputs[0], row0, rows);
        Conv1d.Backward(
            dx, Weight(pass.Gradients), Bias(pass.Gradients), dz, Columns(row0, rows), PositionMajor(row0, rows), Weight(pass.Parameters),
            rows, g, Accumulate[0], pass.Workers);
    }

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu)
        => throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
            $"Convolution '{Path}' runs on the CPU only: Conv1d has no GPU kernels in this version; create the network on Device.Cpu."));

    private Span<float> Weight(float[] buffer) => buffer.AsSpan(WeightOffset, Geometry.WeightLength);

    private Span<float> Bias(float[] buffer) => BiasOffset < 0 ? default : buffer.AsSpan(BiasOffset, Geometry.OutChannels);

    private Span<float> Columns(int row0, int rows)
    {
        int perRow = Geometry.OutLength * Geometry.ColumnWidth;
        return _columns.AsSpan(row0 * perRow, rows * perRow);
    }

    private Span<float> PositionMajor(int row0, int rows)
    {
        int perRow = Geometry.OutLength * Geometry.OutChannels;
        return _positionMajor.AsSpan(row0 * perRow, rows * perRow);
    }
}
