using System.Numerics.Tensors;

namespace Dsl.Ops;

/// <summary>
/// Layer normalisation over each row's features on the CPU, as PyTorch's <c>nn.LayerNorm(features)</c>: forward and
/// backward side by side. Shapes: x and y (rows, features), gain g and bias b (features), mean and rstd (rows), kept by
/// the forward for the backward.
/// y = (x - mean) * rstd * g + b, with mean and the biased variance var over the row's features and
/// rstd = 1 / sqrt(var + epsilon). Without affine parameters (empty g and b), y = (x - mean) * rstd.
/// </summary>
/// <remarks>
/// Sums run in float32, vectorised (TensorPrimitives), like PyTorch's CPU kernel: agreement with a float64 reference is
/// to float32 rounding of sums over the row. Rows are independent; one call runs on the calling thread.
/// </remarks>
public static class LayerNorm
{
    /// <summary>PyTorch's default epsilon.</summary>
    public const float DefaultEpsilon = 1e-5f;

    /// <param name="output">y (rows, features), written.</param>
    /// <param name="mean">(rows), written: each row's mean.</param>
    /// <param name="rstd">(rows), written: each row's 1 / sqrt(var + epsilon).</param>
    /// <param name="input">x (rows, features).</param>
    /// <param name="gain">g (features), or empty for no affine parameters.</param>
    /// <param name="bias">b (features), or empty (then no bias is added).</param>
    public static void Forward(
        Span<float> output, Span<float> mean, Span<float> rstd, ReadOnlySpan<float> input, ReadOnlySpan<float> gain, ReadOnlySpan<float> bias,
        int rows, int features, float epsilon)
    {
        CheckShapes(output.Length, input.Length, mean.Length, rstd.Length, gain.Length, bias.Length, rows, features);
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            Span<float> y = output.Slice(row * features, features);
            float rowMean = TensorPrimitives.Sum(x) / features;

            // y holds x - mean while the variance is summed from it, then becomes the normalised row.
            TensorPrimitives.Subtract(x, rowMean, y);
            float variance = TensorPrimitives.SumOfSquares(y) / features;
            float rowRstd = 1f / MathF.Sqrt(variance + epsilon);
            TensorPrimitives.Multiply(y, rowRstd, y);
            if (!gain.IsEmpty)
            {
                TensorPrimitives.Multiply(y, gain, y);
            }

            if (!bias.IsEmpty)
            {
                TensorPrimitives.Add(y, bias, y);
            }

            mean[row] = rowMean;
            rstd[row] = rowRstd;
        }
    }

    /// <summary>
    /// With xhat = (x - mean) * rstd and dxhat = dy * g (dy without affine parameters):
    /// dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) per row, dg = column sums of dy * xhat, db = column
    /// sums of dy.
    /// </summary>
    /// <param name="dInput">dx (rows, features): added to when <paramref name="accumulate"/> (a value with several consumers), else overwritten.</param>
    /// <param name="dGain">dg (features), overwritten; empty without affine parameters.</param>
    /// <param name="dBias">db (features), overwritten; empty without a bias.</param>
    /// <param name="dOutput">dy (rows, features).</param>
    /// <param name="input">x (rows, features), as the forward read it.</param>
    /// <param name="mean">(rows), as the forward wrote it.</param>
    /// <param name="rstd">(rows), as the forward wrote it.</param>
    /// <param name="gain">g (features), or empty.</param>
    /// <param name="scratch">(2 x features) floats the call may overwrite.</param>
    public static void Backward(
        Span<float> dInput, Span<float> dGain, Span<float> dBias, ReadOnlySpan<float> dOutput, ReadOnlySpan<float> input,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> gain, Span<float> scratch, int rows, int features, bool accumulate)
    {
        CheckShapes(dInput.Length, input.Length, mean.Length, rstd.Length, gain.Length, dBias.Length, rows, features);
        if (dOutput.Length < rows * features || dGain.Length != gain.Length || scratch.Length < 2 * features)
        {
            throw new ArgumentException($"dOutput must hold (rows, features) = {rows * features} floats, dGain match gain, and scratch hold 2 x features = {2 * features} floats.");
        }

        dGain.Clear();
        dBias.Clear();
        Span<float> xhat = scratch.Slice(0, features);
        Span<float> dxhat = scratch.Slice(features, features);
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            ReadOnlySpan<float> dy = dOutput.Slice(row * features, features);
            Span<float> dx = dInput.Slice(row * features, features);
            float rowRstd = rstd[row];
            TensorPrimitives.Subtract(x, mean[row], xhat);
            TensorPrimitives.Multiply(xhat, rowRstd, xhat);
            if (!dBias.IsEmpty)
            {
                TensorPrimitives.Add(dBias, dy, dBias);
            }

            if (!gain.IsEmpty)
            {
                TensorPrimitives.MultiplyAdd(dy, xhat, dGain, dGain);
                TensorPrimitives.Multiply(dy, gain, dxhat);
            }
            else
            {
                dy.CopyTo(dxhat);
            }

            float meanDxhat = TensorPrimitives.Sum(dxhat) / features;
            float meanDxhatXhat = TensorPrimitives.Dot(dxhat, xhat) / features;

            // dx (+)= rstd * (dxhat - meanDxhat) - (rstd * meanDxhatXhat) * xhat
            TensorPrimitives.Subtract(dxhat, meanDxhat, dxhat);
            TensorPrimitives.Multiply(dxhat, rowRstd, dxhat);
            TensorPrimitives.MultiplyAdd(xhat, -rowRstd * meanDxhatXhat, dxhat, dxhat);
            if (accumulate)
            {
                TensorPrimitives.Add(dx, dxhat, dx);
            }
            else
            {
                dxhat.CopyTo(dx);
            }
        }
    }

    private static void CheckShapes(int outputLength, int inputLength, int meanLength, int rstdLength, int gainLength, int biasLength, int rows, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long size = (long)rows * features;
        if (outputLength < size || inputLength < size || meanLength < rows || rstdLength < rows)
        {
            throw new ArgumentException($"Input and output must hold (rows, features) = {size} floats and mean and rstd (rows) = {rows}.");
        }

        if ((gainLength != 0 && gainLength != features) || (biasLength != 0 && biasLength != features))
        {
            throw new ArgumentException($"Gain and bias hold (features) = {features} floats each, or none.");
        }
    }
}
