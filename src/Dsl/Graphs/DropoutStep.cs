using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;
using System.Globalization;
using Dsl.Ops;
using Dsl.Training;

namespace Dsl.Graphs;

/// <summary>
/// Inverted dropout (see <see cref="Dropout"/>) over (rows, features): in training the mask is keyed by the network's
/// seed mixed with this layer's path, the step, and the element's index in the whole batch (row0 counts from the
/// batch's first row), so a batch split across threads draws the mask of one pass; in evaluation y = x.
/// </summary>
internal sealed class DropoutStep(string path, int input, int output, int features, float probability)
    : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];
    private readonly ulong _pathKey = Initializer.PathKey(path);

    public override int[] Inputs => _inputs;

    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Dropout p = {probability}, {features} features");

    private ulong Seed(GraphPass pass) => pass.Seed ^ _pathKey;

    public override void Forward(GraphPass pass, int row0, int rows)
    {
        if (!pass.Training || probability == 0f)
        {
            pass.Rows(_inputs[0], row0, rows).CopyTo(pass.Rows(Output, row0, rows));
            return;
        }

        Dropout.Forward(pass.Rows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows), rows, features, row0, probability, Seed(pass), pass.Step);
    }

    public override void Backward(GraphPass pass, int row0, int rows)
        => Dropout.Backward(
            pass.GradientRows(_inputs[0], row0, rows), pass.GradientRows(Output, row0, rows), rows, features, row0, probability, Seed(pass), pass.Step,
            Accumulate[0]);

    private int Features => features;

    private float Probability => probability;

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, new GpuDropout(gpu));

    /// <summary>The GPU twin: the CPU's mask bit for bit (the whole batch in one pass: row0 = 0).</summary>
    private sealed class OnGpu(DropoutStep step, GpuDropout dropout) : GpuGraphStep
    {
        public override void Forward(GpuGraphPass pass, int rows)
        {
            ArrayView<float> x = pass.Rows(step._inputs[0], rows);
            ArrayView<float> y = pass.Rows(step.Output, rows);
            if (!pass.Training || step.Probability == 0f)
            {
                x.CopyTo(pass.Stream, y);
                return;
            }

            dropout.Forward(pass.Stream, y, x, rows * step.Features, step.Probability, pass.Seed ^ step._pathKey, pass.Step);
        }

        public override void Backward(GpuGraphPass pass, int rows)
            => dropout.Backward(
                pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.GradientRows(step.Output, rows), rows * step.Features, step.Probability,
                pass.Seed ^ step._pathKey, pass.Step, step.Accumulate[0]);
    }
}
