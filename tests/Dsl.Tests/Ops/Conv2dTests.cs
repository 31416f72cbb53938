using Dsl.Cpu;
using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>
/// Conv2d against a direct float64 convolution on odd shapes (odd heights and widths, strides 1-3, padding 0-2,
/// dilation 1-2 on either axis, groups 1 and more), its backward against that reference's adjoint and against central
/// differences of the float64 reference and of the float32 kernel itself; im2col and col2im against their
/// definitions; accumulation, threads and refusals.
/// </summary>
public sealed class Conv2dTests
{
    /// <summary>Batch and geometry per case: in channels, height, width, out channels, kernel (h, w), stride (h, w), padding (h, w), dilation (h, w), groups.</summary>
    private static readonly Dictionary<string, (int Batch, Conv2dGeometry G)> Geometries = new()
    {
        ["pointwise"] = (1, new(1, 5, 7, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1)),
        ["square_3x3_padded"] = (2, new(3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
        ["strided_rectangular"] = (3, new(2, 11, 9, 5, 3, 2, 2, 3, 1, 0, 1, 1, 1)),
        ["dilated_height"] = (2, new(3, 9, 11, 4, 3, 3, 1, 2, 2, 1, 2, 1, 1)),
        ["groups_dilated_width"] = (2, new(6, 7, 5, 9, 3, 3, 3, 1, 1, 2, 1, 2, 3)),
        ["depthwise"] = (3, new(4, 9, 7, 4, 2, 3, 2, 2, 0, 1, 1, 1, 4)),
        ["groups_tall_kernel"] = (2, new(4, 5, 9, 6, 3, 1, 1, 2, 2, 0, 2, 1, 2)),
        ["groups_dilated_both"] = (2, new(4, 9, 11, 6, 2, 3, 2, 1, 1, 2, 2, 2, 2)),
        ["single_output"] = (1, new(2, 3, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1)),
        ["stride3_padding2"] = (2, new(3, 5, 7, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1)),
        ["wide_channels"] = (4, new(16, 13, 15, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
    };

    public static TheoryData<string> Cases() => [.. Geometries.Keys];

    /// <summary>The cases small enough to differentiate numerically element by element.</summary>
    public static TheoryData<string> SmallCases() => [.. Geometries.Keys.Where(name => name != "wide_channels")];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_the_float64_reference(string name)
    {
        (int batch, Conv2dGeometry g) = Geometries[name];
        g.Validate(name);
        (float[] x, float[] w, float[] b, _) = Problem(batch, g, seed: name.Length);
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
    [MemberData(nameof(Cases))]
    public void Backward_matches_the_float64_adjoint(string name)
    {
        (int batch, Conv2dGeometry g) = Geometries[name];
        (float[] x, float[] w, float[] b, float[] dy) = Problem(batch, g, seed: 3 * name.Length);
        (float[] dx, float[] dw, float[] db) = Backward(x, w, b, dy, batch, g, accumulateInto: null, workers: null);
        (double[] expectedDx, double[] expectedDw, double[] expectedDb) = ReferenceBackward(TestData.Widen(x), TestData.Widen(w), TestData.Widen(dy), batch, g);
        AssertClose(expectedDx, dx, 2e-5);
        AssertClose(expectedDw, dw, 2e-5);
        AssertClose(expectedDb, db, 2e-5);
    }

    [Theory]
    [MemberData(nameof(SmallCases))]
    public void Backward_matches_central_differences_of_the_float64_forward(string name)
    {
        (int batch, Conv2dGeometry g) = Geometries[name];
        (float[] x, float[] w, float[] b, float[] dy) = Problem(batch, g, seed: (7 * name.Length) + 1);
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

    [Theory]
    [InlineData("groups_dilated_both")]
    [InlineData("stride3_padding2")]
    [InlineData("depthwise")]
    public void Backward_matches_central_differences_of_the_float32_forward(string name)
    {
        // The loss sum(dy * y) is taken in float64 over the kernel's float32 outputs. The convolution is linear in x
        // and in W, so a wide step (1/16) loses nothing to curvature and keeps the float32 rounding of y small beside it.
        (int batch, Conv2dGeometry g) = Geometries[name];
        (float[] x, float[] w, float[] b, float[] dy) = Problem(batch, g, seed: 11 * name.Length);
        (float[] dx, float[] dw, float[] db) = Backward(x, w, b, dy, batch, g, accumulateInto: null, workers: null);
        double[] wideX = TestData.Widen(x), wideW = TestData.Widen(w), wideB = TestData.Widen(b), wideDy = TestData.Widen(dy);
        double Loss(double[] input, double[] weight, double[] bias)
            => Dot(wideDy, TestData.Widen(Forward(Narrow(input), Narrow(weight), Narrow(bias), batch, g, workers: null)));
        const double H = 1.0 / 16;
        for (int k = 0; k < wideX.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideX, k, H, input => Loss(input, wideW, wideB));
            Assert.Equal(expected, dx[k], 2e-4 * (1 + Math.Abs(expected)));
        }

        for (int k = 0; k < wideW.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideW, k, H, weight => Loss(wideX, weight, wideB));
            Assert.Equal(expected, dw[k], 2e-4 * (1 + Math.Abs(expected)));
        }

        for (int k = 0; k < wideB.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideB, k, H, bias => Loss(wideX, wideW, bias));
            Assert.Equal(expected, db[k], 2e-4 * (1 + Math.Abs(expected)));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_columns_are_the_padded_input_at_each_tap_and_col2im_is_their_adjoint(string name)
    {
        (int batch, Conv2dGeometry g) = Geometries[name];
        var random = new Random(name.Length + 40);
        float[] x = TestData.Uniform(random, batch * g.InputSize, -1, 1);
        var columns = new float[batch * g.OutPositions * g.ColumnWidth];
        Conv2d.Columns(columns, x, batch, g);
        int row = 0;
        for (int n = 0; n < batch; n++)
        {
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                for (int ow = 0; ow < g.OutWidth; ow++, row++)
                {
                    for (int c = 0; c < g.InChannels; c++)
                    {
                        for (int kh = 0; kh < g.KernelHeight; kh++)
                        {
                            for (int kw = 0; kw < g.KernelWidth; kw++)
                            {
                                int h = (oh * g.StrideHeight) + (kh * g.DilationHeight) - g.PaddingHeight;
                                int w = (ow * g.StrideWidth) + (kw * g.DilationWidth) - g.PaddingWidth;
                                float expected = h >= 0 && h < g.InHeight && w >= 0 && w < g.InWidth ? x[(((n * g.InChannels) + c) * g.InHeight + h) * g.InWidth + w] : 0f;
                                Assert.Equal(expected, columns[((((c * g.KernelHeight) + kh) * g.KernelWidth) + kw) * batch * g.OutPositions + row]);
                            }
                        }
                    }
                }
            }
        }

        // <Columns(x), dX> = <x, AddColumns(dX)> for any dX.
        float[] dColumns = TestData.Uniform(random, columns.Length, -1, 1);
        float[] dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Conv2d.AddColumns(dx, dColumns, batch, g, accumulate: false);
        double left = Dot(TestData.Widen(columns), TestData.Widen(dColumns)), right = Dot(TestData.Widen(x), TestData.Widen(dx));
        Assert.Equal(left, right, 1e-5 * (1 + Math.Abs(left)));
    }

    [Fact]
    public void Backward_adds_to_the_input_gradient_when_asked()
    {
        (int batch, Conv2dGeometry g) = Geometries["groups_dilated_both"];
        (float[] x, float[] w, float[] b, float[] dy) = Problem(batch, g, seed: 4);
        (float[] dx, float[] dw, float[] db) = Backward(x, w, b, dy, batch, g, accumulateInto: null, workers: null);
        float[] before = TestData.Uniform(new Random(9), dx.Length, -1, 1);
        (float[] added, float[] dwAgain, float[] dbAgain) = Backward(x, w, b, dy, batch, g, accumulateInto: (float[])before.Clone(), workers: null);
        for (int i = 0; i < dx.Length; i++)
        {
            Assert.Equal(before[i] + dx[i], added[i], 1e-6);
        }

        Assert.Equal(dw, dwAgain); // parameter gradients are overwritten either way
        Assert.Equal(db, dbAgain);
    }

    [Fact]
    public void Without_an_input_gradient_or_a_bias_the_backward_still_gives_the_weight_gradient()
    {
        (int batch, Conv2dGeometry g) = Geometries["groups_dilated_width"];
        (float[] x, float[] w, float[] b, float[] dy) = Problem(batch, g, seed: 5);
        (_, float[] dw, _) = Backward(x, w, b, dy, batch, g, accumulateInto: null, workers: null);

        var columns = new float[batch * g.OutPositions * g.ColumnWidth];
        var channelMajor = new float[batch * g.OutPositions * g.OutChannels];
        Conv2d.Forward(new float[batch * g.OutputSize], columns, channelMajor, x, w, [], batch, g, workers: null);
        float[] dwAlone = Enumerable.Repeat(float.NaN, w.Length).ToArray();
        Conv2d.Backward([], dwAlone, [], dy, columns, channelMajor, w, batch, g, accumulate: false, workers: null);
        Assert.Equal(dw, dwAlone);
    }

    [Fact]
    public void Threads_split_the_gemms_without_changing_the_result_beyond_rounding()
    {
        (_, Conv2dGeometry g) = Geometries["wide_channels"];
        const int Batch = 16;
        (float[] x, float[] w, float[] b, float[] dy) = Problem(Batch, g, seed: 12);
        using var workers = new CpuWorkers(2);
        float[] alone = Forward(x, w, b, Batch, g, workers: null);
        float[] split = Forward(x, w, b, Batch, g, workers);
        (float[] dx1, float[] dw1, float[] db1) = Backward(x, w, b, dy, Batch, g, null, workers: null);
        (float[] dx2, float[] dw2, float[] db2) = Backward(x, w, b, dy, Batch, g, null, workers);
        AssertClose(TestData.Widen(alone), split, 1e-5);
        AssertClose(TestData.Widen(dx1), dx2, 1e-5);
        AssertClose(TestData.Widen(dw1), dw2, 1e-4);
        Assert.Equal(db1, db2);

        // And both are the convolution.
        AssertClose(Reference(TestData.Widen(x), TestData.Widen(w), TestData.Widen(b), Batch, g), split, 1e-5);
    }

    [Theory]
    [InlineData(13, 3, 1, 1, 1, 13)]
    [InlineData(13, 3, 2, 1, 1, 7)]
    [InlineData(11, 3, 2, 2, 2, 6)]
    [InlineData(7, 5, 3, 2, 1, 3)]
    [InlineData(9, 2, 3, 0, 2, 3)]
    [InlineData(3, 3, 1, 0, 1, 1)]
    public void The_output_height_and_width_are_pytorch_s(int size, int kernel, int stride, int padding, int dilation, int expected)
    {
        var tall = new Conv2dGeometry(2, size, 4, 3, kernel, 1, stride, 1, padding, 0, dilation, 1, 1);
        var wide = new Conv2dGeometry(2, 4, size, 3, 1, kernel, 1, stride, 0, padding, 1, dilation, 1);
        Assert.Equal((expected, 4), (tall.OutHeight, tall.OutWidth));
        Assert.Equal((4, expected), (wide.OutHeight, wide.OutWidth));
        Assert.Equal(expected * 4, tall.OutPositions);
        Assert.Equal(3 * expected * 4, tall.OutputSize);
    }

    [Fact]
    public void The_sizes_follow_pytorch_s_layouts()
    {
        var g = new Conv2dGeometry(6, 7, 5, 9, 3, 2, 1, 1, 0, 0, 1, 1, 3);
        Assert.Equal((2, 3), (g.GroupInChannels, g.GroupOutChannels));
        Assert.Equal(2 * 3 * 2, g.GroupColumnWidth);
        Assert.Equal(9 * 2 * 3 * 2, g.WeightLength);
        Assert.Equal(6 * 3 * 2, g.ColumnWidth);
        Assert.Equal(6 * 7 * 5, g.InputSize);
        Assert.Equal(9 * 5 * 4, g.OutputSize);
    }

    [Theory]
    // in channels, height, width, out channels, kernel (h, w), stride (h, w), padding (h, w), dilation (h, w), groups
    [InlineData(0, 5, 5, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1, "its input (0, 5, 5) has no elements")]
    [InlineData(2, 5, 5, 0, 3, 3, 1, 1, 0, 0, 1, 1, 1, "it has 0 output channels")]
    [InlineData(2, 5, 5, 4, 0, 3, 1, 1, 0, 0, 1, 1, 1, "its kernel is (0, 3)")]
    [InlineData(2, 5, 5, 4, 3, 3, 1, 0, 0, 0, 1, 1, 1, "its stride is (1, 0)")]
    [InlineData(2, 5, 5, 4, 3, 3, 1, 1, 0, -1, 1, 1, 1, "its padding is (0, -1)")]
    [InlineData(2, 5, 5, 4, 3, 3, 1, 1, 0, 0, 0, 1, 1, "its dilation is (0, 1)")]
    [InlineData(2, 5, 5, 4, 3, 3, 1, 1, 0, 0, 1, 1, 3, "its 2 input and 4 output channels do not both divide into 3 groups")]
    [InlineData(2, 5, 5, 4, 6, 3, 1, 1, 0, 0, 1, 1, 1, "its input height 5 with padding 0 is shorter than its kernel height 6 at dilation 1")]
    [InlineData(2, 5, 6, 4, 3, 5, 1, 1, 0, 1, 1, 2, 1, "its input width 6 with padding 1 is narrower than its kernel width 5 at dilation 2")]
    public void A_geometry_out_of_range_is_refused_by_name(
        int inChannels, int height, int width, int outChannels, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
        int paddingHeight, int paddingWidth, int dilationHeight, int dilationWidth, int groups, string problem)
    {
        var g = new Conv2dGeometry(inChannels, height, width, outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth, dilationHeight, dilationWidth, groups);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => g.Validate("Conv2d 'Conv'"));
        Assert.StartsWith("Conv2d 'Conv': " + problem + ".", error.Message, StringComparison.Ordinal);
        Assert.Equal("Conv2d 'Conv'", error.ParamName);
        var columns = new float[1 << 10];
        Assert.Throws<ArgumentOutOfRangeException>(() => Conv2d.Columns(columns, columns, 1, g));
    }

    [Fact]
    public void A_geometry_whose_columns_exceed_two_to_the_31_floats_is_refused()
    {
        var g = new Conv2dGeometry(4096, 1024, 1024, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => g.Validate("Conv2d 'Big'"));
        Assert.Contains("exceed 2^31 floats per sample", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Short_buffers_are_refused_by_name_and_length()
    {
        (int batch, Conv2dGeometry g) = Geometries["strided_rectangular"];
        int columns = batch * g.OutPositions * g.ColumnWidth, channelMajor = batch * g.OutPositions * g.OutChannels;
        int x = batch * g.InputSize, y = batch * g.OutputSize;
        void Forward(int output = 0, int columnsShort = 0, int channelShort = 0, int input = 0, int weight = 0, int bias = 0)
            => Conv2d.Forward(new float[y - output], new float[columns - columnsShort], new float[channelMajor - channelShort], new float[x - input],
                new float[g.WeightLength - weight], new float[g.OutChannels - bias], batch, g, workers: null);
        void Backward(int dInput = 0, int dWeight = 0, int dBias = 0, int dOutput = 0, int columnsShort = 0, int channelShort = 0, int weight = 0)
            => Conv2d.Backward(new float[x - dInput], new float[g.WeightLength - dWeight], new float[g.OutChannels - dBias], new float[y - dOutput],
                new float[columns - columnsShort], new float[channelMajor - channelShort], new float[g.WeightLength - weight], batch, g, accumulate: false, workers: null);

        Forward();
        Backward();
        Refused(() => Forward(output: 1), "output", y);
        Refused(() => Forward(columnsShort: 1), "columns", columns);
        Refused(() => Forward(input: 1), "input", x);
        Refused(() => Forward(weight: 1), "weight", g.WeightLength);
        Refused(() => Forward(bias: 1), "bias", g.OutChannels);
        Refused(() => Backward(dInput: 1), "dInput", x);
        Refused(() => Backward(dWeight: 1), "dWeight", g.WeightLength);
        Refused(() => Backward(dBias: 1), "dBias", g.OutChannels);
        Refused(() => Backward(dOutput: 1), "dOutput", y);
        Refused(() => Backward(columnsShort: 1), "columns", columns);
        Refused(() => Backward(channelShort: 1), "channelMajor", channelMajor);
        Refused(() => Backward(weight: 1), "weight", g.WeightLength);
        Refused(() => Conv2d.Columns(new float[columns], new float[x - 1], batch, g), "input", x);
        Refused(() => Conv2d.AddColumns(new float[x], new float[columns - 1], batch, g, accumulate: true), "dColumns", columns);
        Refused(() => Forward(channelShort: 1), "channelMajor", channelMajor);
    }

    private static void Refused(Action call, string buffer, int needed)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(call);
        Assert.Equal(buffer, error.ParamName);
        Assert.Contains($"{buffer} holds {needed - 1} floats; the convolution needs {needed}.", error.Message, StringComparison.Ordinal);
    }

    private static float[] Forward(float[] x, float[] w, float[] b, int batch, Conv2dGeometry g, CpuWorkers? workers)
    {
        float[] y = Enumerable.Repeat(float.NaN, batch * g.OutputSize).ToArray();
        Conv2d.Forward(y, new float[batch * g.OutPositions * g.ColumnWidth], new float[batch * g.OutPositions * g.OutChannels], x, w, b, batch, g, workers);
        return y;
    }

    private static (float[] Dx, float[] Dw, float[] Db) Backward(float[] x, float[] w, float[] b, float[] dy, int batch, Conv2dGeometry g, float[]? accumulateInto, CpuWorkers? workers)
    {
        var columns = new float[batch * g.OutPositions * g.ColumnWidth];
        var channelMajor = new float[batch * g.OutPositions * g.OutChannels];
        Conv2d.Forward(new float[batch * g.OutputSize], columns, channelMajor, x, w, b, batch, g, workers);
        float[] dx = accumulateInto ?? Enumerable.Repeat(float.NaN, x.Length).ToArray(); // overwritten when not accumulating
        float[] dw = Enumerable.Repeat(float.NaN, w.Length).ToArray();
        float[] db = Enumerable.Repeat(float.NaN, b.Length).ToArray();
        Conv2d.Backward(dx, dw, db, dy, columns, channelMajor, w, batch, g, accumulate: accumulateInto is not null, workers);
        return (dx, dw, db);
    }

    private static (float[] X, float[] W, float[] B, float[] Dy) Problem(int batch, Conv2dGeometry g, int seed)
    {
        var random = new Random(seed);
        return (
            TestData.Uniform(random, batch * g.InputSize, -1, 1),
            TestData.Uniform(random, g.WeightLength, -0.5, 0.5),
            TestData.Uniform(random, g.OutChannels, -0.5, 0.5),
            TestData.Uniform(random, batch * g.OutputSize, -1, 1));
    }

    /// <summary>
    /// Every product of the convolution once: (the output index (n, o, oh, ow), the input index (n, c, h, w), the weight
    /// index (o, c - group start, kh, kw)) for each tap that lands inside the input.
    /// </summary>
    private static IEnumerable<(int Output, int Input, int Weight)> Products(int batch, Conv2dGeometry g)
    {
        int groupIn = g.GroupInChannels, groupOut = g.GroupOutChannels, output = 0;
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < g.OutChannels; o++)
            {
                int group = o / groupOut;
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    for (int ow = 0; ow < g.OutWidth; ow++, output++)
                    {
                        for (int c = 0; c < groupIn; c++)
                        {
                            int channel = (group * groupIn) + c;
                            for (int kh = 0; kh < g.KernelHeight; kh++)
                            {
                                int h = (oh * g.StrideHeight) + (kh * g.DilationHeight) - g.PaddingHeight;
                                for (int kw = 0; kw < g.KernelWidth; kw++)
                                {
                                    int w = (ow * g.StrideWidth) + (kw * g.DilationWidth) - g.PaddingWidth;
                                    if (h >= 0 && h < g.InHeight && w >= 0 && w < g.InWidth)
                                    {
                                        yield return (output, ((((n * g.InChannels) + channel) * g.InHeight) + h) * g.InWidth + w, ((((o * groupIn) + c) * g.KernelHeight) + kh) * g.KernelWidth + kw);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>y[n, o, oh, ow] = b[o] + the sum over the group's channels c and taps (kh, kw) of W[o, c, kh, kw] x[n, group start + c, oh sh + kh dh - ph, ow sw + kw dw - pw].</summary>
    internal static double[] Reference(double[] x, double[] w, double[]? b, int batch, Conv2dGeometry g)
    {
        var y = new double[batch * g.OutputSize];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = b is null ? 0 : b[(i / g.OutPositions) % g.OutChannels];
        }

        foreach ((int output, int input, int weight) in Products(batch, g))
        {
            y[output] += w[weight] * x[input];
        }

        return y;
    }

    /// <summary>The adjoint of <see cref="Reference"/>: dx and dW from dy through every product, db the sums of dy per channel.</summary>
    internal static (double[] Dx, double[] Dw, double[] Db) ReferenceBackward(double[] x, double[] w, double[] dy, int batch, Conv2dGeometry g)
    {
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[g.OutChannels];
        foreach ((int output, int input, int weight) in Products(batch, g))
        {
            dx[input] += w[weight] * dy[output];
            dw[weight] += x[input] * dy[output];
        }

        for (int i = 0; i < dy.Length; i++)
        {
            db[(i / g.OutPositions) % g.OutChannels] += dy[i];
        }

        return (dx, dw, db);
    }

    private static void AssertClose(double[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], relative * (1 + Math.Abs(expected[i])));
        }
    }

    private static float[] Narrow(double[] values) => [.. values.Select(v => (float)v)];

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
