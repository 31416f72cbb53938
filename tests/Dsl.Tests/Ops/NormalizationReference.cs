namespace Dsl.Tests.Ops;

/// <summary>
/// LayerNorm and RMSNorm forward in float64, from their definitions (row-major (rows, features); gain and bias of
/// (features) or null), and the scalar the backward tests differentiate: L = sum of dy * y.
/// </summary>
internal static class NormalizationReference
{
    public static double[] LayerNorm(double[] x, double[]? gain, double[]? bias, int rows, int features, double epsilon)
    {
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0;
            for (int j = 0; j < features; j++)
            {
                mean += x[(r * features) + j];
            }

            mean /= features;
            double variance = 0;
            for (int j = 0; j < features; j++)
            {
                double d = x[(r * features) + j] - mean;
                variance += d * d;
            }

            variance /= features;
            double rstd = 1 / Math.Sqrt(variance + epsilon);
            for (int j = 0; j < features; j++)
            {
                double value = (x[(r * features) + j] - mean) * rstd;
                y[(r * features) + j] = (value * (gain?[j] ?? 1)) + (bias?[j] ?? 0);
            }
        }

        return y;
    }

    public static double[] RmsNorm(double[] x, double[]? gain, int rows, int features, double epsilon)
    {
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            double squares = 0;
            for (int j = 0; j < features; j++)
            {
                squares += x[(r * features) + j] * x[(r * features) + j];
            }

            double rrms = 1 / Math.Sqrt((squares / features) + epsilon);
            for (int j = 0; j < features; j++)
            {
                y[(r * features) + j] = x[(r * features) + j] * rrms * (gain?[j] ?? 1);
            }
        }

        return y;
    }

    /// <summary>L = sum of dy * y: its gradient with respect to y is dy, so the backward of y gives dL.</summary>
    public static double Dot(double[] dy, double[] y)
    {
        double sum = 0;
        for (int i = 0; i < y.Length; i++)
        {
            sum += dy[i] * y[i];
        }

        return sum;
    }
}
