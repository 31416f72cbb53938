using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// Softmax over each row of logits followed by the cross-entropy against an integer label, as PyTorch's
/// <c>nn.CrossEntropyLoss</c> (reduction mean): loss_i = log sum_j e^(x_ij - m_i) - (x_i,label - m_i) with
/// m_i the row maximum, so no exponential overflows. Per-row sums and the loss are accumulated in double;
/// the exponentials come from <see cref="Exponential"/>, so every row gives the same bits wherever it sits.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>
    /// Returns the mean loss over the batch and writes its gradient in the same pass:
    /// dLogits = (softmax(logits) - onehot(label)) / batch.
    /// </summary>
    /// <param name="dLogits">d loss / d logits, (batch, classes); overwritten.</param>
    /// <param name="logits">Pre-softmax scores, (batch, classes).</param>
    /// <param name="labels">Class of each sample in [0, classes), (batch); checked by the caller.</param>
    /// <param name="batch">Samples; positive.</param>
    /// <param name="classes">Classes; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public static float ForwardBackward(Span<float> dLogits, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int batch, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        long count = (long)batch * classes;
        if (dLogits.Length != count || logits.Length != count || labels.Length != batch)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected dLogits and logits ({batch}, {classes}) and labels ({batch}); got {dLogits.Length}, {logits.Length} and {labels.Length}."));
        }

        double total = 0.0;
        for (int i = 0; i < batch; i++)
        {
            ReadOnlySpan<float> row = logits.Slice(i * classes, classes); // (classes)
            Span<float> dRow = dLogits.Slice(i * classes, classes);      // (classes)
            int label = labels[i];
            Debug.Assert((uint)label < (uint)classes, "labels are checked by the caller");

            float max = TensorPrimitives.Max(row);
            double sum = ShiftedExponentialSum(dRow, row, max); // dRow = e^(x - max)
            total += Math.Log(sum) - ((double)row[label] - max);

            double labelProbability = dRow[label] / sum;
            TensorPrimitives.Multiply(dRow, (float)(1.0 / (sum * batch)), dRow);
            dRow[label] = (float)((labelProbability - 1.0) / batch);
        }

        return (float)(total / batch);
    }

    /// <summary>
    /// Returns the sum (not the mean) of the per-sample losses and counts the samples whose argmax is their
    /// label; ties go to the lowest index and a NaN counts as the maximum, as <c>torch.argmax</c>.
    /// </summary>
    /// <param name="logits">Pre-softmax scores, (batch, classes).</param>
    /// <param name="labels">Class of each sample in [0, classes), (batch); checked by the caller.</param>
    /// <param name="batch">Samples; zero gives zero.</param>
    /// <param name="classes">Classes; positive.</param>
    /// <param name="correct">Samples whose argmax equals the label.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public static double Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int batch, int classes, out int correct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (logits.Length != (long)batch * classes || labels.Length != batch)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected logits ({batch}, {classes}) and labels ({batch}); got {logits.Length} and {labels.Length}."));
        }

        double total = 0.0;
        correct = 0;
        for (int i = 0; i < batch; i++)
        {
            ReadOnlySpan<float> row = logits.Slice(i * classes, classes); // (classes)
            int label = labels[i];
            Debug.Assert((uint)label < (uint)classes, "labels are checked by the caller");

            float max = TensorPrimitives.Max(row);
            double sum = ShiftedExponentialSum([], row, max);
            total += Math.Log(sum) - ((double)row[label] - max);
            if (ArgMax(row) == label)
            {
                correct++;
            }
        }

        return total;
    }

    /// <summary>Sum of e^(x_j - max) in double; also stores each e^(x_j - max) in <paramref name="exponentials"/> unless it is empty.</summary>
    private static double ShiftedExponentialSum(Span<float> exponentials, ReadOnlySpan<float> row, float max)
    {
        bool store = !exponentials.IsEmpty;
        Vector256<float> shift = Vector256.Create(max);
        Vector256<double> sumLow = Vector256<double>.Zero;
        Vector256<double> sumHigh = Vector256<double>.Zero;
        int j = 0;
        for (; j <= row.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            Vector256<float> e = Exponential.Exp(Vector256.Create(row.Slice(j, Vector256<float>.Count)) - shift);
            if (store)
            {
                e.CopyTo(exponentials.Slice(j, Vector256<float>.Count));
            }

            (Vector256<double> low, Vector256<double> high) = Vector256.Widen(e);
            sumLow += low;
            sumHigh += high;
        }

        double sum = Vector256.Sum(sumLow + sumHigh);
        for (; j < row.Length; j++)
        {
            float e = Exponential.Exp(row[j] - max);
            if (store)
            {
                exponentials[j] = e;
            }

            sum += e;
        }

        return sum;
    }

    /// <summary>Index of the largest value; the first on ties; the first NaN if there is one.</summary>
    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
        {
            if (float.IsNaN(row[best]))
            {
                break;
            }

            if (row[j] > row[best] || float.IsNaN(row[j]))
            {
                best = j;
            }
        }

        return best;
    }
}
