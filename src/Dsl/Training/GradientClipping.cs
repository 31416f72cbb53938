using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Training;

/// <summary>
/// Clipping by global norm, as torch.nn.utils.clip_grad_norm_ (L2, no foreach): norm = sqrt(sum over the whole gradient
/// buffer of g^2), accumulated in double; when norm &gt; maxNorm every gradient is multiplied by maxNorm / (norm + 1e-6).
/// </summary>
internal static class GradientClipping
{
    /// <summary>torch's guard against dividing by a zero norm.</summary>
    public const double NormGuard = 1e-6;

    /// <summary>The factor gradients of global norm <paramref name="norm"/> are multiplied by: 1 when within <paramref name="maxNorm"/>.</summary>
    public static float Factor(double norm, float maxNorm) => norm > maxNorm ? (float)(maxNorm / (norm + NormGuard)) : 1f;

    /// <summary>The global L2 norm of <paramref name="gradients"/>, squares summed in double.</summary>
    public static double Norm(ReadOnlySpan<float> gradients) // (parameterCount)
    {
        ref float g = ref MemoryMarshal.GetReference(gradients);
        nuint length = (nuint)gradients.Length;
        nuint i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            Vector256<double> low = Vector256<double>.Zero;
            Vector256<double> high = Vector256<double>.Zero;
            for (; i <= length - (nuint)Vector256<float>.Count; i += (nuint)Vector256<float>.Count)
            {
                (Vector256<double> a, Vector256<double> b) = Vector256.Widen(Vector256.LoadUnsafe(ref g, i));
                low = Vector256.FusedMultiplyAdd(a, a, low);
                high = Vector256.FusedMultiplyAdd(b, b, high);
            }

            sum = Vector256.Sum(low + high);
        }

        for (; i < length; i++)
        {
            double v = System.Runtime.CompilerServices.Unsafe.Add(ref g, i);
            sum += v * v;
        }

        return Math.Sqrt(sum);
    }

    /// <summary>Clips <paramref name="gradients"/> in place to global norm <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static double Clip(Span<float> gradients, float maxNorm)
    {
        double norm = Norm(gradients);
        float factor = Factor(norm, maxNorm);
        if (factor != 1f)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(gradients, factor, gradients);
        }

        return norm;
    }
}

/// <summary>
/// <see cref="GradientClipping"/> on a GPU, with no wait for the device: <see cref="Partials"/> threads each sum the squares
/// of a strided share of the buffer in double, one thread adds the partial sums and stores the norm and the factor, and one
/// thread per gradient multiplies it by the factor. The norm stays on the device until <see cref="ReadNorm"/>.
/// </summary>
internal sealed class GpuGradientClipping : IDisposable
{
    /// <summary>Partial sums: thread p sums gradients p, p + Partials, p + 2 Partials, ...</summary>
    public const int Partials = 4096;

    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<double>, int> _partial;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<double>, ArrayView<float>, float> _finish;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>> _scale;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _sums;   // (Partials)
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _result;  // [norm, factor]
    private readonly float[] _hostResult = new float[2];

    public GpuGradientClipping(GpuAccelerator gpu)
    {
        _partial = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<double>, int>)PartialKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<double>, int>(PartialKernel));
        _finish = gpu.Kernel(
            (Action<Index1D, ArrayView<double>, ArrayView<float>, float>)FinishKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<double>, ArrayView<float>, float>(FinishKernel));
        _scale = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>>)ScaleKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(ScaleKernel));
        _sums = gpu.Accelerator.Allocate1D<double>(Partials);
        _result = gpu.Accelerator.Allocate1D<float>(2);
    }

    /// <summary>Queues the clipping of <paramref name="gradients"/> to global norm <paramref name="maxNorm"/> on <paramref name="stream"/>.</summary>
    public void Clip(AcceleratorStream stream, ArrayView<float> gradients, float maxNorm)
    {
        int count = (int)gradients.Length;
        _partial(stream, Partials, gradients, _sums.View, count);
        _finish(stream, 1, _sums.View, _result.View, maxNorm);
        if (count > 0)
        {
            _scale(stream, count, gradients, _result.View);
        }
    }

    /// <summary>The norm before clipping of the last <see cref="Clip"/>; waits for the device.</summary>
    public float ReadNorm(AcceleratorStream stream)
    {
        _result.View.CopyToCPU(stream, _hostResult);
        stream.Synchronize();
        return _hostResult[0];
    }

    public void Dispose()
    {
        _sums.Dispose();
        _result.Dispose();
    }

    internal static void PartialKernel(Index1D p, ArrayView<float> gradients, ArrayView<double> sums, int count)
    {
        double sum = 0;
        for (int i = p; i < count; i += Partials)
        {
            double v = gradients[i];
            sum += v * v;
        }

        sums[p] = sum;
    }

    internal static void FinishKernel(Index1D index, ArrayView<double> sums, ArrayView<float> result, float maxNorm)
    {
        double total = 0;
        for (int p = 0; p < Partials; p++)
        {
            total += sums[p];
        }

        double norm = Math.Sqrt(total);
        result[0] = (float)norm;
        result[1] = norm > maxNorm ? (float)(maxNorm / (norm + GradientClipping.NormGuard)) : 1f;
    }

    internal static void ScaleKernel(Index1D i, ArrayView<float> gradients, ArrayView<float> result) => gradients[i] *= result[1];
}
