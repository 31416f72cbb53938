namespace Dsl.Tests;

/// <summary>
/// Plain float64 references of the losses and reductions, from their definitions, shared by the CPU op tests,
/// the GPU kernel tests and the fused kernel's reference network. Matrices are row-major (rows, columns).
/// </summary>
internal static class Float64Reference
{
    /// <summary>
    /// d f / d x[k] by central differences, (f(x + h e_k) - f(x - h e_k)) / 2h; x[k] is restored afterwards.
    /// </summary>
    public static double CentralDifference(double[] x, int k, double h, Func<double[], double> f)
    {
        double saved = x[k];
        x[k] = saved + h;
        double plus = f(x);
        x[k] = saved - h;
        double minus = f(x);
        x[k] = saved;
        return (plus - minus) / (2 * h);
    }

    /// <summary>Per-row softmax cross-entropy log sum_j e^(x_j - max) + max - x_label.</summary>
    public static double[] CrossEntropyLosses(ReadOnlySpan<double> logits, int[] labels, int classes)
    {
        var losses = new double[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            ReadOnlySpan<double> row = logits.Slice(i * classes, classes);
            double max = Max(row);
            double sum = 0;
            foreach (double x in row)
            {
                sum += Math.Exp(x - max);
            }

            losses[i] = Math.Log(sum) + max - row[labels[i]];
        }

        return losses;
    }

    /// <summary>Row-wise softmax e^(x_j - max) / sum_k e^(x_k - max).</summary>
    public static double[] SoftmaxProbabilities(ReadOnlySpan<double> logits, int classes)
    {
        var probabilities = new double[logits.Length];
        for (int start = 0; start < logits.Length; start += classes)
        {
            ReadOnlySpan<double> row = logits.Slice(start, classes);
            double max = Max(row);
            double sum = 0;
            foreach (double x in row)
            {
                sum += Math.Exp(x - max);
            }

            for (int j = 0; j < classes; j++)
            {
                probabilities[start + j] = Math.Exp(row[j] - max) / sum;
            }
        }

        return probabilities;
    }

    /// <summary>Per-row mean squared error mean_j (output_j - target_j)^2.</summary>
    public static double[] SquaredErrorRowMeans(ReadOnlySpan<double> output, ReadOnlySpan<double> target, int outputs)
    {
        var means = new double[output.Length / outputs];
        for (int i = 0; i < means.Length; i++)
        {
            double sum = 0;
            for (int j = 0; j < outputs; j++)
            {
                double difference = output[i * outputs + j] - target[i * outputs + j];
                sum += difference * difference;
            }

            means[i] = sum / outputs;
        }

        return means;
    }

    /// <summary>Column sums of a (rows, columns) matrix and, per column, the sum of magnitudes that scales float rounding.</summary>
    public static (double[] Sums, double[] Magnitudes) ColumnSums(float[] values, int rows, int columns)
    {
        var sums = new double[columns];
        var magnitudes = new double[columns];
        for (int j = 0; j < columns; j++)
        {
            for (int i = 0; i < rows; i++)
            {
                sums[j] += values[i * columns + j];
                magnitudes[j] += Math.Abs(values[i * columns + j]);
            }
        }

        return (sums, magnitudes);
    }

    /// <summary>Index of the largest value, the first on ties, the first NaN if any (torch.argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        for (int j = 0; j < row.Length; j++)
        {
            if (float.IsNaN(row[j]))
            {
                return j;
            }
        }

        int best = 0;
        for (int j = 1; j < row.Length; j++)
        {
            if (row[j] > row[best])
            {
                best = j;
            }
        }

        return best;
    }

    private static double Max(ReadOnlySpan<double> row)
    {
        double max = double.NegativeInfinity;
        foreach (double x in row)
        {
            max = Math.Max(max, x);
        }

        return max;
    }
}
