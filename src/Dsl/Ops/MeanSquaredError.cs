using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// Mean squared error, as PyTorch's <c>nn.MSELoss</c> (reduction mean): L = mean over batch and outputs of
/// (output - target)^2, fused with its gradient dOutput = 2 (output - target) / (batch outputs).
/// Squares are accumulated in double.
/// </summary>
public static class MeanSquaredError
{
    /// <summary>Returns the mean loss and writes its gradient in the same pass.</summary>
    /// <param name="dOutput">d loss / d output, (batch, outputs); overwritten.</param>
    /// <param name="output">Network outputs, (batch, outputs).</param>
    /// <param name="target">Targets, (batch, outputs).</param>
    /// <param name="batch">Samples; positive.</param>
    /// <param name="outputs">Elements per sample; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public static float ForwardBackward(Span<float> dOutput, ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batch, int outputs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        long count = (long)batch * outputs;
        if (dOutput.Length != count || output.Length != count || target.Length != count)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected ({batch}, {outputs}) = {count} floats in every buffer; got dOutput {dOutput.Length}, output {output.Length}, target {target.Length}."));
        }

        float scale = (float)(2.0 / count);
        ref float dy = ref MemoryMarshal.GetReference(dOutput);         // (batch, outputs)
        ref float y = ref MemoryMarshal.GetReference(output);  // (batch, outputs)
        ref float t = ref MemoryMarshal.GetReference(target);  // (batch, outputs)
        nuint n = (nuint)count;
        nuint i = 0;
        Vector256<double> sumLow = Vector256<double>.Zero;
        Vector256<double> sumHigh = Vector256<double>.Zero;
        if (n >= (nuint)Vector256<float>.Count)
        {
            Vector256<float> scaleVector = Vector256.Create(scale);
            for (; i <= n - (nuint)Vector256<float>.Count; i += (nuint)Vector256<float>.Count)
            {
                Vector256<float> difference = Vector256.LoadUnsafe(ref y, i) - Vector256.LoadUnsafe(ref t, i);
                (difference * scaleVector).StoreUnsafe(ref dy, i);
                (Vector256<double> low, Vector256<double> high) = Vector256.Widen(difference);
                sumLow = Vector256.FusedMultiplyAdd(low, low, sumLow);
                sumHigh = Vector256.FusedMultiplyAdd(high, high, sumHigh);
            }
        }

        double sum = Vector256.Sum(sumLow + sumHigh);
        for (; i < n; i++)
        {
            float difference = Unsafe.Add(ref y, i) - Unsafe.Add(ref t, i);
            Unsafe.Add(ref dy, i) = difference * scale;
            sum += (double)difference * difference;
        }

        return (float)(sum / count);
    }

    /// <summary>
    /// Returns the sum over samples of each sample's mean squared error over its outputs, so that dividing
    /// by the number of samples over a whole data set gives the data set's mean loss.
    /// </summary>
    /// <param name="output">Network outputs, (batch, outputs).</param>
    /// <param name="target">Targets, (batch, outputs).</param>
    /// <param name="batch">Samples; zero gives zero.</param>
    /// <param name="outputs">Elements per sample; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public static double Forward(ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batch, int outputs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        long count = (long)batch * outputs;
        if (output.Length != count || target.Length != count)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected ({batch}, {outputs}) = {count} floats in every buffer; got output {output.Length}, target {target.Length}."));
        }

        double total = 0.0;
        for (int sample = 0; sample < batch; sample++)
        {
            total += SquaredDistance(output.Slice(sample * outputs, outputs), target.Slice(sample * outputs, outputs)) / outputs;
        }

        return total;
    }

    /// <summary>Sum of (y - t)^2 in double.</summary>
    private static double SquaredDistance(ReadOnlySpan<float> output, ReadOnlySpan<float> target)
    {
        int i = 0;
        Vector256<double> sumLow = Vector256<double>.Zero;
        Vector256<double> sumHigh = Vector256<double>.Zero;
        for (; i <= output.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256<float> difference = Vector256.Create(output.Slice(i, Vector256<float>.Count)) - Vector256.Create(target.Slice(i, Vector256<float>.Count));
            (Vector256<double> low, Vector256<double> high) = Vector256.Widen(difference);
            sumLow = Vector256.FusedMultiplyAdd(low, low, sumLow);
            sumHigh = Vector256.FusedMultiplyAdd(high, high, sumHigh);
        }

        double sum = Vector256.Sum(sumLow + sumHigh);
        for (; i < output.Length; i++)
        {
            double difference = output[i] - target[i];
            sum += difference * difference;
        }

        return sum;
    }
}
