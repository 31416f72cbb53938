using Dsl.Cpu;
using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>
/// Conv1d, the two-dimensional convolution at height 1 (<see cref="Conv1dGeometry.AsConv2d"/>), against a direct
/// float64 one-dimensional convolution on odd shapes (strides 1-3, padding 0-2, dilation 1-2, groups 1 and more), its
/// backward against central differences of that reference.
/// </summary>
public sealed class Conv1dTests
{
    public static TheoryData<int, int, int, int, int, int, int, int, int> Shapes() => new()
    {
        // batch, in channels, in length, out channels, kernel, stride, padding, dilation, groups
        { 1, 1, 7, 1, 1, 1, 0, 1, 1 },
        { 3, 1, 40, 5, 5, 2, 1, 1, 1 },
        { 2, 3, 11, 4, 3, 1, 2, 2, 1 },
        { 5, 6, 13, 9, 3, 3, 1, 1, 3 },
        { 3, 4, 9, 8, 2, 2, 0, 2, 2 },
        { 2, 5, 17, 5, 4, 1, 1, 1, 5 },
        { 7, 25, 19, 25, 3, 2, 1, 1, 1 },
        { 1, 2, 3, 3, 3, 1, 0, 1, 1 },
        { 4, 3, 5, 7, 5, 3, 2, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_matches_the_float64_reference(int batch, int inChannels, int inLength, int outChannels, int kernel, int stride, int padding, int dilation, int groups)
    {
        var g = new Conv1dGeometry(inChannels, inLength, outChannels, kernel, stride, padding, dilation, groups);
        (float[] x, float[] w, float[] b, _) = Problem(batch, g, seed: (inLength * 100) + kernel);
        foreach (bool bias in (bool[])[true, false])
        {
            float[] y = Forward(x, w, bias ? b : [], batch, g, workers: null);
            double[] expected = Reference(TestData.Widen(x), TestData.Widen(w), bias ? TestData.Widen(b) : null, batch, g);
            Assert.Equal(expected.Length, y.Length);
            for (int i = 0; i < y.Length; i++)
            {
                Assert.Equal(expected[i], y[i], 1e-5 * (1 + Math.Abs(expected[i])));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_matches_central_differences_of_the_float64_forward(int batch, int inChannels, int inLength, int outChannels, int kernel, int stride, int padding, int dilation, int groups)
    {
        var g = new Conv1dGeometry(inChannels, inLength, outChannels, kernel, stride, padding, dilation, groups);
        (float[] x, float[] w, float[] b, float[] dy) = Problem(batch, g, seed: (inChannels * 31) + stride);
        (float[] dx, float[] dw, float[] db) = Backward(x, w, b, dy, batch, g, accumulateInto: null, workers: null);

        double[] wideX = TestData.Widen(x), wideW = TestData.Widen(w), wideB = TestData.Widen(b), wideDy = TestData.Widen(dy);
        double Loss(double[] input, double[] weight, double[] bias) => Dot(wideDy, Reference(input, weight, bias, batch, g));
        const double H = 1e-3;
        for (int k = 0; k < wideX.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideX, k, H, input => Loss(input, wideW, wideB));
            Assert.Equal(expected, dx[k], 1e-4 * (1 + Math.Abs(expected)));
        }

        for (int k = 0; k < wideW.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideW, k, H, weight => Loss(wideX, weight, wideB));
            Assert.Equal(expected, dw[k], 1e-4 * (1 + Math.Abs(expected)));
        }

        for (int k = 0; k < wideB.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideB, k, H, bias => Loss(wideX, wideW, bias));
            Assert.Equal(expected, db[k], 1e-4 * (1 + Math.Abs(expected)));
        }
    }

    [Fact]
    public void Backward_adds_to_the_input_gradient_when_asked()
    {
        var g = new Conv1dGeometry(4, 15, 6, 3, 2, 1, 1, 2);
        (float[] x, float[] w, float[] b, float[] dy) = Problem(3, g, seed: 4);
        (float[] dx, float[] dw, float[] db) = Backward(x, w, b, dy, 3, g, accumulateInto: null, workers: null);
        float[] earlier = TestData.Uniform(new Random(9), dx.Length, -1, 1);
        (float[] added, float[] dwAgain, float[] dbAgain) = Backward(x, w, b, dy, 3, g, accumulateInto: (float[])earlier.Clone(), workers: null);
        for (int i = 0; i < dx.Length; i++)
        {
            Assert.Equal(earlier[i] + dx[i], added[i], 1e-6);
        }

        Assert.Equal(dw, dwAgain); // parameter gradients are overwritten either way
        Assert.Equal(db, dbAgain);
    }

    [Fact]
    public void Threads_split_the_gemms_without_changing_the_result_beyond_rounding()
    {
        var g = new Conv1dGeometry(25, 19, 25, 3, 2, 1, 1, 1);
        (float[] x, float[] w, float[] b, float[] dy) = Problem(64, g, seed: 12);
        using var workers = new CpuWorkers(2);
        float[] alone = Forward(x, w, b, 64, g, workers: null);
        float[] split = Forward(x, w, b, 64, g, workers);
        (float[] dx1, float[] dw1, _) = Backward(x, w, b, dy, 64, g, null, workers: null);
        (float[] dx2, float[] dw2, _) = Backward(x, w, b, dy, 64, g, null, workers);
        for (int i = 0; i < alone.Length; i++)
        {
            Assert.Equal(alone[i], split[i], 1e-5 * (1 + Math.Abs(alone[i])));
        }

        for (int i = 0; i < dx1.Length; i++)
        {
            Assert.Equal(dx1[i], dx2[i], 1e-5 * (1 + Math.Abs(dx1[i])));
        }

        for (int i = 0; i < dw1.Length; i++)
        {
            Assert.Equal(dw1[i], dw2[i], 1e-4 * (1 + Math.Abs(dw1[i])));
        }
    }

    [Theory]
    [InlineData(0, 5, 3, 1, 0, 1, 1, "output channels")]
    [InlineData(4, 5, 3, 0, 0, 1, 1, "stride")]
    [InlineData(4, 5, 3, 1, -1, 1, 1, "padding")]
    [InlineData(4, 5, 3, 1, 0, 0, 1, "dilation")]
    [InlineData(4, 5, 3, 1, 0, 1, 3, "divide into 3 groups")]
    [InlineData(4, 5, 6, 1, 0, 1, 1, "shorter than its kernel 6")]
    [InlineData(4, 4, 3, 1, 0, 2, 1, "shorter than its kernel 3 at dilation 2")]
    public void A_geometry_out_of_range_is_refused_by_name(int outChannels, int length, int kernel, int stride, int padding, int dilation, int groups, string problem)
    {
        var g = new Conv1dGeometry(2, length, outChannels, kernel, stride, padding, dilation, groups);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => g.Validate("Conv1d 'Conv'"));
        Assert.Contains("Conv1d 'Conv'", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(40, 5, 2, 1, 1, 19)]
    [InlineData(19, 3, 2, 1, 1, 10)]
    [InlineData(10, 3, 2, 1, 1, 5)]
    [InlineData(7, 3, 1, 0, 2, 3)]
    [InlineData(7, 3, 3, 0, 3, 1)]
    [InlineData(4, 5, 1, 0, 1, 0)]
    public void The_output_length_is_pytorch_s(int length, int kernel, int stride, int padding, int dilation, int expected)
        => Assert.Equal(expected, Conv1dGeometry.OutputLength(length, kernel, stride, padding, dilation));

    private static float[] Forward(float[] x, float[] w, float[] b, int batch, Conv1dGeometry g, CpuWorkers? workers)
    {
        var y = new float[batch * g.OutputWidth];
        Conv2d.Forward(y, new float[batch * g.OutLength * g.ColumnWidth], new float[batch * g.OutLength * g.OutChannels], x, w, b, batch, g.AsConv2d(), workers);
        return y;
    }

    private static (float[] Dx, float[] Dw, float[] Db) Backward(float[] x, float[] w, float[] b, float[] dy, int batch, Conv1dGeometry g, float[]? accumulateInto, CpuWorkers? workers)
    {
        var columns = new float[batch * g.OutLength * g.ColumnWidth];
        var channelMajor = new float[batch * g.OutLength * g.OutChannels];
        Conv2d.Forward(new float[batch * g.OutputWidth], columns, channelMajor, x, w, b, batch, g.AsConv2d(), workers);
        float[] dx = accumulateInto ?? Enumerable.Repeat(float.NaN, x.Length).ToArray(); // overwritten when not accumulating
        var dw = new float[w.Length];
        var db = new float[b.Length];
        Conv2d.Backward(dx, dw, db, dy, columns, channelMajor, w, batch, g.AsConv2d(), accumulate: accumulateInto is not null, workers);
        return (dx, dw, db);
    }

    private static (float[] X, float[] W, float[] B, float[] Dy) Problem(int batch, Conv1dGeometry g, int seed)
    {
        var random = new Random(seed);
        return (
            TestData.Uniform(random, batch * g.InputWidth, -1, 1),
            TestData.Uniform(random, g.WeightLength, -0.5, 0.5),
            TestData.Uniform(random, g.OutChannels, -0.5, 0.5),
            TestData.Uniform(random, batch * g.OutputWidth, -1, 1));
    }

    /// <summary>y[n, o, t] = b[o] + sum over the group's channels c and taps k of W[o, c, k] x[n, group * (C / G) + c, t s + k d - p].</summary>
    internal static double[] Reference(double[] x, double[] w, double[]? b, int batch, Conv1dGeometry g)
    {
        int outLength = g.OutLength, groupIn = g.GroupInChannels, groupOut = g.GroupOutChannels;
        var y = new double[batch * g.OutChannels * outLength];
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < g.OutChannels; o++)
            {
                int group = o / groupOut;
                for (int t = 0; t < outLength; t++)
                {
                    double sum = b is null ? 0 : b[o];
                    for (int c = 0; c < groupIn; c++)
                    {
                        int channel = (group * groupIn) + c;
                        for (int k = 0; k < g.Kernel; k++)
                        {
                            int position = (t * g.Stride) + (k * g.Dilation) - g.Padding;
                            if (position >= 0 && position < g.InLength)
                            {
                                sum += w[(((o * groupIn) + c) * g.Kernel) + k] * x[(((n * g.InChannels) + channel) * g.InLength) + position];
                            }
                        }
                    }

                    y[(((n * g.OutChannels) + o) * outLength) + t] = sum;
                }
            }
        }

        return y;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
