using Dsl.Gpu;
using System.Globalization;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// The add that closes a residual block: y = skip + scale * branch, all (rows, width). Backward: dskip (+)= dy and
/// dbranch (+)= scale * dy (see <see cref="ResidualAdd"/>).
/// </summary>
internal sealed class ResidualAddStep(string path, int skip, int branch, int output, float scale)
    : GraphStep(path, output)
{
    private readonly int[] _inputs = [skip, branch];

    public override int[] Inputs => _inputs;

    public override string Describe()
        => (scale == 1f ? "Add: skip + branch" : string.Create(CultureInfo.InvariantCulture, $"Add: skip + {scale} * branch"))
            + (ForwardFused ? ", computed by the branch's last dense layer" : string.Empty);

    public override void Forward(GraphPass pass, int row0, int rows)
    {
        if (!ForwardFused || pass.MeasuresSignal)
        {
            ResidualAdd.Forward(pass.Rows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows), pass.Rows(_inputs[1], row0, rows), scale);
        }
    }

    public override void Backward(GraphPass pass, int row0, int rows)
        // The branch's output has this add as its one consumer, so its gradient is overwritten.
        => ResidualAdd.Backward(pass.GradientRows(_inputs[0], row0, rows), pass.GradientRows(_inputs[1], row0, rows), pass.GradientRows(Output, row0, rows), scale, Accumulate[0]);

    /// <summary>The branch's scale.</summary>
    public float Scale => scale;

    /// <summary>Set when the dense layer that ends the branch computes this add in its forward epilogue: this forward then does nothing.</summary>
    public bool ForwardFused { get; set; }

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, new GpuResidualAdd(gpu));

    /// <summary>The GPU twin: the same add, one thread per element.</summary>
    private sealed class OnGpu(ResidualAddStep step, GpuResidualAdd add) : GpuGraphStep
    {
        public override void Forward(GpuGraphPass pass, int rows)
            => add.Forward(pass.Stream, pass.Rows(step.Output, rows), pass.Rows(step._inputs[0], rows), pass.Rows(step._inputs[1], rows), step.Scale, Count(pass, rows));

        public override void Backward(GpuGraphPass pass, int rows)
            => add.Backward(pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.GradientRows(step._inputs[1], rows), pass.GradientRows(step.Output, rows), step.Scale, step.Accumulate[0], Count(pass, rows));

        private int Count(GpuGraphPass pass, int rows) => rows * pass.Widths[step.Output];
    }
}
