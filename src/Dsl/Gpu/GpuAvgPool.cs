using Dsl.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="AvgPool"/>, forward and backward side by side, with its semantics (PyTorch's defaults,
/// ceil_mode false, count_include_pad true): x (batch, Channels, InHeight, InWidth) to y (batch, Channels, OutHeight,
/// OutWidth), batch first, each row-major, every output the sum of its window's taps inside the input divided by
/// KernelHeight * KernelWidth, the padding counted as zeros. The geometry has dilation 1; a one-dimensional pool has
/// height 1 (<see cref="PoolGeometry.OneDimensional"/>).
/// </summary>
/// <remarks>
/// The forward runs one thread per output, summing its window's taps inside the input in the CPU op's row-major
/// (kh, kw) order; the backward one thread per input (n, c, h, w), gathering dy / (KernelHeight * KernelWidth) of every
/// output whose window holds it in ascending output order, as the CPU op's scatter adds them. Both give the CPU's
/// bits. Deterministic, no atomics, no shared memory; shapes reach the kernels as a <see cref="PoolShape"/> of ints.
/// </remarks>
public sealed class GpuAvgPool
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, PoolShape> _forward;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, PoolShape, int> _backward;

    /// <summary>Loads (once per accelerator) the two kernels.</summary>
    public GpuAvgPool(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _forward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, PoolShape>)ForwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolShape>(ForwardKernel));
        _backward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, PoolShape, int>)BackwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolShape, int>(BackwardKernel));
    }

    /// <summary>y[n, c, oh, ow] = (the sum of x over the window of (oh, ow)) / (KernelHeight * KernelWidth).</summary>
    /// <param name="output">y (batch, Channels, OutHeight, OutWidth), overwritten.</param>
    /// <param name="input">x (batch, Channels, InHeight, InWidth).</param>
    /// <exception cref="ArgumentOutOfRangeException">The geometry is invalid for an average pool, the batch negative, or a batch's input or output exceeds 2^31 floats.</exception>
    /// <exception cref="ArgumentException">A view is shorter than the geometry needs.</exception>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, int batch, in PoolGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PoolShape shape = PoolShape.Check(batch, geometry, average: true);
        PoolGeometry.CheckLength(output.Length, (long)batch * geometry.OutputSize, nameof(output), "floats");
        PoolGeometry.CheckLength(input.Length, (long)batch * geometry.InputSize, nameof(input), "floats");
        if (batch > 0)
        {
            _forward(stream, batch * geometry.OutputSize, output, input, shape);
        }
    }

    /// <summary>
    /// dx[n, c, h, w] (+)= the sum, over the windows holding (h, w), of dy / (KernelHeight * KernelWidth): added to dx when
    /// <paramref name="accumulate"/>, else overwriting it.
    /// </summary>
    /// <param name="dInput">dx (batch, Channels, InHeight, InWidth).</param>
    /// <param name="dOutput">dy (batch, Channels, OutHeight, OutWidth).</param>
    /// <exception cref="ArgumentOutOfRangeException">The geometry is invalid for an average pool, the batch negative, or a batch's input or output exceeds 2^31 floats.</exception>
    /// <exception cref="ArgumentException">A view is shorter than the geometry needs.</exception>
    public void Backward(AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dOutput, int batch, in PoolGeometry geometry, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PoolShape shape = PoolShape.Check(batch, geometry, average: true);
        PoolGeometry.CheckLength(dInput.Length, (long)batch * geometry.InputSize, nameof(dInput), "floats");
        PoolGeometry.CheckLength(dOutput.Length, (long)batch * geometry.OutputSize, nameof(dOutput), "floats");
        if (batch > 0)
        {
            _backward(stream, batch * geometry.InputSize, dInput, dOutput, shape, accumulate ? 1 : 0);
        }
    }

    /// <summary>One thread per output (plane, oh, ow): the sum of its window's taps inside the input over the kernel's size.</summary>
    internal static void ForwardKernel(Index1D index, ArrayView<float> y, ArrayView<float> x, PoolShape s)
    {
        int i = index;
        int ow = i % s.OutWidth;
        int rest = i / s.OutWidth;
        int oh = rest % s.OutHeight;
        int plane = (rest / s.OutHeight) * s.InHeight * s.InWidth;
        int top = (oh * s.StrideHeight) - s.PaddingHeight;
        int left = (ow * s.StrideWidth) - s.PaddingWidth;
        int khEnd = PoolShape.EndTap(top, s.KernelHeight, 1, s.InHeight);
        int kwFirst = PoolShape.FirstTap(left, 1);
        int kwEnd = PoolShape.EndTap(left, s.KernelWidth, 1, s.InWidth);
        float sum = 0f;
        for (int kh = PoolShape.FirstTap(top, 1); kh < khEnd; kh++)
        {
            int row = plane + ((top + kh) * s.InWidth) + left;
            for (int kw = kwFirst; kw < kwEnd; kw++)
            {
                sum += x[row + kw];
            }
        }

        y[i] = sum / ((float)s.KernelHeight * s.KernelWidth);
    }

    /// <summary>
    /// One thread per input (plane, h, w): the sum of dy / (KernelHeight * KernelWidth) over the outputs whose window
    /// holds (h, w), in ascending (oh, ow) order (taps kh and kw descending), added to dx when <paramref name="accumulate"/> is 1.
    /// </summary>
    internal static void BackwardKernel(Index1D index, ArrayView<float> dx, ArrayView<float> dy, PoolShape s, int accumulate)
    {
        int i = index;
        int inPositions = s.InHeight * s.InWidth;
        int position = i % inPositions;
        int outPlane = (i / inPositions) * s.OutHeight * s.OutWidth;
        int h = position / s.InWidth;
        int w = position - (h * s.InWidth);
        float divisor = (float)s.KernelHeight * s.KernelWidth;
        float sum = accumulate != 0 ? dx[i] : 0f;
        for (int kh = s.KernelHeight - 1; kh >= 0; kh--)
        {
            int oh = PoolShape.WindowHolding(h, kh, s.StrideHeight, s.PaddingHeight, 1, s.OutHeight);
            if (oh < 0)
            {
                continue;
            }

            for (int kw = s.KernelWidth - 1; kw >= 0; kw--)
            {
                int ow = PoolShape.WindowHolding(w, kw, s.StrideWidth, s.PaddingWidth, 1, s.OutWidth);
                if (ow >= 0)
                {
                    sum += dy[outPlane + (oh * s.OutWidth) + ow] / divisor;
                }
            }
        }

        dx[i] = sum;
    }
}
