using Dsl.Gpu;
using System.Globalization;
using Dsl.Cpu;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// Layer normalisation of each row (see <see cref="LayerNorm"/>): x, y (rows, features); gain and bias (features) at
/// <see cref="GainOffset"/> and <see cref="BiasOffset"/> (-1 both without affine parameters). Keeps each row's mean and
/// 1 / std for the backward.
/// </summary>
/// <remarks>
/// Rows are independent, so a pass with threads (a batch not split across them) runs blocks of rows concurrently. The
/// backward's gain and bias gradients are then summed per block into scratch of this step's own and added in block
/// order, so a given thread count gives the same bits every time.
/// </remarks>
internal sealed class LayerNormStep(string path, int input, int output, int features, int gainOffset, int biasOffset, float epsilon)
    : GraphStep(path, output)
{
    /// <summary>Fewest rows a block gets when a pass runs the rows on several threads.</summary>
    private const int MinimumRowsPerBlock = 32;

    private readonly int[] _inputs = [input];
    private float[] _mean = [];
    private float[] _rstd = [];

    // Per block of rows: (2 x features) scratch for the backward, and the block's gain and bias gradients.
    private float[] _blockScratch = [];
    private float[] _blockGain = [];
    private float[] _blockBias = [];

    public override int[] Inputs => _inputs;

    public int GainOffset { get; } = gainOffset;

    public int BiasOffset { get; } = biasOffset;

    public override string Describe()
        => string.Create(CultureInfo.InvariantCulture, $"LayerNorm {features}, epsilon {epsilon}")
            + (GainOffset < 0 ? ", no affine parameters" : string.Create(CultureInfo.InvariantCulture, $", gain @{GainOffset}, bias @{BiasOffset}"));

    public override int ScratchLength => 2 * features;

    public override void EnsureCapacity(int rows)
    {
        _mean = new float[rows];
        _rstd = new float[rows];
    }

    public override void Forward(GraphPass pass, int row0, int rows)
    {
        int blocks = Blocks(pass.Workers, rows);
        if (blocks == 1)
        {
            ForwardRows(pass, row0, rows);
            return;
        }

        pass.Workers!.Run(blocks, new BlockTask(this, pass, row0, rows, blocks, backward: false));
    }

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        int blocks = Blocks(pass.Workers, rows);
        if (blocks == 1)
        {
            // On the network's input too: the gain's and bias's gradients need the whole backward (value 0's gradient is unread).
            BackwardRows(pass, row0, rows, Slice(pass.Gradients, GainOffset), Slice(pass.Gradients, BiasOffset), pass.Scratch.AsSpan(0, 2 * features));
            return;
        }

        EnsureBlockBuffers(blocks);
        pass.Workers!.Run(blocks, new BlockTask(this, pass, row0, rows, blocks, backward: true));
        Span<float> dGain = Slice(pass.Gradients, GainOffset);
        Span<float> dBias = Slice(pass.Gradients, BiasOffset);
        for (int block = 0; block < blocks; block++)
        {
            if (!dGain.IsEmpty)
            {
                ReadOnlySpan<float> part = _blockGain.AsSpan(block * features, features);
                if (block == 0)
                {
                    part.CopyTo(dGain);
                }
                else
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(dGain, part, dGain);
                }
            }

            if (!dBias.IsEmpty)
            {
                ReadOnlySpan<float> part = _blockBias.AsSpan(block * features, features);
                if (block == 0)
                {
                    part.CopyTo(dBias);
                }
                else
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(dBias, part, dBias);
                }
            }
        }
    }

    private void ForwardRows(GraphPass pass, int row0, int rows)
        => LayerNorm.Forward(
            pass.Rows(Output, row0, rows), _mean.AsSpan(row0, rows), _rstd.AsSpan(row0, rows), pass.Rows(_inputs[0], row0, rows),
            Slice(pass.Parameters, GainOffset), Slice(pass.Parameters, BiasOffset), rows, features, epsilon);

    private void BackwardRows(GraphPass pass, int row0, int rows, Span<float> dGain, Span<float> dBias, Span<float> scratch)
        => LayerNorm.Backward(
            pass.GradientRows(_inputs[0], row0, rows), dGain, dBias, pass.GradientRows(Output, row0, rows),
            pass.Rows(_inputs[0], row0, rows), _mean.AsSpan(row0, rows), _rstd.AsSpan(row0, rows), Slice(pass.Parameters, GainOffset),
            scratch, rows, features, Accumulate[0]);

    /// <summary>Block <paramref name="block"/>'s rows, forward or backward (its gain and bias gradients into its own scratch).</summary>
    private void RunBlock(GraphPass pass, int row0, int rows, int blocks, int block, bool backward)
    {
        int start = BatchSplit.Start(block, blocks, rows);
        int count = BatchSplit.Rows(block, blocks, rows);
        if (!backward)
        {
            ForwardRows(pass, row0 + start, count);
            return;
        }

        Span<float> dGain = GainOffset < 0 ? default : _blockGain.AsSpan(block * features, features);
        Span<float> dBias = BiasOffset < 0 ? default : _blockBias.AsSpan(block * features, features);
        BackwardRows(pass, row0 + start, count, dGain, dBias, _blockScratch.AsSpan(block * 2 * features, 2 * features));
    }

    private readonly struct BlockTask(LayerNormStep step, GraphPass pass, int row0, int rows, int blocks, bool backward) : ICpuTask
    {
        public void Execute(int index) => step.RunBlock(pass, row0, rows, blocks, index, backward);
    }

    private static int Blocks(CpuWorkers? workers, int rows)
        => workers is null ? 1 : Math.Max(1, Math.Min(workers.ThreadCount, rows / MinimumRowsPerBlock));

    private void EnsureBlockBuffers(int blocks)
    {
        if (_blockScratch.Length < blocks * 2 * features)
        {
            _blockScratch = new float[blocks * 2 * features];
            _blockGain = new float[blocks * features];
            _blockBias = new float[blocks * features];
        }
    }

    private Span<float> Slice(float[] buffer, int offset) => offset < 0 ? default : buffer.AsSpan(offset, features);

    private int Features => features;

    private float Epsilon => epsilon;

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu) => new OnGpu(this, gpu);

    /// <summary>The GPU twin: one thread per row, one per feature for the gain's and bias's gradients; keeps mean and rstd on the device.</summary>
    private sealed class OnGpu(LayerNormStep step, GpuAccelerator gpu) : GpuGraphStep
    {
        private readonly GpuLayerNorm _norm = new(gpu);
        private readonly DeviceBuffer<float> _mean = new(gpu, 0);
        private readonly DeviceBuffer<float> _rstd = new(gpu, 0);

        public override void EnsureCapacity(int rows)
        {
            _mean.EnsureLength(rows);
            _rstd.EnsureLength(rows);
        }

        public override void Forward(GpuGraphPass pass, int rows)
            => _norm.Forward(
                pass.Stream, pass.Rows(step.Output, rows), _mean.Slice(0, rows), _rstd.Slice(0, rows), pass.Rows(step._inputs[0], rows),
                pass.Parameter(step.GainOffset, step.Features), pass.Parameter(step.BiasOffset, step.Features), rows, step.Features, step.Epsilon);

        public override void Backward(GpuGraphPass pass, int rows)
            => _norm.Backward(
                pass.Stream, pass.GradientRows(step._inputs[0], rows), pass.ParameterGradient(step.GainOffset, step.Features), pass.ParameterGradient(step.BiasOffset, step.Features),
                pass.GradientRows(step.Output, rows), pass.Rows(step._inputs[0], rows), _mean.Slice(0, rows), _rstd.Slice(0, rows),
                pass.Parameter(step.GainOffset, step.Features), rows, step.Features, step.Accumulate[0]);

        public override void Dispose()
        {
            _mean.Dispose();
            _rstd.Dispose();
        }
    }
}
