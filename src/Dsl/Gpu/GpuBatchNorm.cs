using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Dsl.Ops.BatchNorm"/> (PyTorch's <c>nn.BatchNorm1d</c> on (rows, features)), forward and
/// backward side by side, with the same arithmetic: one thread per feature sums its column over the whole batch in
/// float64, row by row as the CPU does, so the batch's statistics are the whole batch's and deterministic. Shapes: x, y,
/// dy, dx (rows, features); gain, bias, mean, variance, rstd, running mean and running variance (features).
/// </summary>
public sealed class GpuBatchNorm
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> _training;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> _evaluation;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _backward;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _running;

    /// <summary>Loads (once per accelerator) the four kernels.</summary>
    public GpuBatchNorm(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _training = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>)TrainingKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(TrainingKernel));
        _evaluation = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>)EvaluationKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(EvaluationKernel));
        _backward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>)BackwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(BackwardKernel));
        _running = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>)RunningKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(RunningKernel));
    }

    /// <summary>The training forward: the batch's mean, biased variance and rstd per feature (kept), then y.</summary>
    /// <param name="gain">g (features), or empty (then <paramref name="bias"/> is empty too).</param>
    public void ForwardTraining(
        AcceleratorStream stream, ArrayView<float> output, ArrayView<float> mean, ArrayView<float> variance, ArrayView<float> rstd, ArrayView<float> input,
        ArrayView<float> gain, ArrayView<float> bias, int rows, int features, float epsilon)
    {
        Check(output, input, rows, features);
        if (rows < 2)
        {
            throw new ArgumentException($"Batch normalisation in training needs at least 2 rows; got {rows}.", nameof(rows));
        }

        _training(stream, features, output, mean, variance, rstd, input, gain, bias, rows, features, epsilon);
    }

    /// <summary>The evaluation forward: normalised by the running statistics.</summary>
    public void ForwardEvaluation(
        AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, ArrayView<float> runningMean, ArrayView<float> runningVariance,
        ArrayView<float> gain, ArrayView<float> bias, int rows, int features, float epsilon)
    {
        Check(output, input, rows, features);
        if (rows > 0)
        {
            _evaluation(stream, features, output, input, runningMean, runningVariance, gain, bias, rows, features, epsilon);
        }
    }

    /// <summary>dx (+)= rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) per feature; dg and db overwritten (when present).</summary>
    public void Backward(
        AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dGain, ArrayView<float> dBias, ArrayView<float> dOutput, ArrayView<float> input,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> gain, int rows, int features, bool accumulate)
    {
        Check(dOutput, input, rows, features);
        _backward(stream, features, dInput, dGain, dBias, dOutput, input, mean, rstd, gain, rows, features, accumulate ? 1 : 0);
    }

    /// <summary>r = (1 - momentum) r + momentum * batch, the variance unbiased by rows / (rows - 1).</summary>
    public void UpdateRunningStatistics(
        AcceleratorStream stream, ArrayView<float> runningMean, ArrayView<float> runningVariance, ArrayView<float> mean, ArrayView<float> variance,
        int rows, int features, float momentum)
        => _running(stream, features, runningMean, runningVariance, mean, variance, rows, momentum);

    private static void Check(ArrayView<float> a, ArrayView<float> b, int rows, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (a.Length < (long)rows * features || b.Length < (long)rows * features)
        {
            throw new ArgumentException($"The views must hold (rows, features) = {(long)rows * features} floats.");
        }
    }

    /// <summary>One thread per feature: the column's statistics in float64, rounded once, then the normalised column.</summary>
    internal static void TrainingKernel(
        Index1D feature, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> variance, ArrayView<float> rstd, ArrayView<float> x,
        ArrayView<float> gain, ArrayView<float> bias, int rows, int features, float epsilon)
    {
        double sum = 0;
        for (int i = 0; i < rows; i++)
        {
            sum += x[((long)i * features) + feature];
        }

        float m = (float)(sum / rows);
        sum = 0;
        for (int i = 0; i < rows; i++)
        {
            double centred = x[((long)i * features) + feature] - m;
            sum += centred * centred;
        }

        float v = (float)(sum / rows);
        float r = (float)(1.0 / Math.Sqrt(v + (double)epsilon));
        mean[feature] = m;
        variance[feature] = v;
        rstd[feature] = r;
        Normalise(feature, y, x, m, r, gain, bias, rows, features);
    }

    /// <summary>One thread per feature: rstd from the running variance, then the normalised column.</summary>
    internal static void EvaluationKernel(
        Index1D feature, ArrayView<float> y, ArrayView<float> x, ArrayView<float> runningMean, ArrayView<float> runningVariance,
        ArrayView<float> gain, ArrayView<float> bias, int rows, int features, float epsilon)
    {
        float r = (float)(1.0 / Math.Sqrt(runningVariance[feature] + (double)epsilon));
        Normalise(feature, y, x, runningMean[feature], r, gain, bias, rows, features);
    }

    /// <summary>One thread per feature: the four column sums in float64, dg and db, then dx.</summary>
    internal static void BackwardKernel(
        Index1D feature, ArrayView<float> dx, ArrayView<float> dGain, ArrayView<float> dBias, ArrayView<float> dy, ArrayView<float> x,
        ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> gain, int rows, int features, int accumulate)
    {
        float m = mean[feature];
        float r = rstd[feature];
        bool affine = gain.Length > 0;
        double sumDxhat = 0;
        double sumDxhatXhat = 0;
        double sumDy = 0;
        double sumDyXhat = 0;
        for (int i = 0; i < rows; i++)
        {
            long at = ((long)i * features) + feature;
            double xhat = (x[at] - m) * (double)r;
            double dxhat = affine ? dy[at] * (double)gain[feature] : dy[at];
            sumDxhat += dxhat;
            sumDxhatXhat += dxhat * xhat;
            sumDy += dy[at];
            sumDyXhat += dy[at] * xhat;
        }

        if (affine)
        {
            dGain[feature] = (float)sumDyXhat;
            if (dBias.Length > 0)
            {
                dBias[feature] = (float)sumDy;
            }
        }

        for (int i = 0; i < rows; i++)
        {
            long at = ((long)i * features) + feature;
            double xhat = (x[at] - m) * (double)r;
            double dxhat = affine ? dy[at] * (double)gain[feature] : dy[at];
            float d = (float)(r * (dxhat - (sumDxhat / rows) - (xhat * sumDxhatXhat / rows)));
            dx[at] = accumulate != 0 ? dx[at] + d : d;
        }
    }

    /// <summary>One thread per feature.</summary>
    internal static void RunningKernel(Index1D feature, ArrayView<float> runningMean, ArrayView<float> runningVariance, ArrayView<float> mean, ArrayView<float> variance, int rows, float momentum)
    {
        double unbias = (double)rows / (rows - 1);
        runningMean[feature] = (float)(((1.0 - momentum) * runningMean[feature]) + (momentum * (double)mean[feature]));
        runningVariance[feature] = (float)(((1.0 - momentum) * runningVariance[feature]) + (momentum * variance[feature] * unbias));
    }

    private static void Normalise(int feature, ArrayView<float> y, ArrayView<float> x, float mean, float rstd, ArrayView<float> gain, ArrayView<float> bias, int rows, int features)
    {
        for (int i = 0; i < rows; i++)
        {
            long at = ((long)i * features) + feature;
            float xhat = (x[at] - mean) * rstd;
            y[at] = gain.Length == 0 ? xhat : (xhat * gain[feature]) + (bias.Length == 0 ? 0f : bias[feature]);
        }
    }
}
