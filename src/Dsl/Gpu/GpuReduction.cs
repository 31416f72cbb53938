using System.Globalization;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// Sums (or averages) a device buffer into a one-element device buffer in one launch, so a training loop
/// turns per-row losses into the mean loss on the device and the host copies one float only when it asks.
/// </summary>
/// <remarks>
/// One group of up to 1024 threads (4 warps on the CPU simulator) walks the buffer in a grid-stride loop (four independent accumulators per
/// thread, coalesced reads), reduces each warp with shuffles, then the warps' partials through shared memory.
/// A single group needs no second launch, no zeroing of the result and no atomics, and its order of summation
/// is fixed: the same buffer gives the same bits every time. It uses one multiprocessor, which is ample for
/// per-row losses (a batch) and still a few tens of microseconds for millions of values.
/// The sum is accumulated in float: the relative error is about (count / groupSize + log2 groupSize) ulp in the
/// worst case, far less on average.
/// </remarks>
public sealed class GpuReduction
{
    /// <summary>Largest group the kernel supports: its shared memory holds one partial per warp, at most 32 warps.</summary>
    private const int MaxGroupSize = 1024;
    private const int MaxWarps = 32;

    /// <summary>Warps per group on ILGPU's CPU simulator.</summary>
    private const int SimulatorWarps = 4;

    private readonly Accelerator _accelerator; // the one the launchers were loaded for
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<float>, int, ArrayView<float>, float> _sumFloat;
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<int>, int, ArrayView<int>> _sumInt;
    private readonly int _groupSize;

    /// <summary>Loads (or takes from <paramref name="gpu"/>'s cache) the reduction kernels.</summary>
    public GpuReduction(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _accelerator = gpu.Accelerator;
        _sumFloat = gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, int, ArrayView<float>, float>>(
            SumKernel, static accelerator => accelerator.LoadKernel<ArrayView<float>, int, ArrayView<float>, float>(SumKernel));
        _sumInt = gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<int>, int, ArrayView<int>>>(
            CountKernel, static accelerator => accelerator.LoadKernel<ArrayView<int>, int, ArrayView<int>>(CountKernel));

        // A multiple of the warp size with at most MaxWarps warps (the shared-memory partials). ILGPU's CPU simulator
        // runs every thread of a group as an OS thread meeting at barriers, where 1024 threads cost a second per launch:
        // it gets 4 warps, which still exercises the shared-memory step.
        int warp = gpu.WarpSize;
        int wanted = gpu.Type == AcceleratorType.CPU ? SimulatorWarps * warp : MaxGroupSize;
        int limit = Math.Min(Math.Min(wanted, gpu.Accelerator.MaxNumThreadsPerGroup), warp * Math.Min(MaxWarps, warp));
        _groupSize = Math.Max(warp, limit / warp * warp);
    }

    /// <summary>Threads of the single group each launch uses.</summary>
    public int GroupSize => _groupSize;

    /// <summary>result[0] = values[0] + ... + values[count - 1] (zero when <paramref name="count"/> is zero).</summary>
    /// <param name="stream">Stream the launch is queued on, of the accelerator this object was loaded for (else <see cref="ArgumentException"/>).</param>
    /// <param name="values">At least <paramref name="count"/> floats.</param>
    /// <param name="count">Elements summed, from the start of <paramref name="values"/>; non-negative.</param>
    /// <param name="result">Receives the sum, (1) or longer; only element 0 is written.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or exceeds the buffer.</exception>
    /// <exception cref="ArgumentException"><paramref name="result"/> is empty.</exception>
    public void Sum(AcceleratorStream stream, ArrayView<float> values, int count, ArrayView<float> result)
    {
        Check(stream, values.Length, count, result.Length);
        _sumFloat(stream, new KernelConfig(1, _groupSize), values, count, result, 1f);
    }

    /// <summary>result[0] = (values[0] + ... + values[count - 1]) / count: the mean of per-row losses.</summary>
    /// <param name="stream">Stream the launch is queued on, of the accelerator this object was loaded for (else <see cref="ArgumentException"/>).</param>
    /// <param name="values">At least <paramref name="count"/> floats.</param>
    /// <param name="count">Elements averaged, from the start of <paramref name="values"/>; positive.</param>
    /// <param name="result">Receives the mean, (1) or longer; only element 0 is written.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive or exceeds the buffer.</exception>
    /// <exception cref="ArgumentException"><paramref name="result"/> is empty.</exception>
    public void Mean(AcceleratorStream stream, ArrayView<float> values, int count, ArrayView<float> result)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Check(stream, values.Length, count, result.Length);
        _sumFloat(stream, new KernelConfig(1, _groupSize), values, count, result, count);
    }

    /// <summary>result[0] = values[0] + ... + values[count - 1] in int (e.g. per-row correct flags into a count; wraps on overflow).</summary>
    /// <param name="stream">Stream the launch is queued on, of the accelerator this object was loaded for (else <see cref="ArgumentException"/>).</param>
    /// <param name="values">At least <paramref name="count"/> ints.</param>
    /// <param name="count">Elements summed, from the start of <paramref name="values"/>; non-negative.</param>
    /// <param name="result">Receives the sum, (1) or longer; only element 0 is written.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or exceeds the buffer.</exception>
    /// <exception cref="ArgumentException"><paramref name="result"/> is empty.</exception>
    public void Sum(AcceleratorStream stream, ArrayView<int> values, int count, ArrayView<int> result)
    {
        Check(stream, values.Length, count, result.Length);
        _sumInt(stream, new KernelConfig(1, _groupSize), values, count, result);
    }

    private void Check(AcceleratorStream stream, long valuesLength, int count, long resultLength)
    {
        CheckStream(stream, _accelerator);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > valuesLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(count),
                count,
                string.Create(CultureInfo.InvariantCulture, $"The buffer holds only {valuesLength} values."));
        }

        if (resultLength < 1)
        {
            throw new ArgumentException("The result buffer is empty; it needs one element.", "result");
        }
    }

    /// <summary>Throws unless <paramref name="stream"/> is a stream of <paramref name="accelerator"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException">The stream belongs to another accelerator.</exception>
    internal static void CheckStream(AcceleratorStream stream, Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!ReferenceEquals(stream.Accelerator, accelerator))
        {
            throw new ArgumentException(
                $"The stream belongs to the accelerator {stream.Accelerator.Name}, not to {accelerator.Name} whose kernels were loaded.",
                nameof(stream));
        }
    }

    /// <summary>Sum over the calling warp, every lane receiving it (a butterfly: each step adds the same pair on both lanes, so all lanes hold the same bits).</summary>
    internal static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            value += Warp.ShuffleXor(value, offset);
        }

        return value;
    }

    /// <summary>Integer <see cref="WarpSum(float)"/>.</summary>
    internal static int WarpSum(int value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset >>= 1)
        {
            value += Warp.ShuffleXor(value, offset);
        }

        return value;
    }

    /// <summary>
    /// One group (any size that is a multiple of the warp size, at most 32 warps): result[0] = sum(values[0..count)) / divisor.
    /// </summary>
    internal static void SumKernel(ArrayView<float> values, int count, ArrayView<float> result, float divisor)
    {
        ArrayView<float> partials = SharedMemory.Allocate<float>(MaxWarps); // (warps) one per warp
        int thread = Group.IdxX;
        int stride = Group.DimX;

        // Four independent accumulators keep four loads in flight per thread.
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int i = thread;
        for (; i < count - (3 * stride); i += 4 * stride)
        {
            s0 += values[i];
            s1 += values[i + stride];
            s2 += values[i + (2 * stride)];
            s3 += values[i + (3 * stride)];
        }

        for (; i < count; i += stride)
        {
            s0 += values[i];
        }

        float sum = WarpSum((s0 + s1) + (s2 + s3));
        if (Warp.IsFirstLane)
        {
            partials[Warp.WarpIdx] = sum;
        }

        Group.Barrier();
        if (Warp.WarpIdx == 0)
        {
            int warps = stride / Warp.WarpSize;
            float partial = Warp.LaneIdx < warps ? partials[Warp.LaneIdx] : 0f;
            float total = WarpSum(partial);
            if (Warp.IsFirstLane)
            {
                result[0] = total / divisor;
            }
        }
    }

    /// <summary>Integer <see cref="SumKernel"/> without the divisor.</summary>
    internal static void CountKernel(ArrayView<int> values, int count, ArrayView<int> result)
    {
        ArrayView<int> partials = SharedMemory.Allocate<int>(MaxWarps); // (warps) one per warp
        int stride = Group.DimX;
        int sum = 0;
        for (int i = Group.IdxX; i < count; i += stride)
        {
            sum += values[i];
        }

        sum = WarpSum(sum);
        if (Warp.IsFirstLane)
        {
            partials[Warp.WarpIdx] = sum;
        }

        Group.Barrier();
        if (Warp.WarpIdx == 0)
        {
            int warps = stride / Warp.WarpSize;
            int total = WarpSum(Warp.LaneIdx < warps ? partials[Warp.LaneIdx] : 0);
            if (Warp.IsFirstLane)
            {
                result[0] = total;
            }
        }
    }
}
