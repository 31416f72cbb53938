using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Dsl.Ops.RmsNorm"/>, forward and backward side by side. Shapes as there: x, y, dy and dx
/// (rows, features), gain g (features), rrms (rows), kept by the forward for the backward.
/// </summary>
/// <remarks>One thread per row for the forward and dx, one thread per feature for dg; deterministic, no atomics.</remarks>
public sealed class GpuRmsNorm
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _forward;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _backwardRows;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _backwardFeatures;

    /// <summary>Loads (once per accelerator) the three kernels.</summary>
    public GpuRmsNorm(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _forward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>)ForwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(ForwardKernel));
        _backwardRows = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>)BackwardRowsKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(BackwardRowsKernel));
        _backwardFeatures = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>)BackwardFeaturesKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(BackwardFeaturesKernel));
    }

    /// <summary>y = x * rrms * g per row, rrms = 1 / sqrt(mean(x^2) + epsilon) kept.</summary>
    /// <param name="gain">g (features), or empty.</param>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> rrms, ArrayView<float> input, ArrayView<float> gain, int rows, int features, float epsilon)
    {
        Check(output, input, rrms, rows, features);
        if (rows > 0)
        {
            _forward(stream, rows, output, rrms, input, gain, features, epsilon);
        }
    }

    /// <summary>dx (+)= rrms * G - rrms^3 * mean(G * x) * x with G = dy * g; dg = column sums of dy * x * rrms, overwritten.</summary>
    /// <param name="dInput">dx (rows, features): added to when <paramref name="accumulate"/>, else overwritten.</param>
    /// <param name="dGain">dg (features), or empty without a gain.</param>
    public void Backward(
        AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dGain, ArrayView<float> dOutput, ArrayView<float> input,
        ArrayView<float> rrms, ArrayView<float> gain, int rows, int features, bool accumulate)
    {
        Check(dOutput, input, rrms, rows, features);
        if (rows == 0)
        {
            return;
        }

        _backwardRows(stream, rows, dInput, dOutput, input, rrms, gain, features, accumulate ? 1 : 0);
        if (dGain.Length > 0)
        {
            _backwardFeatures(stream, features, dGain, dOutput, input, rrms, rows, features);
        }
    }

    private static void Check(ArrayView<float> a, ArrayView<float> b, ArrayView<float> perRow, int rows, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (a.Length < (long)rows * features || b.Length < (long)rows * features || perRow.Length < rows)
        {
            throw new ArgumentException($"The views must hold (rows, features) = {(long)rows * features} floats and rrms {rows}.");
        }
    }

    /// <summary>One thread per row.</summary>
    internal static void ForwardKernel(Index1D row, ArrayView<float> y, ArrayView<float> rrms, ArrayView<float> x, ArrayView<float> gain, int features, float epsilon)
    {
        long start = (long)(int)row * features;
        float squares = 0f;
        for (int j = 0; j < features; j++)
        {
            squares += x[start + j] * x[start + j];
        }

        float r = 1f / MathF.Sqrt((squares / features) + epsilon);
        for (int j = 0; j < features; j++)
        {
            float v = x[start + j] * r;
            y[start + j] = gain.Length > 0 ? v * gain[j] : v;
        }

        rrms[row] = r;
    }

    /// <summary>One thread per row: mean(G * x), then dx.</summary>
    internal static void BackwardRowsKernel(Index1D row, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> rrms, ArrayView<float> gain, int features, int accumulate)
    {
        long start = (long)(int)row * features;
        float r = rrms[row];
        float sum = 0f;
        for (int j = 0; j < features; j++)
        {
            float g = gain.Length > 0 ? dy[start + j] * gain[j] : dy[start + j];
            sum += g * x[start + j];
        }

        float coefficient = r * r * r * (sum / features);
        for (int j = 0; j < features; j++)
        {
            float g = gain.Length > 0 ? dy[start + j] * gain[j] : dy[start + j];
            float v = (r * g) - (coefficient * x[start + j]);
            dx[start + j] = accumulate != 0 ? dx[start + j] + v : v;
        }
    }

    /// <summary>One thread per feature: dg = sum over rows of dy * x * rrms.</summary>
    internal static void BackwardFeaturesKernel(Index1D feature, ArrayView<float> dGain, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> rrms, int rows, int features)
    {
        float g = 0f;
        for (int i = 0; i < rows; i++)
        {
            long at = ((long)i * features) + feature;
            g += dy[at] * x[at] * rrms[i];
        }

        dGain[feature] = g;
    }
}
