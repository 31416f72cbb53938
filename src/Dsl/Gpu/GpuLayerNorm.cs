using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Dsl.Ops.LayerNorm"/>, forward and backward side by side. Shapes as there: x, y, dy and dx
/// (rows, features), gain g and bias b (features), mean and rstd (rows), kept by the forward for the backward.
/// </summary>
/// <remarks>
/// One thread per row for the forward and dx (its sums over the row in float, in feature order), one thread per feature
/// for dg and db (sums over the rows in row order): deterministic, no atomics, no shared memory. Sums run in another
/// order than the CPU's vectorised ones, so results agree to float rounding.
/// </remarks>
public sealed class GpuLayerNorm
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> _forward;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _backwardRows;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _backwardFeatures;

    /// <summary>Loads (once per accelerator) the three kernels.</summary>
    public GpuLayerNorm(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _forward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>)ForwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(ForwardKernel));
        _backwardRows = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>)BackwardRowsKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(BackwardRowsKernel));
        _backwardFeatures = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>)BackwardFeaturesKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(BackwardFeaturesKernel));
    }

    /// <summary>y = (x - mean) * rstd * g + b per row; mean and rstd kept.</summary>
    /// <param name="gain">g (features), or empty for no affine parameters (then <paramref name="bias"/> is empty too).</param>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> input, ArrayView<float> gain, ArrayView<float> bias, int rows, int features, float epsilon)
    {
        Check(output, input, mean, rows, features);
        if (rows > 0)
        {
            _forward(stream, rows, output, mean, rstd, input, gain, bias, features, epsilon, gain.Length > 0 ? 1 : 0);
        }
    }

    /// <summary>
    /// dx (+)= rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) with dxhat = dy * g; dg = column sums of dy * xhat
    /// and db = column sums of dy, overwritten (when the layer has them).
    /// </summary>
    /// <param name="dInput">dx (rows, features): added to when <paramref name="accumulate"/>, else overwritten.</param>
    /// <param name="dGain">dg (features), or empty without affine parameters.</param>
    /// <param name="dBias">db (features), or empty.</param>
    public void Backward(
        AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dGain, ArrayView<float> dBias, ArrayView<float> dOutput,
        ArrayView<float> input, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> gain, int rows, int features, bool accumulate)
    {
        Check(dOutput, input, mean, rows, features);
        if (rows == 0)
        {
            return;
        }

        _backwardRows(stream, rows, dInput, dOutput, input, mean, rstd, gain, features, gain.Length > 0 ? 1 : 0, accumulate ? 1 : 0);
        if (dGain.Length > 0)
        {
            _backwardFeatures(stream, features, dGain, dBias, dOutput, input, mean, rstd, rows, features, dBias.Length > 0 ? 1 : 0);
        }
    }

    private static void Check(ArrayView<float> a, ArrayView<float> b, ArrayView<float> perRow, int rows, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (a.Length < (long)rows * features || b.Length < (long)rows * features || perRow.Length < rows)
        {
            throw new ArgumentException($"The views must hold (rows, features) = {(long)rows * features} floats and the per-row statistics {rows}.");
        }
    }

    /// <summary>One thread per row: mean, biased variance, rstd, then the normalised row.</summary>
    internal static void ForwardKernel(
        Index1D row, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> x,
        ArrayView<float> gain, ArrayView<float> bias, int features, float epsilon, int affine)
    {
        long start = (long)(int)row * features;
        float sum = 0f;
        for (int j = 0; j < features; j++)
        {
            sum += x[start + j];
        }

        float m = sum / features;
        float squares = 0f;
        for (int j = 0; j < features; j++)
        {
            float d = x[start + j] - m;
            squares += d * d;
        }

        float r = 1f / MathF.Sqrt((squares / features) + epsilon);
        for (int j = 0; j < features; j++)
        {
            float v = (x[start + j] - m) * r;
            if (affine != 0)
            {
                v *= gain[j];
                if (bias.Length > 0)
                {
                    v += bias[j];
                }
            }

            y[start + j] = v;
        }

        mean[row] = m;
        rstd[row] = r;
    }

    /// <summary>One thread per row: the two row means of the backward, then dx.</summary>
    internal static void BackwardRowsKernel(
        Index1D row, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> gain, int features, int affine, int accumulate)
    {
        long start = (long)(int)row * features;
        float m = mean[row];
        float r = rstd[row];
        float sumD = 0f;
        float sumDXhat = 0f;
        for (int j = 0; j < features; j++)
        {
            float d = affine != 0 ? dy[start + j] * gain[j] : dy[start + j];
            sumD += d;
            sumDXhat += d * ((x[start + j] - m) * r);
        }

        float meanD = sumD / features;
        float meanDXhat = sumDXhat / features;
        for (int j = 0; j < features; j++)
        {
            float d = affine != 0 ? dy[start + j] * gain[j] : dy[start + j];
            float xhat = (x[start + j] - m) * r;
            float v = (r * (d - meanD)) - (r * meanDXhat * xhat);
            dx[start + j] = accumulate != 0 ? dx[start + j] + v : v;
        }
    }

    /// <summary>One thread per feature: dg = sum over rows of dy * xhat, db = sum of dy.</summary>
    internal static void BackwardFeaturesKernel(
        Index1D feature, ArrayView<float> dGain, ArrayView<float> dBias, ArrayView<float> dy, ArrayView<float> x,
        ArrayView<float> mean, ArrayView<float> rstd, int rows, int features, int hasBias)
    {
        float g = 0f;
        float b = 0f;
        for (int i = 0; i < rows; i++)
        {
            long at = ((long)i * features) + feature;
            g += dy[at] * ((x[at] - mean[i]) * rstd[i]);
            b += dy[at];
        }

        dGain[feature] = g;
        if (hasBias != 0)
        {
            dBias[feature] = b;
        }
    }
}
