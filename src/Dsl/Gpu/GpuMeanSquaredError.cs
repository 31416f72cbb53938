using System.Globalization;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Dsl.Ops.MeanSquaredError"/>, as PyTorch's <c>nn.MSELoss</c> (reduction mean):
/// L = mean over batch and outputs of (output - target)^2, fused with its gradient
/// dOutput = 2 (output - target) / (batch outputs). Kernels write one loss per row, the row's mean over its
/// outputs, so the mean of the row losses (<see cref="GpuReduction.Mean"/>) is L and their sum
/// (<see cref="GpuReduction.Sum(AcceleratorStream, ArrayView{float}, int, ArrayView{float})"/>) is what the CPU
/// <c>Forward</c> returns.
/// </summary>
/// <remarks>
/// One warp per row (lanes take columns lane, lane + 32, ...; the squares are summed with shuffles). Squares are
/// summed in float (the CPU version uses double): about 1e-6 relative on the loss. The gradient is bit-identical
/// to the CPU's: the same float difference times the same float scale.
/// </remarks>
public sealed class GpuMeanSquaredError
{
    /// <summary>Warps (rows) per group of a launch.</summary>
    private const int WarpsPerGroup = 4;

    private readonly Accelerator _accelerator; // the one the launchers were loaded for
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> _forwardBackward;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _forward;
    private readonly int _warpSize;

    /// <summary>Loads (or takes from <paramref name="gpu"/>'s cache) the two kernels.</summary>
    public GpuMeanSquaredError(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _accelerator = gpu.Accelerator;
        _forwardBackward = gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>>(
            ForwardBackwardKernel,
            static accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(ForwardBackwardKernel));
        _forward = gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>>(
            ForwardKernel,
            static accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(ForwardKernel));
        _warpSize = gpu.WarpSize;
    }

    /// <summary>Per-row losses and the gradient of the mean loss.</summary>
    /// <param name="stream">Stream the launch is queued on, of the accelerator this object was loaded for (else <see cref="ArgumentException"/>).</param>
    /// <param name="output">Network outputs, (batch, outputs).</param>
    /// <param name="target">Targets, (batch, outputs).</param>
    /// <param name="dOutput">d loss / d output, (batch, outputs); overwritten.</param>
    /// <param name="rowLoss">Mean squared error of each sample over its outputs, (batch); overwritten.</param>
    /// <param name="batch">Samples; positive.</param>
    /// <param name="outputs">Elements per sample; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public void ForwardBackward(
        AcceleratorStream stream,
        ArrayView<float> output,
        ArrayView<float> target,
        ArrayView<float> dOutput,
        ArrayView<float> rowLoss,
        int batch,
        int outputs)
    {
        GpuReduction.CheckStream(stream, _accelerator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        long count = (long)batch * outputs;
        if (output.Length != count || target.Length != count || dOutput.Length != count || rowLoss.Length != batch)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected output, target and dOutput ({batch}, {outputs}) and rowLoss ({batch}); got {output.Length}, {target.Length}, {dOutput.Length} and {rowLoss.Length}."));
        }

        float scale = (float)(2.0 / count); // as the CPU version
        _forwardBackward(stream, Config(batch), output, target, dOutput, rowLoss, batch, outputs, scale);
    }

    /// <summary>Evaluation: per-row losses only. A zero batch launches nothing.</summary>
    /// <param name="stream">Stream the launch is queued on, of the accelerator this object was loaded for (else <see cref="ArgumentException"/>).</param>
    /// <param name="output">Network outputs, (batch, outputs).</param>
    /// <param name="target">Targets, (batch, outputs).</param>
    /// <param name="rowLoss">Mean squared error of each sample over its outputs, (batch); overwritten.</param>
    /// <param name="batch">Samples; non-negative.</param>
    /// <param name="outputs">Elements per sample; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public void Forward(
        AcceleratorStream stream,
        ArrayView<float> output,
        ArrayView<float> target,
        ArrayView<float> rowLoss,
        int batch,
        int outputs)
    {
        GpuReduction.CheckStream(stream, _accelerator);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        long count = (long)batch * outputs;
        if (output.Length != count || target.Length != count || rowLoss.Length != batch)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected output and target ({batch}, {outputs}) and rowLoss ({batch}); got {output.Length}, {target.Length} and {rowLoss.Length}."));
        }

        if (batch > 0)
        {
            _forward(stream, Config(batch), output, target, rowLoss, batch, outputs);
        }
    }

    /// <summary>One warp per row, <see cref="WarpsPerGroup"/> rows per group.</summary>
    private KernelConfig Config(int batch) => new((batch + WarpsPerGroup - 1) / WarpsPerGroup, WarpsPerGroup * _warpSize);

    /// <summary>
    /// Training kernel, one warp per row: dOutput = (output - target) scale with scale = 2 / (batch outputs);
    /// rowLoss[row] = sum_j (output - target)^2 / outputs.
    /// </summary>
    internal static void ForwardBackwardKernel(
        ArrayView<float> output,  // (batch, outputs)
        ArrayView<float> target,  // (batch, outputs)
        ArrayView<float> dOutput, // (batch, outputs)
        ArrayView<float> rowLoss, // (batch)
        int batch,
        int outputs,
        float scale)
    {
        int row = (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;
        if (row >= batch)
        {
            return; // the whole warp: rows are per warp
        }

        long start = (long)row * outputs;
        float sum = 0f;
        for (int j = Warp.LaneIdx; j < outputs; j += Warp.WarpSize)
        {
            float difference = output[start + j] - target[start + j];
            dOutput[start + j] = difference * scale;
            sum += difference * difference;
        }

        sum = GpuReduction.WarpSum(sum);
        if (Warp.IsFirstLane)
        {
            rowLoss[row] = sum / outputs;
        }
    }

    /// <summary>Evaluation kernel, one warp per row: rowLoss[row] = sum_j (output - target)^2 / outputs.</summary>
    internal static void ForwardKernel(
        ArrayView<float> output,  // (batch, outputs)
        ArrayView<float> target,  // (batch, outputs)
        ArrayView<float> rowLoss, // (batch)
        int batch,
        int outputs)
    {
        int row = (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;
        if (row >= batch)
        {
            return; // the whole warp
        }

        long start = (long)row * outputs;
        float sum = 0f;
        for (int j = Warp.LaneIdx; j < outputs; j += Warp.WarpSize)
        {
            float difference = output[start + j] - target[start + j];
            sum += difference * difference;
        }

        sum = GpuReduction.WarpSum(sum);
        if (Warp.IsFirstLane)
        {
            rowLoss[row] = sum / outputs;
        }
    }
}
