using System.Globalization;
using Dsl.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="GlobalAvgPool"/>, forward and backward side by side: x (batch, channels, positions),
/// batch first, row-major, a channel's positions contiguous (a (height, width) plane or a length), to y (batch,
/// channels), the mean over the positions.
/// </summary>
/// <remarks>
/// The forward runs one thread per (n, c) summing its positions in order (the CPU op sums them vectorised, so means
/// agree to float rounding); the backward one thread per input element, dx (+)= dy[n, c] / positions, the CPU's bits.
/// Deterministic, no atomics, no shared memory; the sizes are kernel arguments.
/// </remarks>
public sealed class GpuGlobalAvgPool
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int> _forward;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int> _backward;

    /// <summary>Loads (once per accelerator) the two kernels.</summary>
    public GpuGlobalAvgPool(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _forward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, int>)ForwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ForwardKernel));
        _backward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>)BackwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(BackwardKernel));
    }

    /// <summary>y[n, c] = (the sum of x[n, c, .]) / positions.</summary>
    /// <param name="output">y (batch, channels), overwritten.</param>
    /// <param name="input">x (batch, channels, positions).</param>
    /// <exception cref="ArgumentOutOfRangeException">The batch or channels are negative, positions not positive, or the input exceeds 2^31 floats.</exception>
    /// <exception cref="ArgumentException">A view is shorter than the sizes need.</exception>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, int batch, int channels, int positions)
    {
        ArgumentNullException.ThrowIfNull(stream);
        int planes = Check(batch, channels, positions);
        PoolGeometry.CheckLength(output.Length, planes, nameof(output), "floats");
        PoolGeometry.CheckLength(input.Length, (long)planes * positions, nameof(input), "floats");
        if (planes > 0)
        {
            _forward(stream, planes, output, input, positions);
        }
    }

    /// <summary>dx[n, c, .] (+)= dy[n, c] / positions: added to dx when <paramref name="accumulate"/>, else overwriting it.</summary>
    /// <param name="dInput">dx (batch, channels, positions).</param>
    /// <param name="dOutput">dy (batch, channels).</param>
    /// <exception cref="ArgumentOutOfRangeException">The batch or channels are negative, positions not positive, or the input exceeds 2^31 floats.</exception>
    /// <exception cref="ArgumentException">A view is shorter than the sizes need.</exception>
    public void Backward(AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dOutput, int batch, int channels, int positions, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(stream);
        int planes = Check(batch, channels, positions);
        PoolGeometry.CheckLength(dInput.Length, (long)planes * positions, nameof(dInput), "floats");
        PoolGeometry.CheckLength(dOutput.Length, planes, nameof(dOutput), "floats");
        if (planes > 0)
        {
            _backward(stream, planes * positions, dInput, dOutput, positions, accumulate ? 1 : 0);
        }
    }

    /// <summary>batch * channels, after checking the sizes and that the input indexes in 32 bits.</summary>
    private static int Check(int batch, int channels, int positions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        if (positions <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(positions), string.Create(CultureInfo.InvariantCulture, $"Global average pooling over {positions} positions: a channel needs at least one."));
        }

        long elements = (long)batch * channels * positions;
        if (elements > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, string.Create(CultureInfo.InvariantCulture,
                $"A batch of {batch} pools {elements} inputs; the GPU kernels index at most 2^31 - 1."));
        }

        return batch * channels;
    }

    /// <summary>One thread per (n, c): the sum of its positions in order, over their count.</summary>
    internal static void ForwardKernel(Index1D plane, ArrayView<float> y, ArrayView<float> x, int positions)
    {
        int start = (int)plane * positions;
        float sum = 0f;
        for (int p = 0; p < positions; p++)
        {
            sum += x[start + p];
        }

        y[plane] = sum / positions;
    }

    /// <summary>One thread per input element: its plane's dy over the positions, added to dx when <paramref name="accumulate"/> is 1.</summary>
    internal static void BackwardKernel(Index1D index, ArrayView<float> dx, ArrayView<float> dy, int positions, int accumulate)
    {
        float share = dy[(int)index / positions] / positions;
        dx[index] = accumulate != 0 ? dx[index] + share : share;
    }
}
