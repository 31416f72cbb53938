using System.Globalization;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Dsl.Ops.SoftmaxCrossEntropy"/>: softmax over each row of logits followed by the
/// cross-entropy against an integer label, as PyTorch's <c>nn.CrossEntropyLoss</c> (reduction mean), fused with
/// its gradient. Kernels write one loss per row; <see cref="GpuReduction.Mean"/> (training) or
/// <see cref="GpuReduction.Sum(AcceleratorStream, ArrayView{float}, int, ArrayView{float})"/> (evaluation, as
/// the CPU <c>Forward</c> returns a sum) turns them into one number on the device.
/// </summary>
/// <remarks>
/// One warp per row, so any class count works: each lane takes columns lane, lane + 32, ..., then the row maximum
/// and the sum of e^(x - max) are reduced across the warp with shuffles. loss = ln(sum) - (x_label - max), which
/// neither overflows nor cancels catastrophically for huge logits. Unlike the CPU version (which sums in double),
/// sums are in float and e^x is <see cref="GpuMath.Exp"/>: results agree to a few ulp per element, about
/// 1e-6 relative on the loss. A row loss beyond the float range (|logits| near 1e38 and opposite signs) is +inf
/// where the CPU's double total stays finite. A label outside [0, classes) gives a NaN loss for its row (the CPU version asserts).
/// </remarks>
public sealed class GpuSoftmaxCrossEntropy
{
    /// <summary>Warps (rows) per group of a launch.</summary>
    private const int WarpsPerGroup = 4;

    private readonly Accelerator _accelerator; // the one the launchers were loaded for
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int> _forwardBackward;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int> _forward;
    private readonly int _warpSize;

    /// <summary>Loads (or takes from <paramref name="gpu"/>'s cache) the two kernels.</summary>
    public GpuSoftmaxCrossEntropy(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _accelerator = gpu.Accelerator;
        _forwardBackward = gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>>(
            ForwardBackwardKernel,
            static accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(ForwardBackwardKernel));
        _forward = gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int>>(
            ForwardKernel,
            static accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, int, int>(ForwardKernel));
        _warpSize = gpu.WarpSize;
    }

    /// <summary>
    /// Per-row losses and the gradient of the mean loss, dLogits = (softmax(logits) - onehot(label)) / batch.
    /// The mean loss is the mean of <paramref name="rowLoss"/>.
    /// </summary>
    /// <param name="stream">Stream the launch is queued on, of the accelerator this object was loaded for (else <see cref="ArgumentException"/>).</param>
    /// <param name="logits">Pre-softmax scores, (batch, classes).</param>
    /// <param name="labels">Class of each sample in [0, classes), (batch).</param>
    /// <param name="dLogits">d mean loss / d logits, (batch, classes); overwritten.</param>
    /// <param name="rowLoss">Loss of each sample, (batch); overwritten.</param>
    /// <param name="batch">Samples; positive.</param>
    /// <param name="classes">Classes; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public void ForwardBackward(
        AcceleratorStream stream,
        ArrayView<float> logits,
        ArrayView<int> labels,
        ArrayView<float> dLogits,
        ArrayView<float> rowLoss,
        int batch,
        int classes)
    {
        GpuReduction.CheckStream(stream, _accelerator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        long count = (long)batch * classes;
        if (logits.Length != count || dLogits.Length != count || labels.Length != batch || rowLoss.Length != batch)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected logits and dLogits ({batch}, {classes}), labels and rowLoss ({batch}); got {logits.Length}, {dLogits.Length}, {labels.Length} and {rowLoss.Length}."));
        }

        _forwardBackward(stream, Config(batch), logits, labels, dLogits, rowLoss, batch, classes);
    }

    /// <summary>
    /// Evaluation: per-row losses and per-row correct flags (1 where the argmax is the label, else 0; ties go
    /// to the lowest index and a NaN counts as the maximum, as <c>torch.argmax</c>). Summing both gives what the
    /// CPU <see cref="Dsl.Ops.SoftmaxCrossEntropy.Forward"/> returns. A zero batch launches nothing.
    /// </summary>
    /// <param name="stream">Stream the launch is queued on, of the accelerator this object was loaded for (else <see cref="ArgumentException"/>).</param>
    /// <param name="logits">Pre-softmax scores, (batch, classes).</param>
    /// <param name="labels">Class of each sample in [0, classes), (batch).</param>
    /// <param name="rowLoss">Loss of each sample, (batch); overwritten.</param>
    /// <param name="rowCorrect">1 where the sample's argmax is its label, else 0, (batch); overwritten.</param>
    /// <param name="batch">Samples; non-negative.</param>
    /// <param name="classes">Classes; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public void Forward(
        AcceleratorStream stream,
        ArrayView<float> logits,
        ArrayView<int> labels,
        ArrayView<float> rowLoss,
        ArrayView<int> rowCorrect,
        int batch,
        int classes)
    {
        GpuReduction.CheckStream(stream, _accelerator);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (logits.Length != (long)batch * classes || labels.Length != batch || rowLoss.Length != batch || rowCorrect.Length != batch)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected logits ({batch}, {classes}), labels, rowLoss and rowCorrect ({batch}); got {logits.Length}, {labels.Length}, {rowLoss.Length} and {rowCorrect.Length}."));
        }

        if (batch > 0)
        {
            _forward(stream, Config(batch), logits, labels, rowLoss, rowCorrect, batch, classes);
        }
    }

    /// <summary>One warp per row, <see cref="WarpsPerGroup"/> rows per group.</summary>
    private KernelConfig Config(int batch) => new((batch + WarpsPerGroup - 1) / WarpsPerGroup, WarpsPerGroup * _warpSize);

    /// <summary>Row handled by the calling warp: groups of whole warps, one row each.</summary>
    private static int Row() => (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;

    /// <summary>
    /// The larger of two values with NaN winning, as <c>TensorPrimitives.Max</c> (PTX's max.f32 would drop the NaN).
    /// Commutative up to NaN payloads, so a butterfly leaves every lane with the same value.
    /// </summary>
    private static float MaxPropagatingNaN(float a, float b) => (b > a || float.IsNaN(b)) ? b : a;

    /// <summary>
    /// Whether (a, indexA) ranks before (b, indexB) for the argmax: a NaN before any number, then the larger
    /// value, then (equal values or both NaN) the lower index. A lane without columns holds (-inf, int.MaxValue),
    /// which every real column outranks. A total order for distinct indices, so a butterfly agrees on all lanes.
    /// </summary>
    private static bool Outranks(float a, int indexA, float b, int indexB)
    {
        bool aNaN = float.IsNaN(a);
        bool bNaN = float.IsNaN(b);
        if (aNaN != bNaN)
        {
            return aNaN;
        }

        if (!aNaN && a != b)
        {
            return a > b;
        }

        return indexA < indexB;
    }

    /// <summary>
    /// Training kernel, one warp per row of logits (batch, classes): rowLoss[row] = ln sum_j e^(x_j - max) - (x_label - max);
    /// dLogits[row, j] = e^(x_j - max) / (sum batch) - [j == label] / batch.
    /// </summary>
    internal static void ForwardBackwardKernel(
        ArrayView<float> logits,  // (batch, classes)
        ArrayView<int> labels,    // (batch)
        ArrayView<float> dLogits, // (batch, classes)
        ArrayView<float> rowLoss, // (batch)
        int batch,
        int classes)
    {
        int row = Row();
        if (row >= batch)
        {
            return; // the whole warp: rows are per warp
        }

        int lane = Warp.LaneIdx;
        int step = Warp.WarpSize;
        long start = (long)row * classes;

        float max = float.NegativeInfinity;
        for (int j = lane; j < classes; j += step)
        {
            max = MaxPropagatingNaN(max, logits[start + j]);
        }

        for (int offset = step / 2; offset > 0; offset >>= 1)
        {
            max = MaxPropagatingNaN(max, Warp.ShuffleXor(max, offset));
        }

        float sum = 0f;
        for (int j = lane; j < classes; j += step)
        {
            sum += GpuMath.Exp(logits[start + j] - max);
        }

        sum = GpuReduction.WarpSum(sum); // >= 1 (the max's own term) unless the row holds NaN or is all -inf

        int label = labels[row];
        bool validLabel = (uint)label < (uint)classes;
        float batchF = batch;
        float scale = 1f / (sum * batchF);
        for (int j = lane; j < classes; j += step)
        {
            float e = GpuMath.Exp(logits[start + j] - max);
            dLogits[start + j] = j == label ? ((e / sum) - 1f) / batchF : e * scale;
        }

        if (Warp.IsFirstLane)
        {
            rowLoss[row] = validLabel ? GpuMath.Log(sum) - (logits[start + label] - max) : float.NaN;
        }
    }

    /// <summary>
    /// Evaluation kernel, one warp per row of logits (batch, classes): the loss as <see cref="ForwardBackwardKernel"/>
    /// and rowCorrect[row] = argmax == label. The argmax's value is the shift (the NaN-propagating maximum).
    /// </summary>
    internal static void ForwardKernel(
        ArrayView<float> logits,   // (batch, classes)
        ArrayView<int> labels,     // (batch)
        ArrayView<float> rowLoss,  // (batch)
        ArrayView<int> rowCorrect, // (batch)
        int batch,
        int classes)
    {
        int row = Row();
        if (row >= batch)
        {
            return; // the whole warp
        }

        int lane = Warp.LaneIdx;
        int step = Warp.WarpSize;
        long start = (long)row * classes;

        // Lane-local argmax over ascending columns, then across the warp.
        float best = float.NegativeInfinity;
        int bestIndex = int.MaxValue;
        for (int j = lane; j < classes; j += step)
        {
            float x = logits[start + j];
            if (Outranks(x, j, best, bestIndex))
            {
                best = x;
                bestIndex = j;
            }
        }

        for (int offset = step / 2; offset > 0; offset >>= 1)
        {
            float otherBest = Warp.ShuffleXor(best, offset);
            int otherIndex = Warp.ShuffleXor(bestIndex, offset);
            if (Outranks(otherBest, otherIndex, best, bestIndex))
            {
                best = otherBest;
                bestIndex = otherIndex;
            }
        }

        float sum = 0f;
        for (int j = lane; j < classes; j += step)
        {
            sum += GpuMath.Exp(logits[start + j] - best);
        }

        sum = GpuReduction.WarpSum(sum);

        if (Warp.IsFirstLane)
        {
            int label = labels[row];
            bool validLabel = (uint)label < (uint)classes;
            rowLoss[row] = validLabel ? GpuMath.Log(sum) - (logits[start + label] - best) : float.NaN;
            rowCorrect[row] = bestIndex == label ? 1 : 0;
        }
    }
}
