using Dsl.Ops;

namespace Dsl.Tests.Ops;

/// <summary>
/// Pooling from its definition, shared by the max and average pool tests: the windows of a <see cref="PoolGeometry"/>
/// tap by tap, and the geometries the tests run, 2d and 1d (through <see cref="PoolGeometry.OneDimensional"/>).
/// </summary>
internal static class PoolReference
{
    /// <summary>
    /// Batch and geometry per case: channels, height, width, kernel (h, w), stride (h, w), padding (h, w), dilation (h, w).
    /// Every padding is within both pools' limits; the dilated cases are max pools only.
    /// </summary>
    public static readonly Dictionary<string, (int Batch, PoolGeometry G)> Geometries = new()
    {
        ["2x2_stride2"] = (2, new(3, 7, 9, 2, 2, 2, 2, 0, 0, 1, 1)),
        ["3x3_stride1_padded"] = (2, new(2, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1)),
        ["3x3_stride2_padded"] = (3, new(2, 9, 11, 3, 3, 2, 2, 1, 1, 1, 1)),
        ["rectangular_stride3"] = (2, new(3, 11, 7, 3, 2, 3, 1, 1, 1, 1, 1)),
        ["5x5_stride3_padding2"] = (1, new(4, 13, 5, 5, 5, 3, 3, 2, 2, 1, 1)),
        ["tall_kernel_padding2"] = (2, new(2, 7, 5, 4, 2, 1, 2, 2, 1, 1, 1)),
        ["whole_plane"] = (3, new(2, 3, 5, 3, 5, 1, 1, 0, 0, 1, 1)),
        ["dilated"] = (2, new(2, 9, 11, 3, 2, 1, 2, 2, 1, 2, 2)),
        ["dilated_width_strided"] = (2, new(3, 7, 13, 2, 3, 2, 3, 1, 2, 1, 2)),
        ["1d_kernel3_stride2"] = (3, PoolGeometry.OneDimensional(5, 17, 3, 2, 1, 1)),
        ["1d_kernel4_stride1_padding2"] = (2, PoolGeometry.OneDimensional(4, 13, 4, 1, 2, 1)),
        ["1d_kernel5_stride3"] = (1, PoolGeometry.OneDimensional(3, 9, 5, 3, 2, 1)),
        ["1d_dilated"] = (2, PoolGeometry.OneDimensional(3, 15, 3, 2, 2, 2)),
    };

    public static bool Dilated(PoolGeometry g) => g.DilationHeight != 1 || g.DilationWidth != 1;

    /// <summary>
    /// The input indices (n, c, h, w) inside x of output <paramref name="output"/>'s window, in row-major (kh, kw)
    /// order, taps in the padding left out.
    /// </summary>
    public static List<int> Window(int output, PoolGeometry g)
    {
        int plane = output / g.OutPositions, position = output % g.OutPositions;
        int oh = position / g.OutWidth, ow = position % g.OutWidth;
        var taps = new List<int>();
        for (int kh = 0; kh < g.KernelHeight; kh++)
        {
            int h = (oh * g.StrideHeight) + (kh * g.DilationHeight) - g.PaddingHeight;
            for (int kw = 0; kw < g.KernelWidth; kw++)
            {
                int w = (ow * g.StrideWidth) + (kw * g.DilationWidth) - g.PaddingWidth;
                if (h >= 0 && h < g.InHeight && w >= 0 && w < g.InWidth)
                {
                    taps.Add((plane * g.InPositions) + (h * g.InWidth) + w);
                }
            }
        }

        return taps;
    }

    /// <summary>
    /// <paramref name="count"/> distinct floats, a shuffled run of multiples of 1/8 around 0: exact in float32, at
    /// least 1/8 apart, so that a step of 1/32 in finite differences never changes which input a max pool takes.
    /// </summary>
    public static float[] Spaced(Random random, int count)
    {
        float[] values = [.. Enumerable.Range(0, count).Select(i => (i - (count / 2)) / 8f)];
        random.Shuffle(values);
        return values;
    }

    public static float[] Narrow(double[] values) => [.. values.Select(v => (float)v)];

    public static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Asserts <paramref name="buffer"/>'s ArgumentException: its name, its length and the length needed.</summary>
    public static void Refused(Action call, string buffer, int needed, string unit = "floats")
    {
        ArgumentException error = Xunit.Assert.Throws<ArgumentException>(call);
        Xunit.Assert.Equal(buffer, error.ParamName);
        Xunit.Assert.Contains($"{buffer} holds {needed - 1} {unit}; the pooling needs {needed}.", error.Message, StringComparison.Ordinal);
    }
}
