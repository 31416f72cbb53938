namespace Dsl.Tests;

/// <summary>Random inputs shared by the CPU and GPU tests, so both draw the same kind of data the same way.</summary>
internal static class TestData
{
    /// <summary><paramref name="count"/> floats uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static float[] Uniform(Random random, int count, double low, double high)
        => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * (high - low)) + low))];

    /// <summary>Fills <paramref name="values"/> with floats uniform in [-1, 1).</summary>
    public static void FillUniform(Random random, float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }
    }

    /// <summary>The same values in float64.</summary>
    public static double[] Widen(float[] values) => [.. values.Select(v => (double)v)];

    /// <summary>
    /// A softmax cross-entropy problem: logits (batch, classes) spread over about +-10 with a per-row offset up
    /// to +-60, and labels in [0, classes).
    /// </summary>
    public static (float[] Logits, int[] Labels) Classification(int batch, int classes, int seed)
    {
        var random = new Random(seed);
        var logits = new float[batch * classes];
        var labels = new int[batch];
        for (int i = 0; i < batch; i++)
        {
            double offset = random.NextDouble() * 120 - 60;
            for (int j = 0; j < classes; j++)
            {
                logits[i * classes + j] = (float)(offset + random.NextDouble() * 20 - 10);
            }

            labels[i] = random.Next(classes);
        }

        return (logits, labels);
    }
}
