using System.Globalization;
using Dsl.Gpu;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>A constant scale (see <see cref="Scale"/>): y = factor * x over (rows, width); backward dx (+)= factor * dy.</summary>
internal sealed class ScaleStep(string path, int input, int output, float factor)
    : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];

    public override int[] Inputs => _inputs;

    private float Factor => factor;

    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"Scale by {factor}");

    public override void Forward(GraphPass pass, int row0, int rows)
        => Scale.Forward(pass.Rows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows), factor);

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        if (_inputs[0] != 0)
        {
            Scale.Backward(pass.GradientRows(_inputs[0], row0, rows), pass.GradientRows(Output, row0, rows), factor, Accumulate[0]);
        }
    }

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, new GpuScale(gpu));

    /// <summary>The GPU twin: the same scaling, one thread per element.</summary>
    private sealed class OnGpu(ScaleStep step, GpuScale scale) : GpuGraphStep
    {
        public override void Forward(GpuGraphPass pass, int rows)
            => scale.Forward(pass.Stream, pass.Rows(step.Output, rows), pass.Rows(step._inputs[0], rows), step.Factor, rows * pass.Widths[step.Output]);

        public override void Backward(GpuGraphPass pass, int rows)
        {
            if (step._inputs[0] != 0)
            {
                scale.Backward(pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.GradientRows(step.Output, rows), step.Factor, step.Accumulate[0], rows * pass.Widths[step.Output]);
            }
        }
    }
}
