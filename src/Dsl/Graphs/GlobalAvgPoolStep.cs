using System.Globalization;
using Dsl.Gpu;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// Global average pooling: x (channels, positions) per sample, positions being every spatial element (length, or
/// height times width), to y (channels), the mean of each channel. Keeps nothing (see <see cref="GlobalAvgPool"/>).
/// </summary>
internal sealed class GlobalAvgPoolStep(string path, int input, int output, int channels, int positions) : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];

    public override int[] Inputs => _inputs;

    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"GlobalAvgPool ({channels}, {positions} positions) -> ({channels})");

    public override void Forward(GraphPass pass, int row0, int rows)
        => GlobalAvgPool.Forward(pass.Rows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows), rows, channels, positions);

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        if (_inputs[0] != 0)
        {
            GlobalAvgPool.Backward(pass.GradientRows(_inputs[0], row0, rows), pass.GradientRows(Output, row0, rows), rows, channels, positions, Accumulate[0]);
        }
    }

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, new GpuGlobalAvgPool(gpu));

    private int Channels => channels;

    private int Positions => positions;

    /// <summary>The GPU twin (see <see cref="GpuGlobalAvgPool"/>): one thread per (sample, channel) forward, one per input backward; keeps nothing.</summary>
    private sealed class OnGpu(GlobalAvgPoolStep step, GpuGlobalAvgPool pool) : GpuGraphStep
    {
        public override void Forward(GpuGraphPass pass, int rows)
            => pool.Forward(pass.Stream, pass.Rows(step.Output, rows), pass.Rows(step._inputs[0], rows), rows, step.Channels, step.Positions);

        public override void Backward(GpuGraphPass pass, int rows)
        {
            if (step._inputs[0] != 0)
            {
                pool.Backward(pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.GradientRows(step.Output, rows), rows, step.Channels, step.Positions, step.Accumulate[0]);
            }
        }
    }
}
