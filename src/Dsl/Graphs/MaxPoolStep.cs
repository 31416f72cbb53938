using Dsl.Gpu;
using Dsl.Ops;
using ILGPU;

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

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, gpu);

    private Span<int> Argmax(int row0, int rows) => _argmax.AsSpan(row0 * geometry.OutputSize, rows * geometry.OutputSize);

    private PoolGeometry Geometry => geometry;

    /// <summary>The GPU twin (see <see cref="GpuMaxPool"/>): one thread per output forward, one per input backward; keeps the argmax on the device.</summary>
    private sealed class OnGpu(MaxPoolStep step, GpuAccelerator gpu) : GpuGraphStep
    {
        private readonly GpuMaxPool _pool = new(gpu);
        private readonly DeviceBuffer<int> _argmax = new(gpu, 0);

        public override void EnsureCapacity(int rows) => _argmax.EnsureLength(checked((long)rows * step.Geometry.OutputSize));

        public override void Forward(GpuGraphPass pass, int rows)
            => _pool.Forward(pass.Stream, pass.Rows(step.Output, rows), Argmax(rows), pass.Rows(step._inputs[0], rows), rows, step.Geometry);

        public override void Backward(GpuGraphPass pass, int rows)
        {
            if (step._inputs[0] != 0)
            {
                _pool.Backward(pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.GradientRows(step.Output, rows), Argmax(rows), rows, step.Geometry, step.Accumulate[0]);
            }
        }

        public override void Dispose() => _argmax.Dispose();

        private ArrayView<int> Argmax(int rows) => _argmax.Slice(0, (long)rows * step.Geometry.OutputSize);
    }
}
