using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>The GPU twin of <see cref="Dsl.Ops.Scale"/>: y = factor * x and dx (+)= factor * dy, one thread per element.</summary>
public sealed class GpuScale
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, float, int> _apply;

    /// <summary>Loads (once per accelerator) the kernel; forward and backward are the same scaling.</summary>
    public GpuScale(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _apply = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, float, int>)Kernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, float, int>(Kernel));
    }

    /// <summary>y = factor * x over <paramref name="count"/> elements.</summary>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, float factor, int count) => Launch(stream, output, input, factor, count, accumulate: false);

    /// <summary>dx (+)= factor * dy over <paramref name="count"/> elements.</summary>
    public void Backward(AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dOutput, float factor, bool accumulate, int count) => Launch(stream, dInput, dOutput, factor, count, accumulate);

    private void Launch(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, float factor, int count, bool accumulate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (output.Length < count || input.Length < count)
        {
            throw new ArgumentException($"Both views must hold {count} floats.");
        }

        if (count > 0)
        {
            _apply(stream, count, output, input, factor, accumulate ? 1 : 0);
        }
    }

    internal static void Kernel(Index1D i, ArrayView<float> output, ArrayView<float> input, float factor, int accumulate)
    {
        float v = factor * input[i];
        output[i] = accumulate != 0 ? output[i] + v : v;
    }
}
