using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Dsl.Ops.ResidualAdd"/>, y = skip + scale * branch, forward and backward side by side, and
/// the plain accumulation dst += src that a value with several consumers needs when a consumer's kernel cannot add its
/// share itself (a dense layer's dX GEMM). Shapes: all (count) flat.
/// </summary>
public sealed class GpuResidualAdd
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float> _forward;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int> _backward;

    /// <summary>Loads (once per accelerator) the two kernels.</summary>
    public GpuResidualAdd(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _forward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>)ForwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(ForwardKernel));
        _backward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int>)BackwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int>(BackwardKernel));
    }

    /// <summary>y = skip + scale * branch.</summary>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> skip, ArrayView<float> branch, float scale, int count)
    {
        Check(count, output, skip, branch);
        if (count > 0)
        {
            _forward(stream, count, output, skip, branch, scale);
        }
    }

    /// <summary>dSkip (+)= dy; dBranch = scale * dy (its one consumer is this add).</summary>
    public void Backward(AcceleratorStream stream, ArrayView<float> dSkip, ArrayView<float> dBranch, ArrayView<float> dOutput, float scale, bool accumulateSkip, int count)
    {
        Check(count, dSkip, dBranch, dOutput);
        if (count > 0)
        {
            _backward(stream, count, dSkip, dBranch, dOutput, scale, accumulateSkip ? 1 : 0);
        }
    }

    /// <summary>destination += source, the share of one more consumer of a value.</summary>
    public void AddInto(AcceleratorStream stream, ArrayView<float> destination, ArrayView<float> source, int count)
    {
        Check(count, destination, source, source);
        if (count > 0)
        {
            _forward(stream, count, destination, destination, source, 1f);
        }
    }

    private static void Check(int count, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (a.Length < count || b.Length < count || c.Length < count)
        {
            throw new ArgumentException($"Every view must hold {count} floats.");
        }
    }

    internal static void ForwardKernel(Index1D i, ArrayView<float> y, ArrayView<float> skip, ArrayView<float> branch, float scale)
        => y[i] = skip[i] + (scale * branch[i]);

    internal static void BackwardKernel(Index1D i, ArrayView<float> dSkip, ArrayView<float> dBranch, ArrayView<float> dy, float scale, int accumulateSkip)
    {
        float d = dy[i];
        dSkip[i] = accumulateSkip != 0 ? dSkip[i] + d : d;
        dBranch[i] = scale * d;
    }
}
