using System.Globalization;
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

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu)
        => throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
            $"Pooling layer '{Path}' runs on the CPU only: pooling has no GPU kernels in this version; create the network on Device.Cpu."));
}
