using Dsl.Data;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Dsl.Ops.Dropout"/>: inverted dropout in training, forward and backward side by side, with
/// the CPU's mask bit for bit (<see cref="Dsl.Ops.Dropout.Keeps"/>: the element's index in the whole batch mixed with
/// the step's key by SplitMix64), so a network draws the same mask on every device. Shapes: all (count) flat.
/// </summary>
public sealed class GpuDropout
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ulong, uint, float, int> _apply;

    /// <summary>Loads (once per accelerator) the kernel; forward and backward are the same masked scaling.</summary>
    public GpuDropout(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _apply = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ulong, uint, float, int>)ApplyKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ulong, uint, float, int>(ApplyKernel));
    }

    /// <summary>y[i] = keep(i) ? x[i] / (1 - p) : 0, the mask of <paramref name="seed"/> at <paramref name="step"/>.</summary>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, int count, float probability, ulong seed, long step)
        => Launch(stream, output, input, count, probability, seed, step, accumulate: false);

    /// <summary>dx[i] (+)= keep(i) ? dy[i] / (1 - p) : 0, with the forward's mask (the same seed and step).</summary>
    public void Backward(AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dOutput, int count, float probability, ulong seed, long step, bool accumulate)
        => Launch(stream, dInput, dOutput, count, probability, seed, step, accumulate);

    private void Launch(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, int count, float probability, ulong seed, long step, bool accumulate)
    {
        uint threshold = Dsl.Ops.Dropout.Threshold(probability);
        if (output.Length < count || input.Length < count)
        {
            throw new ArgumentException($"Both views must hold {count} floats.");
        }

        if (count > 0)
        {
            _apply(stream, count, output, input, Dsl.Ops.Dropout.StepKey(seed, step), threshold, 1f / (1f - probability), accumulate ? 1 : 0);
        }
    }

    /// <summary>One thread per element: the CPU's keep test, then the scaled value or 0 (added when accumulating).</summary>
    internal static void ApplyKernel(Index1D i, ArrayView<float> output, ArrayView<float> input, ulong stepKey, uint threshold, float scale, int accumulate)
    {
        bool keep = (uint)(SplitMix64.Mix(unchecked(stepKey + ((ulong)(int)i * SplitMix64.GoldenGamma))) >> 40) >= threshold;
        float v = keep ? input[i] * scale : 0f;
        output[i] = accumulate != 0 ? output[i] + v : v;
    }
}
