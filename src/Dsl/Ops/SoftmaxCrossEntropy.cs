using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Ops;

/// <summary>
/// Softmax over each row of logits followed by the cross-entropy against an integer label, as PyTorch's
/// <c>nn.CrossEntropyLoss</c> (reduction mean): loss_i = log sum_j e^(x_ij - m_i) - (x_i,label - m_i) with
/// m_i the row maximum, so no exponential overflows. Per-row sums and the loss are accumulated in double;
/// the exponentials come from <see cref="Exponential"/>, so every row gives the same bits wherever it sits.
/// Rows are short (a classifier's classes, often 10), so each row is a few Vector256 steps with its ragged
/// end in one padded vector: no per-row library calls, no scalar exponentials.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>Rows whose maxima and sums are kept on the stack while each step runs over them.</summary>
    private const int RowsPerChunk = 64;

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

        // Each row is a long chain of dependent steps (max, e^x, sum, log, scale). The rows are independent, so
        // each step runs over a chunk of rows before the next: the out-of-order core then overlaps one row's
        // chain with the next row's instead of waiting on it. Each row's operations are those of a row done alone.
        Span<float> maxes = stackalloc float[RowsPerChunk];
        Span<double> sums = stackalloc double[RowsPerChunk];
        double total = 0.0;
        for (int first = 0; first < batch; first += RowsPerChunk)
        {
            int rows = Math.Min(RowsPerChunk, batch - first);
            for (int r = 0; r < rows; r++)
            {
                maxes[r] = RowMax(logits.Slice((first + r) * classes, classes));
            }

            for (int r = 0; r < rows; r++)
            {
                int offset = (first + r) * classes;
                sums[r] = ShiftedExponentialSum(dLogits.Slice(offset, classes), logits.Slice(offset, classes), maxes[r]); // dRow = e^(x - max)
            }

            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<float> row = logits.Slice((first + r) * classes, classes); // (classes)
                Span<float> dRow = dLogits.Slice((first + r) * classes, classes);      // (classes)
                int label = labels[first + r];
                Debug.Assert((uint)label < (uint)classes, "labels are checked by the caller");

                double sum = sums[r];
                total += Math.Log(sum) - ((double)row[label] - maxes[r]);
                double labelProbability = dRow[label] / sum;
                Scale(dRow, (float)(1.0 / (sum * batch)));
                dRow[label] = (float)((labelProbability - 1.0) / batch);
            }
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

        // In chunks of rows, step by step, as in ForwardBackward.
        Span<float> maxes = stackalloc float[RowsPerChunk];
        Span<double> sums = stackalloc double[RowsPerChunk];
        double total = 0.0;
        correct = 0;
        for (int first = 0; first < batch; first += RowsPerChunk)
        {
            int rows = Math.Min(RowsPerChunk, batch - first);
            for (int r = 0; r < rows; r++)
            {
                maxes[r] = RowMax(logits.Slice((first + r) * classes, classes));
            }

            for (int r = 0; r < rows; r++)
            {
                sums[r] = ShiftedExponentialSum([], logits.Slice((first + r) * classes, classes), maxes[r]);
            }

            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<float> row = logits.Slice((first + r) * classes, classes); // (classes)
                int label = labels[first + r];
                Debug.Assert((uint)label < (uint)classes, "labels are checked by the caller");

                total += Math.Log(sums[r]) - ((double)row[label] - maxes[r]);
                if (ArgMax(row) == label)
                {
                    correct++;
                }
            }
        }

        return total;
    }

    /// <summary>
    /// The largest value of a non-empty row, or NaN when the row holds one (as <c>TensorPrimitives.Max</c>, whose
    /// per-call cost is several times this whole row's work at ten classes); of -0 and +0 either may come back,
    /// which shifts every exponential and the loss identically.
    /// </summary>
    internal static unsafe float RowMax(ReadOnlySpan<float> row)
    {
        Vector256<float> best = Vector256.Create(float.NegativeInfinity);
        Vector256<float> unordered = Vector256<float>.Zero; // all-ones lanes where a NaN was seen
        int j = 0;
        for (; j <= row.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            Vector256<float> values = Vector256.Create(row.Slice(j, Vector256<float>.Count));
            unordered |= ~Vector256.Equals(values, values);
            best = Vector256.MaxNative(best, values);
        }

        int rest = row.Length - j;
        if (rest > 0 && Avx.IsSupported)
        {
            Vector256<float> inRow = Vector256.LessThan(LaneIndex, Vector256.Create(rest)).AsSingle();
            Vector256<float> values;
            fixed (float* source = row.Slice(j))
            {
                values = Avx.MaskLoad(source, inRow); // lanes past the row are not read
            }

            values = Vector256.ConditionalSelect(inRow, values, Vector256.Create(float.NegativeInfinity));
            unordered |= ~Vector256.Equals(values, values);
            best = Vector256.MaxNative(best, values);
        }
        else if (rest > 0)
        {
            float tail = float.NegativeInfinity;
            for (; j < row.Length; j++)
            {
                if (float.IsNaN(row[j]))
                {
                    return float.NaN;
                }

                tail = Math.Max(tail, row[j]);
            }

            best = Vector256.MaxNative(best, Vector256.Create(tail));
        }

        if (unordered != Vector256<float>.Zero)
        {
            return float.NaN;
        }

        Vector128<float> half = Vector128.MaxNative(best.GetLower(), best.GetUpper());
        half = Vector128.MaxNative(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
        half = Vector128.MaxNative(half, Vector128.Shuffle(half, Vector128.Create(1, 0, 3, 2)));
        return half.ToScalar();
    }

    /// <summary>row *= factor.</summary>
    private static void Scale(Span<float> row, float factor)
    {
        Vector256<float> scale = Vector256.Create(factor);
        int j = 0;
        for (; j <= row.Length - Vector256<float>.Count; j += Vector256<float>.Count)
        {
            Span<float> lanes = row.Slice(j, Vector256<float>.Count);
            (Vector256.Create<float>(lanes) * scale).CopyTo(lanes);
        }

        for (; j < row.Length; j++)
        {
            row[j] *= factor;
        }
    }

    /// <summary>
    /// Sum of e^(x_j - max) in double; also stores each e^(x_j - max) in <paramref name="exponentials"/> unless it
    /// is empty. The ragged end (row length not a multiple of 8) is one masked vector whose lanes past the row
    /// are dropped before the sum and never stored.
    /// </summary>
    private static unsafe double ShiftedExponentialSum(Span<float> exponentials, ReadOnlySpan<float> row, float max)
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

        int rest = row.Length - j;
        if (rest > 0)
        {
            Vector256<float> inRow = Vector256.LessThan(LaneIndex, Vector256.Create(rest)).AsSingle();
            Vector256<float> values;
            if (Avx.IsSupported)
            {
                fixed (float* source = row.Slice(j))
                {
                    // Lanes past the row are not read (no fault past the buffer's end) and load zero.
                    values = Avx.MaskLoad(source, inRow);
                }
            }
            else
            {
                var lanes = new Lanes();
                row.Slice(j).CopyTo(lanes);
                values = Vector256.Create<float>(lanes);
            }

            Vector256<float> e = Vector256.ConditionalSelect(inRow, Exponential.Exp(values - shift), Vector256<float>.Zero);
            if (store)
            {
                if (Avx.IsSupported)
                {
                    fixed (float* destination = exponentials.Slice(j, rest))
                    {
                        Avx.MaskStore(destination, inRow, e);
                    }
                }
                else
                {
                    var lanes = new Lanes();
                    e.CopyTo(lanes);
                    ((ReadOnlySpan<float>)lanes).Slice(0, rest).CopyTo(exponentials.Slice(j, rest));
                }
            }

            (Vector256<double> low, Vector256<double> high) = Vector256.Widen(e);
            sumLow += low;
            sumHigh += high;
        }

        return Vector256.Sum(sumLow + sumHigh);
    }

    private static Vector256<int> LaneIndex => Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);

    /// <summary>Eight floats on the stack: a row's ragged end on its way into and out of one Vector256.</summary>
    [InlineArray(8)]
    private struct Lanes
    {
        private float _element;
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
