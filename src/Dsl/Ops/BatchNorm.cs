namespace Dsl.Ops;

/// <summary>
/// Batch normalisation over the batch on the CPU, as PyTorch's <c>nn.BatchNorm1d(features)</c> on (rows, features):
/// forward and backward side by side. Shapes: x and y (rows, features); gain g, bias b, mean, rstd, running mean and
/// running variance (features).
/// Training: mean and the biased variance var over the rows of each feature, rstd = 1 / sqrt(var + epsilon),
/// y = (x - mean) * rstd * g + b; the running statistics move towards the batch's by <c>momentum</c>, the variance
/// unbiased (var * rows / (rows - 1)), as PyTorch does. Evaluation: y = (x - runningMean) / sqrt(runningVar + epsilon)
/// * g + b. Without affine parameters (empty g and b) the scale and shift are left out.
/// </summary>
/// <remarks>
/// The statistics need every row of the batch, so a batch is never split across threads through this op. Sums run in
/// float64 over the rows (the batch can be large), then round once.
/// </remarks>
public static class BatchNorm
{
    /// <summary>PyTorch's default epsilon.</summary>
    public const float DefaultEpsilon = 1e-5f;

    /// <summary>PyTorch's default momentum of the running statistics.</summary>
    public const float DefaultMomentum = 0.1f;

    /// <summary>The training forward: normalises by the batch's statistics, written to <paramref name="mean"/> and <paramref name="rstd"/>.</summary>
    /// <param name="output">y (rows, features), written.</param>
    /// <param name="mean">(features), written: each feature's mean over the rows.</param>
    /// <param name="variance">(features), written: each feature's biased variance over the rows.</param>
    /// <param name="rstd">(features), written: 1 / sqrt(var + epsilon).</param>
    /// <param name="input">x (rows, features).</param>
    /// <param name="gain">g (features), or empty.</param>
    /// <param name="bias">b (features), or empty.</param>
    /// <exception cref="ArgumentException">Fewer than 2 rows (a variance needs two), or a buffer of the wrong length.</exception>
    public static void ForwardTraining(
        Span<float> output, Span<float> mean, Span<float> variance, Span<float> rstd, ReadOnlySpan<float> input, ReadOnlySpan<float> gain, ReadOnlySpan<float> bias,
        int rows, int features, float epsilon)
    {
        CheckShapes(output.Length, input.Length, gain.Length, bias.Length, rows, features);
        if (rows < 2 || mean.Length < features || variance.Length < features || rstd.Length < features)
        {
            throw new ArgumentException($"Batch normalisation in training needs at least 2 rows (got {rows}) and mean, variance and rstd of (features) = {features} floats.");
        }

        Span<double> sum = features <= 1024 ? stackalloc double[features] : new double[features];
        sum.Clear();
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            for (int f = 0; f < features; f++)
            {
                sum[f] += x[f];
            }
        }

        for (int f = 0; f < features; f++)
        {
            mean[f] = (float)(sum[f] / rows);
            sum[f] = 0;
        }

        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            for (int f = 0; f < features; f++)
            {
                double centred = x[f] - mean[f];
                sum[f] += centred * centred;
            }
        }

        for (int f = 0; f < features; f++)
        {
            variance[f] = (float)(sum[f] / rows);
            rstd[f] = (float)(1.0 / Math.Sqrt(variance[f] + (double)epsilon));
        }

        Normalise(output, input, mean, rstd, gain, bias, rows, features);
    }

    /// <summary>Moves the running statistics towards a training batch's: r = (1 - momentum) r + momentum * batch, the variance unbiased.</summary>
    /// <param name="runningMean">(features), updated.</param>
    /// <param name="runningVariance">(features), updated.</param>
    /// <param name="mean">(features), the batch's, from <see cref="ForwardTraining"/>.</param>
    /// <param name="variance">(features), the batch's biased variance, from <see cref="ForwardTraining"/>.</param>
    public static void UpdateRunningStatistics(Span<float> runningMean, Span<float> runningVariance, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, int rows, int features, float momentum)
    {
        double unbias = (double)rows / (rows - 1);
        for (int f = 0; f < features; f++)
        {
            runningMean[f] = (float)(((1.0 - momentum) * runningMean[f]) + (momentum * (double)mean[f]));
            runningVariance[f] = (float)(((1.0 - momentum) * runningVariance[f]) + (momentum * variance[f] * unbias));
        }
    }

    /// <summary>The evaluation forward: normalises by the running statistics.</summary>
    /// <param name="scratch">(2 x features) floats the call may overwrite.</param>
    public static void ForwardEvaluation(
        Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVariance, ReadOnlySpan<float> gain, ReadOnlySpan<float> bias,
        Span<float> scratch, int rows, int features, float epsilon)
    {
        CheckShapes(output.Length, input.Length, gain.Length, bias.Length, rows, features);
        Span<float> rstd = scratch.Slice(0, features);
        for (int f = 0; f < features; f++)
        {
            rstd[f] = (float)(1.0 / Math.Sqrt(runningVariance[f] + (double)epsilon));
        }

        Normalise(output, input, runningMean, rstd, gain, bias, rows, features);
    }

    /// <summary>
    /// The training backward, with xhat = (x - mean) * rstd and dxhat = dy * g (dy without affine parameters), per
    /// feature over the rows: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dg = sum of dy * xhat,
    /// db = sum of dy.
    /// </summary>
    /// <param name="dInput">dx (rows, features): added to when <paramref name="accumulate"/>, else overwritten.</param>
    /// <param name="dGain">dg (features), overwritten; empty without affine parameters.</param>
    /// <param name="dBias">db (features), overwritten; empty without affine parameters.</param>
    /// <param name="dOutput">dy (rows, features).</param>
    /// <param name="input">x (rows, features), as the forward read it.</param>
    /// <param name="mean">(features), as the training forward wrote it.</param>
    /// <param name="rstd">(features), as the training forward wrote it.</param>
    /// <param name="gain">g (features), or empty.</param>
    public static void Backward(
        Span<float> dInput, Span<float> dGain, Span<float> dBias, ReadOnlySpan<float> dOutput, ReadOnlySpan<float> input,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> gain, int rows, int features, bool accumulate)
    {
        CheckShapes(dInput.Length, input.Length, gain.Length, dBias.Length, rows, features);
        if (dOutput.Length < rows * features || dGain.Length != gain.Length)
        {
            throw new ArgumentException($"dOutput must hold (rows, features) = {rows * features} floats and dGain match gain.");
        }

        // Per feature: sums over the rows of dxhat and of dxhat * xhat, and of dy and dy * xhat for the parameters.
        Span<double> sums = features <= 256 ? stackalloc double[4 * features] : new double[4 * features];
        sums.Clear();
        Span<double> sumDxhat = sums.Slice(0, features);
        Span<double> sumDxhatXhat = sums.Slice(features, features);
        Span<double> sumDy = sums.Slice(2 * features, features);
        Span<double> sumDyXhat = sums.Slice(3 * features, features);
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            ReadOnlySpan<float> dy = dOutput.Slice(row * features, features);
            for (int f = 0; f < features; f++)
            {
                double xhat = (x[f] - mean[f]) * (double)rstd[f];
                double dxhat = gain.IsEmpty ? dy[f] : dy[f] * (double)gain[f];
                sumDxhat[f] += dxhat;
                sumDxhatXhat[f] += dxhat * xhat;
                sumDy[f] += dy[f];
                sumDyXhat[f] += dy[f] * xhat;
            }
        }

        for (int f = 0; f < dGain.Length; f++)
        {
            dGain[f] = (float)sumDyXhat[f];
        }

        for (int f = 0; f < dBias.Length; f++)
        {
            dBias[f] = (float)sumDy[f];
        }

        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            ReadOnlySpan<float> dy = dOutput.Slice(row * features, features);
            Span<float> dx = dInput.Slice(row * features, features);
            for (int f = 0; f < features; f++)
            {
                double xhat = (x[f] - mean[f]) * (double)rstd[f];
                double dxhat = gain.IsEmpty ? dy[f] : dy[f] * (double)gain[f];
                float d = (float)(rstd[f] * (dxhat - (sumDxhat[f] / rows) - (xhat * sumDxhatXhat[f] / rows)));
                dx[f] = accumulate ? dx[f] + d : d;
            }
        }
    }

    private static void Normalise(Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> gain, ReadOnlySpan<float> bias, int rows, int features)
    {
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            Span<float> y = output.Slice(row * features, features);
            for (int f = 0; f < features; f++)
            {
                float xhat = (x[f] - mean[f]) * rstd[f];
                y[f] = gain.IsEmpty ? xhat : (xhat * gain[f]) + (bias.IsEmpty ? 0f : bias[f]);
            }
        }
    }

    private static void CheckShapes(int outputLength, int inputLength, int gainLength, int biasLength, int rows, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long size = (long)rows * features;
        if (outputLength < size || inputLength < size)
        {
            throw new ArgumentException($"Input and output must hold (rows, features) = {size} floats.");
        }

        if ((gainLength != 0 && gainLength != features) || (biasLength != 0 && biasLength != features))
        {
            throw new ArgumentException($"Gain and bias hold (features) = {features} floats each, or none.");
        }
    }
}
