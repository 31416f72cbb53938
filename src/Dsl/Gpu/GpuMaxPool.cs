using System.Globalization;
using Dsl.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="MaxPool"/>, forward and backward side by side, batch first, each row-major:
/// x (batch, Channels, InHeight, InWidth) to y (batch, Channels, OutHeight, OutWidth), and argmax of y's shape holding
/// the CPU op's index h InWidth + w, within the output's channel plane, of the input it took (-1 for a window all in
/// the padding, whose y is -infinity). A one-dimensional pool has height 1 (<see cref="PoolGeometry.OneDimensional"/>).
/// </summary>
/// <remarks>
/// The forward runs one thread per output, visiting its window's taps inside the input in the CPU op's row-major
/// (kh, kw) order with its rule (greater than the maximum so far, or NaN), so y and argmax are the CPU's bit for bit.
/// The backward runs one thread per input (n, c, h, w): it gathers dy of every output whose window holds (h, w) and
/// whose argmax is it, in ascending output order as the CPU op's scatter adds them, so dx is the CPU's bit for bit too.
/// Deterministic, no atomics, no shared memory; shapes reach the kernels as a <see cref="PoolShape"/> of ints.
/// </remarks>
public sealed class GpuMaxPool
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolShape> _forward;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolShape, int> _backward;

    /// <summary>Loads (once per accelerator) the two kernels.</summary>
    public GpuMaxPool(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _forward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolShape>)ForwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolShape>(ForwardKernel));
        _backward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolShape, int>)BackwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolShape, int>(BackwardKernel));
    }

    /// <summary>y = maxpool(x) and each output's argmax.</summary>
    /// <param name="output">y (batch, Channels, OutHeight, OutWidth), overwritten.</param>
    /// <param name="argmax">(batch, Channels, OutHeight, OutWidth), overwritten; kept for the backward.</param>
    /// <param name="input">x (batch, Channels, InHeight, InWidth).</param>
    /// <exception cref="ArgumentOutOfRangeException">The geometry is invalid for a max pool, the batch negative, or a batch's input or output exceeds 2^31 floats.</exception>
    /// <exception cref="ArgumentException">A view is shorter than the geometry needs.</exception>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<int> argmax, ArrayView<float> input, int batch, in PoolGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PoolShape shape = PoolShape.Check(batch, geometry, average: false);
        PoolGeometry.CheckLength(output.Length, (long)batch * geometry.OutputSize, nameof(output), "floats");
        PoolGeometry.CheckLength(argmax.Length, (long)batch * geometry.OutputSize, nameof(argmax), "indices");
        PoolGeometry.CheckLength(input.Length, (long)batch * geometry.InputSize, nameof(input), "floats");
        if (batch > 0)
        {
            _forward(stream, batch * geometry.OutputSize, output, argmax, input, shape);
        }
    }

    /// <summary>
    /// dx[n, c, argmax[n, c, oh, ow]] (+)= dy[n, c, oh, ow] over every output (overlapping windows add): added to dx when
    /// <paramref name="accumulate"/>, else overwriting it. Outputs with argmax -1 add nothing.
    /// </summary>
    /// <param name="dInput">dx (batch, Channels, InHeight, InWidth).</param>
    /// <param name="dOutput">dy (batch, Channels, OutHeight, OutWidth).</param>
    /// <param name="argmax">The forward's indices.</param>
    /// <exception cref="ArgumentOutOfRangeException">The geometry is invalid for a max pool, the batch negative, or a batch's input or output exceeds 2^31 floats.</exception>
    /// <exception cref="ArgumentException">A view is shorter than the geometry needs.</exception>
    public void Backward(AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<int> argmax, int batch, in PoolGeometry geometry, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PoolShape shape = PoolShape.Check(batch, geometry, average: false);
        PoolGeometry.CheckLength(dInput.Length, (long)batch * geometry.InputSize, nameof(dInput), "floats");
        PoolGeometry.CheckLength(dOutput.Length, (long)batch * geometry.OutputSize, nameof(dOutput), "floats");
        PoolGeometry.CheckLength(argmax.Length, (long)batch * geometry.OutputSize, nameof(argmax), "indices");
        if (batch > 0)
        {
            _backward(stream, batch * geometry.InputSize, dInput, dOutput, argmax, shape, accumulate ? 1 : 0);
        }
    }

    /// <summary>One thread per output (plane, oh, ow): the maximum over the window's taps inside the input, and its index.</summary>
    internal static void ForwardKernel(Index1D index, ArrayView<float> y, ArrayView<int> argmax, ArrayView<float> x, PoolShape s)
    {
        int i = index;
        int ow = i % s.OutWidth;
        int rest = i / s.OutWidth;
        int oh = rest % s.OutHeight;
        int plane = (rest / s.OutHeight) * s.InHeight * s.InWidth;
        int top = (oh * s.StrideHeight) - s.PaddingHeight;
        int left = (ow * s.StrideWidth) - s.PaddingWidth;
        int khFirst = PoolShape.FirstTap(top, s.DilationHeight);
        int khEnd = PoolShape.EndTap(top, s.KernelHeight, s.DilationHeight, s.InHeight);
        int kwFirst = PoolShape.FirstTap(left, s.DilationWidth);
        int kwEnd = PoolShape.EndTap(left, s.KernelWidth, s.DilationWidth, s.InWidth);
        float max = float.NegativeInfinity;
        int chosen = -1;
        if (khFirst < khEnd && kwFirst < kwEnd)
        {
            chosen = ((top + (khFirst * s.DilationHeight)) * s.InWidth) + left + (kwFirst * s.DilationWidth); // taken when every tap is -infinity
            for (int kh = khFirst; kh < khEnd; kh++)
            {
                int row = (top + (kh * s.DilationHeight)) * s.InWidth;
                for (int kw = kwFirst; kw < kwEnd; kw++)
                {
                    int at = row + left + (kw * s.DilationWidth);
                    float value = x[plane + at];
                    if (value > max || float.IsNaN(value))
                    {
                        max = value;
                        chosen = at;
                    }
                }
            }
        }

        y[i] = max;
        argmax[i] = chosen;
    }

    /// <summary>
    /// One thread per input (plane, h, w): the sum of dy over the outputs whose window holds (h, w) and chose it, in
    /// ascending (oh, ow) order (taps kh and kw descending), added to dx when <paramref name="accumulate"/> is 1.
    /// </summary>
    internal static void BackwardKernel(Index1D index, ArrayView<float> dx, ArrayView<float> dy, ArrayView<int> argmax, PoolShape s, int accumulate)
    {
        int i = index;
        int inPositions = s.InHeight * s.InWidth;
        int position = i % inPositions;
        int outPlane = (i / inPositions) * s.OutHeight * s.OutWidth;
        int h = position / s.InWidth;
        int w = position - (h * s.InWidth);
        float sum = accumulate != 0 ? dx[i] : 0f;
        for (int kh = s.KernelHeight - 1; kh >= 0; kh--)
        {
            int oh = PoolShape.WindowHolding(h, kh, s.StrideHeight, s.PaddingHeight, s.DilationHeight, s.OutHeight);
            if (oh < 0)
            {
                continue;
            }

            for (int kw = s.KernelWidth - 1; kw >= 0; kw--)
            {
                int ow = PoolShape.WindowHolding(w, kw, s.StrideWidth, s.PaddingWidth, s.DilationWidth, s.OutWidth);
                if (ow < 0)
                {
                    continue;
                }

                int o = outPlane + (oh * s.OutWidth) + ow;
                if (argmax[o] == position)
                {
                    sum += dy[o];
                }
            }
        }

        dx[i] = sum;
    }
}

/// <summary>
/// A max or average pool's sizes as the GPU kernels of <see cref="GpuMaxPool"/> and <see cref="GpuAvgPool"/> read them:
/// the batch and <see cref="PoolGeometry"/>'s sizes, with the output's height and width worked out once on the host;
/// and the window arithmetic along one axis that both pools' kernels share. Public because ILGPU's CPU accelerator
/// emits, in an assembly of its own, a launcher that takes it as an argument.
/// </summary>
public readonly struct PoolShape
{
    public readonly int Batch;
    public readonly int Channels;
    public readonly int InHeight;
    public readonly int InWidth;
    public readonly int OutHeight;
    public readonly int OutWidth;
    public readonly int KernelHeight;
    public readonly int KernelWidth;
    public readonly int StrideHeight;
    public readonly int StrideWidth;
    public readonly int PaddingHeight;
    public readonly int PaddingWidth;
    public readonly int DilationHeight;
    public readonly int DilationWidth;

    /// <summary>The shape of <paramref name="batch"/> samples of the (validated) <paramref name="g"/>.</summary>
    private PoolShape(int batch, in PoolGeometry g)
    {
        Batch = batch;
        Channels = g.Channels;
        InHeight = g.InHeight;
        InWidth = g.InWidth;
        OutHeight = g.OutHeight;
        OutWidth = g.OutWidth;
        KernelHeight = g.KernelHeight;
        KernelWidth = g.KernelWidth;
        StrideHeight = g.StrideHeight;
        StrideWidth = g.StrideWidth;
        PaddingHeight = g.PaddingHeight;
        PaddingWidth = g.PaddingWidth;
        DilationHeight = g.DilationHeight;
        DilationWidth = g.DilationWidth;
    }

    /// <summary>The kernels' shape, after validating the geometry (as the CPU op does) and that a batch's input and output index in 32 bits.</summary>
    internal static PoolShape Check(int batch, in PoolGeometry geometry, bool average)
    {
        geometry.Validate(nameof(geometry), average);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if ((long)batch * geometry.InputSize > int.MaxValue || (long)batch * geometry.OutputSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, string.Create(CultureInfo.InvariantCulture,
                $"A batch of {batch} pools {(long)batch * geometry.InputSize} inputs to {(long)batch * geometry.OutputSize} outputs; the GPU kernels index at most 2^31 - 1."));
        }

        return new PoolShape(batch, geometry);
    }

    /// <summary>The first tap k of a window starting at <paramref name="start"/> with start + k dilation &gt;= 0 (as <see cref="PoolGeometry"/>'s taps).</summary>
    internal static int FirstTap(int start, int dilation) => start >= 0 ? 0 : (dilation - 1 - start) / dilation;

    /// <summary>One past the last tap k &lt; <paramref name="kernel"/> with start + k dilation &lt; <paramref name="length"/>; at most the first tap when none is.</summary>
    internal static int EndTap(int start, int kernel, int dilation, int length)
    {
        long past = (long)length - start;
        if (past <= 0)
        {
            return 0;
        }

        long end = (past + dilation - 1) / dilation;
        return end < kernel ? (int)end : kernel;
    }

    /// <summary>
    /// Along one axis, the output whose window puts tap <paramref name="tap"/> on input <paramref name="at"/>:
    /// o with o stride - padding + tap dilation = at and 0 &lt;= o &lt; <paramref name="outputs"/>, or -1 when there is none.
    /// </summary>
    internal static int WindowHolding(int at, int tap, int stride, int padding, int dilation, int outputs)
    {
        int offset = at + padding - (tap * dilation);
        if (offset < 0)
        {
            return -1;
        }

        int o = offset / stride;
        return o * stride == offset && o < outputs ? o : -1;
    }
}
