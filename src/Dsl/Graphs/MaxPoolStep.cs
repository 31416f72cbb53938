using System.Globalization;
using Dsl.Gpu;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// Max pooling over (Channels, InHeight, InWidth) per sample (a one-dimensional pool has height 1), PyTorch's
/// nn.MaxPool1d and nn.MaxPool2d: y (Channels, OutHeight, OutWidth). Keeps per row the index of each output's chosen
/// input in its channel plane; the backward adds each output's gradient there (see <see cref="MaxPool"/>).
/// </summary>
internal sealed class MaxPoolStep(string path, int input, int output, PoolGeometry geometry, string op) : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];
    private int[] _argmax = [];

    public override int[] Inputs => _inputs;

    public override void EnsureCapacity(int rows) => _argmax = new int[checked(rows * geometry.OutputSize)];

    public override string Describe() => op;

    public override void Forward(GraphPass pass, int row0, int rows)
        => MaxPool.Forward(pass.Rows(Output, row0, rows), Argmax(row0, rows), pass.Rows(_inputs[0], row0, rows), rows, geometry);

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        if (_inputs[0] != 0)
        {
            MaxPool.Backward(pass.GradientRows(_inputs[0], row0, rows), pass.GradientRows(Output, row0, rows), Argmax(row0, rows), rows, geometry, Accumulate[0]);
        }
    }

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu)
        => throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
            $"Pooling layer '{Path}' runs on the CPU only: pooling has no GPU kernels in this version; create the network on Device.Cpu."));

    private Span<int> Argmax(int row0, int rows) => _argmax.AsSpan(row0 * geometry.OutputSize, rows * geometry.OutputSize);
}
