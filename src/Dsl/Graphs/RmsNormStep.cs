using Dsl.Gpu;
using System.Globalization;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// RMS normalisation of each row (see <see cref="RmsNorm"/>): x, y (rows, features); gain (features) at
/// <see cref="GainOffset"/> (-1 without one). Keeps each row's 1 / rms for the backward.
/// </summary>
internal sealed class RmsNormStep(string path, int input, int output, int features, int gainOffset, float epsilon)
    : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];
    private float[] _rrms = [];

    public override int[] Inputs => _inputs;

    public int GainOffset { get; } = gainOffset;

    public override string Describe()
        => string.Create(CultureInfo.InvariantCulture, $"RMSNorm {features}, epsilon {epsilon}")
            + (GainOffset < 0 ? ", no gain" : string.Create(CultureInfo.InvariantCulture, $", gain @{GainOffset}"));

    public override int ScratchLength => features;

    public override void EnsureCapacity(int rows) => _rrms = new float[rows];

    public override void Forward(GraphPass pass, int row0, int rows)
        => RmsNorm.Forward(pass.Rows(Output, row0, rows), _rrms.AsSpan(row0, rows), pass.Rows(_inputs[0], row0, rows), Gain(pass.Parameters), rows, features, epsilon);

    public override void Backward(GraphPass pass, int row0, int rows)
        => RmsNorm.Backward(
            pass.GradientRows(_inputs[0], row0, rows), Gain(pass.Gradients), pass.GradientRows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows),
            _rrms.AsSpan(row0, rows), Gain(pass.Parameters), pass.Scratch.AsSpan(0, features), rows, features, Accumulate[0]);

    private Span<float> Gain(float[] buffer) => GainOffset < 0 ? default : buffer.AsSpan(GainOffset, features);

    private int Features => features;

    private float Epsilon => epsilon;

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, gpu);

    /// <summary>The GPU twin: one thread per row, one per feature for the gain's gradient; keeps rrms on the device.</summary>
    private sealed class OnGpu(RmsNormStep step, GpuAccelerator gpu) : GpuGraphStep
    {
        private readonly GpuRmsNorm _norm = new(gpu);
        private readonly DeviceBuffer<float> _rrms = new(gpu, 0);

        public override void EnsureCapacity(int rows) => _rrms.EnsureLength(rows);

        public override void Forward(GpuGraphPass pass, int rows)
            => _norm.Forward(pass.Stream, pass.Rows(step.Output, rows), _rrms.Slice(0, rows), pass.Rows(step._inputs[0], rows), pass.Parameter(step.GainOffset, step.Features), rows, step.Features, step.Epsilon);

        public override void Backward(GpuGraphPass pass, int rows)
            => _norm.Backward(
                pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.ParameterGradient(step.GainOffset, step.Features), pass.GradientRows(step.Output, rows),
                pass.Rows(step._inputs[0], rows), _rrms.Slice(0, rows), pass.Parameter(step.GainOffset, step.Features), rows, step.Features, step.Accumulate[0]);

        public override void Dispose() => _rrms.Dispose();
    }
}
