using System.Numerics.Tensors;

namespace Dsl.Ops;

/// <summary>
/// Root-mean-square normalisation over each row's features on the CPU (Zhang and Sennrich 2019): forward and backward
/// side by side. Shapes: x and y (rows, features), gain g (features), rrms (rows), kept by the forward for the backward.
/// y = x * rrms * g with rrms = 1 / sqrt(mean(x^2) + epsilon); no mean is subtracted and there is no bias. Without a
/// gain (empty g), y = x * rrms.
/// </summary>
/// <remarks>Sums run in float32, vectorised. Rows are independent; one call runs on the calling thread.</remarks>
public static class RmsNorm
{
    /// <summary>The epsilon of the original formulation and of most implementations.</summary>
    public const float DefaultEpsilon = 1e-6f;

    /// <param name="output">y (rows, features), written.</param>
    /// <param name="rrms">(rows), written: each row's 1 / sqrt(mean(x^2) + epsilon).</param>
    /// <param name="input">x (rows, features).</param>
    /// <param name="gain">g (features), or empty.</param>
    public static void Forward(Span<float> output, Span<float> rrms, ReadOnlySpan<float> input, ReadOnlySpan<float> gain, int rows, int features, float epsilon)
    {
        CheckShapes(output.Length, input.Length, rrms.Length, gain.Length, rows, features);
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            Span<float> y = output.Slice(row * features, features);
            float rowRrms = 1f / MathF.Sqrt((TensorPrimitives.SumOfSquares(x) / features) + epsilon);
            TensorPrimitives.Multiply(x, rowRrms, y);
            if (!gain.IsEmpty)
            {
                TensorPrimitives.Multiply(y, gain, y);
            }

            rrms[row] = rowRrms;
        }
    }

    /// <summary>
    /// With G = dy * g (dy without a gain): dx = rrms * (G - x * rrms^2 * mean(G * x)) per row, and dg = column sums of
    /// dy * x * rrms.
    /// </summary>
    /// <param name="dInput">dx (rows, features): added to when <paramref name="accumulate"/>, else overwritten.</param>
    /// <param name="dGain">dg (features), overwritten; empty without a gain.</param>
    /// <param name="dOutput">dy (rows, features).</param>
    /// <param name="input">x (rows, features), as the forward read it.</param>
    /// <param name="rrms">(rows), as the forward wrote it.</param>
    /// <param name="gain">g (features), or empty.</param>
    /// <param name="scratch">(features) floats the call may overwrite.</param>
    public static void Backward(
        Span<float> dInput, Span<float> dGain, ReadOnlySpan<float> dOutput, ReadOnlySpan<float> input, ReadOnlySpan<float> rrms,
        ReadOnlySpan<float> gain, Span<float> scratch, int rows, int features, bool accumulate)
    {
        CheckShapes(dInput.Length, input.Length, rrms.Length, gain.Length, rows, features);
        if (dOutput.Length < rows * features || dGain.Length != gain.Length || scratch.Length < features)
        {
            throw new ArgumentException($"dOutput must hold (rows, features) = {rows * features} floats, dGain match gain, and scratch hold (features) = {features} floats.");
        }

        dGain.Clear();
        Span<float> g = scratch.Slice(0, features);
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> x = input.Slice(row * features, features);
            ReadOnlySpan<float> dy = dOutput.Slice(row * features, features);
            Span<float> dx = dInput.Slice(row * features, features);
            float rowRrms = rrms[row];
            if (!gain.IsEmpty)
            {
                // dg += dy * x * rrms, then G = dy * g.
                TensorPrimitives.Multiply(dy, x, g);
                TensorPrimitives.MultiplyAdd(g, rowRrms, dGain, dGain);
                TensorPrimitives.Multiply(dy, gain, g);
            }
            else
            {
                dy.CopyTo(g);
            }

            float meanGx = TensorPrimitives.Dot(g, x) / features;

            // dx (+)= rrms * G - (rrms^3 * meanGx) * x
            TensorPrimitives.Multiply(g, rowRrms, g);
            TensorPrimitives.MultiplyAdd(x, -rowRrms * rowRrms * rowRrms * meanGx, g, g);
            if (accumulate)
            {
                TensorPrimitives.Add(dx, g, dx);
            }
            else
            {
                g.CopyTo(dx);
            }
        }
    }

    private static void CheckShapes(int outputLength, int inputLength, int rrmsLength, int gainLength, int rows, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long size = (long)rows * features;
        if (outputLength < size || inputLength < size || rrmsLength < rows)
        {
            throw new ArgumentException($"Input and output must hold (rows, features) = {size} floats and rrms (rows) = {rows}.");
        }

        if (gainLength != 0 && gainLength != features)
        {
            throw new ArgumentException($"Gain holds (features) = {features} floats, or none.");
        }
    }
}
