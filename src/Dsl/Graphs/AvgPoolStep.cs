using Dsl.Gpu;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// Average pooling over (Channels, InHeight, InWidth) per sample (a one-dimensional pool has height 1), PyTorch's
/// nn.AvgPool1d and nn.AvgPool2d with padding counted: y (Channels, OutHeight, OutWidth). Keeps nothing: the backward
/// spreads each output's gradient over its window (see <see cref="AvgPool"/>).
/// </summary>
internal sealed class AvgPoolStep(string path, int input, int output, PoolGeometry geometry, string op) : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];

    public override int[] Inputs => _inputs;

    public override string Describe() => op;

    public override void Forward(GraphPass pass, int row0, int rows)
        => AvgPool.Forward(pass.Rows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows), rows, geometry);

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        if (_inputs[0] != 0)
        {
            AvgPool.Backward(pass.GradientRows(_inputs[0], row0, rows), pass.GradientRows(Output, row0, rows), rows, geometry, Accumulate[0]);
        }
    }

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, new GpuAvgPool(gpu));

    private PoolGeometry Geometry => geometry;

    /// <summary>The GPU twin (see <see cref="GpuAvgPool"/>): one thread per output forward, one per input backward; keeps nothing.</summary>
    private sealed class OnGpu(AvgPoolStep step, GpuAvgPool pool) : GpuGraphStep
    {
        public override void Forward(GpuGraphPass pass, int rows)
            => pool.Forward(pass.Stream, pass.Rows(step.Output, rows), pass.Rows(step._inputs[0], rows), rows, step.Geometry);

        public override void Backward(GpuGraphPass pass, int rows)
        {
            if (step._inputs[0] != 0)
            {
                pool.Backward(pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.GradientRows(step.Output, rows), rows, step.Geometry, step.Accumulate[0]);
            }
        }
    }
}
