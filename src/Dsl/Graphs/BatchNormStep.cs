using Dsl.Gpu;
using ILGPU;
using System.Globalization;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// Batch normalisation (see <see cref="BatchNorm"/>): x, y (rows, features); gain and bias (features) at
/// <see cref="GainOffset"/> and <see cref="BiasOffset"/> (-1 both without affine parameters); running mean and variance
/// at <see cref="StateOffset"/> of the state buffer. Training normalises by the whole batch's statistics (the step
/// needs the whole batch) and, once the step has passed its checks, moves the running statistics; evaluation
/// normalises by the running statistics.
/// </summary>
internal sealed class BatchNormStep(string path, int input, int output, int features, int gainOffset, int biasOffset, int stateOffset, float epsilon, float momentum)
    : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];

    private int Features => features;

    private float Epsilon => epsilon;

    private float Momentum => momentum;
    private readonly float[] _mean = new float[features];
    private readonly float[] _variance = new float[features];
    private readonly float[] _rstd = new float[features];

    public override int[] Inputs => _inputs;

    public int GainOffset { get; } = gainOffset;

    public int BiasOffset { get; } = biasOffset;

    public int StateOffset { get; } = stateOffset;

    public override string Describe()
        => string.Create(CultureInfo.InvariantCulture, $"BatchNorm {features}, epsilon {epsilon}, momentum {momentum}")
            + (GainOffset < 0 ? ", no affine parameters" : string.Create(CultureInfo.InvariantCulture, $", gain @{GainOffset}, bias @{BiasOffset}"))
            + string.Create(CultureInfo.InvariantCulture, $", running mean @{StateOffset} and variance @{StateOffset + features} of the state");

    public override int ScratchLength => 2 * features;

    public override bool NeedsWholeBatch => true;

    public override void Forward(GraphPass pass, int row0, int rows)
    {
        if (pass.Training)
        {
            BatchNorm.ForwardTraining(
                pass.Rows(Output, row0, rows), _mean, _variance, _rstd, pass.Rows(_inputs[0], row0, rows),
                Slice(pass.Parameters, GainOffset), Slice(pass.Parameters, BiasOffset), rows, features, epsilon);
            return;
        }

        BatchNorm.ForwardEvaluation(
            pass.Rows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows), RunningMean(pass), RunningVariance(pass),
            Slice(pass.Parameters, GainOffset), Slice(pass.Parameters, BiasOffset), pass.Scratch, rows, features, epsilon);
    }

    public override void Backward(GraphPass pass, int row0, int rows)
        => BatchNorm.Backward(
            pass.GradientRows(_inputs[0], row0, rows), Slice(pass.Gradients, GainOffset), Slice(pass.Gradients, BiasOffset), pass.GradientRows(Output, row0, rows),
            pass.Rows(_inputs[0], row0, rows), _mean, _rstd, Slice(pass.Parameters, GainOffset), rows, features, Accumulate[0]);

    public override void CommitTrainingStep(GraphPass pass, int rows)
        => BatchNorm.UpdateRunningStatistics(RunningMean(pass), RunningVariance(pass), _mean, _variance, rows, features, momentum);

    private Span<float> RunningMean(GraphPass pass) => pass.State.AsSpan(StateOffset, features);

    private Span<float> RunningVariance(GraphPass pass) => pass.State.AsSpan(StateOffset + features, features);

    private Span<float> Slice(float[] buffer, int offset) => offset < 0 ? default : buffer.AsSpan(offset, features);

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, gpu);

    /// <summary>
    /// The GPU twin: one thread per feature over the whole batch (the batch's statistics, in float64 as on the CPU), the
    /// running statistics in the device's state buffer, moved once the step's loss has passed its check.
    /// </summary>
    private sealed class OnGpu(BatchNormStep step, GpuAccelerator gpu) : GpuGraphStep
    {
        private readonly GpuBatchNorm _norm = new(gpu);
        private readonly DeviceBuffer<float> _mean = new(gpu, step.Features);
        private readonly DeviceBuffer<float> _variance = new(gpu, step.Features);
        private readonly DeviceBuffer<float> _rstd = new(gpu, step.Features);

        public override void Forward(GpuGraphPass pass, int rows)
        {
            int features = step.Features;
            ArrayView<float> gain = pass.Parameter(step.GainOffset, features);
            ArrayView<float> bias = pass.Parameter(step.BiasOffset, features);
            if (pass.Training)
            {
                _norm.ForwardTraining(pass.Stream, pass.Rows(step.Output, rows), _mean.View, _variance.View, _rstd.View, pass.Rows(step._inputs[0], rows), gain, bias, rows, features, step.Epsilon);
                return;
            }

            _norm.ForwardEvaluation(pass.Stream, pass.Rows(step.Output, rows), pass.Rows(step._inputs[0], rows), RunningMean(pass), RunningVariance(pass), gain, bias, rows, features, step.Epsilon);
        }

        public override void Backward(GpuGraphPass pass, int rows)
            => _norm.Backward(
                pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.ParameterGradient(step.GainOffset, step.Features), pass.ParameterGradient(step.BiasOffset, step.Features),
                pass.GradientRows(step.Output, rows), pass.Rows(step._inputs[0], rows), _mean.View, _rstd.View, pass.Parameter(step.GainOffset, step.Features),
                rows, step.Features, step.Accumulate[0]);

        public override void CommitTrainingStep(GpuGraphPass pass, int rows)
            => _norm.UpdateRunningStatistics(pass.Stream, RunningMean(pass), RunningVariance(pass), _mean.View, _variance.View, rows, step.Features, step.Momentum);

        public override void Dispose()
        {
            _mean.Dispose();
            _variance.Dispose();
            _rstd.Dispose();
        }

        private ArrayView<float> RunningMean(GpuGraphPass pass) => pass.State.Slice(step.StateOffset, step.Features);

        private ArrayView<float> RunningVariance(GpuGraphPass pass) => pass.State.Slice(step.StateOffset + step.Features, step.Features);
    }
}
