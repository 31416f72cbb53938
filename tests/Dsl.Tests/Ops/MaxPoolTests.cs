using Dsl.Ops;
using Xunit;
using static Dsl.Tests.Ops.PoolReference;

namespace Dsl.Tests.Ops;

/// <summary>
/// MaxPool against the definition on odd shapes (2d and 1d, strides 1-3, padding 0-2 within PyTorch's limit, dilation
/// 1-2), on inputs of distinct values spaced apart so that the maximum of each window is unambiguous and finite
/// differences are exact; PyTorch's rules for ties, NaN and windows of -infinity; accumulation and refusals.
/// </summary>
public sealed class MaxPoolTests
{
    public static TheoryData<string> Cases() => [.. Geometries.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_takes_the_largest_input_of_each_window_and_records_where_it_was(string name)
    {
        (int batch, PoolGeometry g) = Geometries[name];
        g.Validate(name, average: false);
        float[] x = Spaced(new Random(name.Length), batch * g.InputSize);
        (float[] y, int[] argmax) = Forward(x, batch, g);
        Assert.Equal(batch * g.OutputSize, y.Length);
        for (int o = 0; o < y.Length; o++)
        {
            List<int> window = Window(o, g);
            int best = window.MaxBy(i => (double)x[i]);
            Assert.Equal(x[best], y[o]);
            Assert.Equal(best % g.InPositions, argmax[o]); // an index within the channel's plane
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_routes_each_output_gradient_to_the_input_it_took(string name)
    {
        (int batch, PoolGeometry g) = Geometries[name];
        var random = new Random(3 * name.Length);
        float[] x = Spaced(random, batch * g.InputSize);
        float[] dy = TestData.Uniform(random, batch * g.OutputSize, -1, 1);
        float[] dx = Backward(x, dy, batch, g, accumulateInto: null);
        var expected = new double[x.Length];
        for (int o = 0; o < dy.Length; o++)
        {
            expected[Window(o, g).MaxBy(i => (double)x[i])] += dy[o];
        }

        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(expected[i], dx[i], 1e-6);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_central_differences_of_the_float64_and_the_float32_forward(string name)
    {
        (int batch, PoolGeometry g) = Geometries[name];
        var random = new Random((7 * name.Length) + 1);
        float[] x = Spaced(random, batch * g.InputSize);
        double[] dy = TestData.Widen(TestData.Uniform(random, batch * g.OutputSize, -1, 1));
        float[] dx = Backward(x, PoolReference.Narrow(dy), batch, g, accumulateInto: null);
        double[] wideX = TestData.Widen(x);
        double ReferenceLoss(double[] input) => Dot(dy, Reference(input, batch, g));
        double KernelLoss(double[] input) => Dot(dy, TestData.Widen(Forward(PoolReference.Narrow(input), batch, g).Y));

        // Half the spacing of the inputs less a margin: no window changes its maximum, and x +- H is exact in float32.
        const double H = 1.0 / 32;
        for (int k = 0; k < wideX.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideX, k, H, ReferenceLoss);
            Assert.Equal(expected, dx[k], 1e-6 * (1 + Math.Abs(expected)));
            Assert.Equal(expected, Float64Reference.CentralDifference(wideX, k, H, KernelLoss), 1e-9 * (1 + Math.Abs(expected)));
        }
    }

    [Fact]
    public void Backward_adds_to_the_input_gradient_when_asked()
    {
        (int batch, PoolGeometry g) = Geometries["3x3_stride1_padded"];
        var random = new Random(4);
        float[] x = Spaced(random, batch * g.InputSize);
        float[] dy = TestData.Uniform(random, batch * g.OutputSize, -1, 1);
        float[] dx = Backward(x, dy, batch, g, accumulateInto: null);
        float[] before = TestData.Uniform(random, dx.Length, -1, 1);
        float[] added = Backward(x, dy, batch, g, accumulateInto: (float[])before.Clone());
        for (int i = 0; i < dx.Length; i++)
        {
            Assert.Equal(before[i] + dx[i], added[i], 1e-6);
        }
    }

    [Fact]
    public void Overlapping_windows_that_take_the_same_input_add_their_gradients()
    {
        // Windows (pad, 0, 5), (0, 5, 1), (5, 1, 2), (1, 2, 0), (2, 0, pad): the 5 is taken three times, the 2 twice.
        var g = PoolGeometry.OneDimensional(1, 5, 3, 1, 1, 1);
        float[] x = [0, 5, 1, 2, 0];
        Assert.Equal([1, 1, 1, 3, 3], Forward(x, 1, g).Argmax);
        Assert.Equal([0, 6, 0, 9, 0], Backward(x, [1, 2, 3, 4, 5], 1, g, accumulateInto: null));
    }

    [Fact]
    public void Ties_take_the_first_input_of_the_window_in_row_major_order()
    {
        var g = new PoolGeometry(1, 3, 4, 2, 2, 1, 2, 1, 1, 1, 1);
        float[] x = Enumerable.Repeat(0.5f, g.InputSize).ToArray();
        (float[] y, int[] argmax) = Forward(x, 1, g);
        Assert.All(y, v => Assert.Equal(0.5f, v));
        for (int o = 0; o < y.Length; o++)
        {
            Assert.Equal(Window(o, g)[0], argmax[o]); // the first tap inside the input; the padding is never taken
        }
    }

    [Fact]
    public void A_nan_propagates_and_the_last_nan_of_a_window_is_taken()
    {
        // One plane (3, 3), a 3x3 window over the whole of it.
        var g = new PoolGeometry(1, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1);
        float[] x = [1, 2, float.NaN, 9, 3, float.NaN, 4, 8, 5];
        (float[] y, int[] argmax) = Forward(x, 1, g);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(5, argmax[0]);
        float[] dx = Backward(x, [2f], 1, g, accumulateInto: null);
        Assert.Equal([0, 0, 0, 0, 0, 2, 0, 0, 0], dx);

        x[5] = 7;
        (y, argmax) = Forward(x, 1, g);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(2, argmax[0]);
    }

    [Fact]
    public void A_window_of_negative_infinities_takes_its_first_input()
    {
        var g = PoolGeometry.OneDimensional(1, 5, 3, 2, 1, 1);
        float[] x = Enumerable.Repeat(float.NegativeInfinity, 5).ToArray();
        (float[] y, int[] argmax) = Forward(x, 1, g);
        Assert.All(y, v => Assert.Equal(float.NegativeInfinity, v));
        Assert.Equal([0, 1, 3], argmax);
    }

    [Fact]
    public void A_window_entirely_in_the_padding_gives_negative_infinity_and_no_gradient()
    {
        // Width 2, kernel 2 at dilation 4 with padding 2: the taps are at -2 and 2, then at -1 and 3, all padding.
        var g = PoolGeometry.OneDimensional(2, 2, 2, 1, 2, 4);
        g.Validate("MaxPool1d", average: false);
        float[] x = [1, 2, 3, 4];
        (float[] y, int[] argmax) = Forward(x, 1, g);
        Assert.All(y, v => Assert.Equal(float.NegativeInfinity, v));
        Assert.All(argmax, i => Assert.Equal(-1, i));
        Assert.Equal(new float[4], Backward(x, [1, 2, 3, 4], 1, g, accumulateInto: null));
    }

    [Fact]
    public void An_argmax_outside_its_plane_is_refused()
    {
        var g = PoolGeometry.OneDimensional(1, 5, 3, 2, 1, 1);
        var dx = new float[5];
        ArgumentException error = Assert.Throws<ArgumentException>(() => MaxPool.Backward(dx, [1, 1, 1], [0, 5, 3], 1, g, accumulate: false));
        Assert.Equal("argmax", error.ParamName);
        Assert.Contains("argmax[1] is 5", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MaxPool.Backward(dx, [1, 1, 1], [0, -2, 3], 1, g, accumulate: false));
    }

    [Fact]
    public void One_dimensional_pooling_is_a_single_row_of_the_two_dimensional_one()
    {
        var g = PoolGeometry.OneDimensional(3, 13, 4, 2, 1, 2);
        Assert.Equal(new PoolGeometry(3, 1, 13, 1, 4, 1, 2, 0, 1, 1, 2), g);
        Assert.Equal((1, 5), (g.OutHeight, g.OutWidth)); // floor((13 + 2 - 2 (4 - 1) - 1) / 2) + 1, as nn.MaxPool1d
        Assert.Equal(15, g.OutputSize);
        Assert.Equal(39, g.InputSize);
    }

    [Theory]
    [InlineData(2, 5, 5, 3, 3, 1, 1, 2, 0, 1, 1, "its padding height 2 is more than half its kernel height 3 at dilation 1 (at most 1)")]
    [InlineData(2, 9, 9, 3, 3, 1, 1, 0, 3, 2, 2, "its padding width 3 is more than half its kernel width 3 at dilation 2 (at most 2)")]
    [InlineData(2, 5, 5, 2, 2, 1, 1, 0, 2, 1, 1, "its padding width 2 is more than half its kernel width 2 at dilation 1 (at most 1)")]
    [InlineData(0, 5, 5, 3, 3, 1, 1, 0, 0, 1, 1, "its input (0, 5, 5) has no elements")]
    [InlineData(2, 5, 5, 3, 0, 1, 1, 0, 0, 1, 1, "its kernel is (3, 0)")]
    [InlineData(2, 5, 5, 3, 3, 0, 1, 0, 0, 1, 1, "its stride is (0, 1)")]
    [InlineData(2, 5, 5, 3, 3, 1, 1, -1, 0, 1, 1, "its padding is (-1, 0)")]
    [InlineData(2, 5, 5, 3, 3, 1, 1, 0, 0, 1, 0, "its dilation is (1, 0)")]
    [InlineData(2, 2, 5, 3, 3, 1, 1, 0, 0, 1, 1, "its input height 2 with padding 0 is shorter than its kernel height 3 at dilation 1")]
    [InlineData(2, 5, 2, 3, 3, 1, 1, 0, 1, 1, 2, "its input width 2 with padding 1 is narrower than its kernel width 3 at dilation 2")]
    public void A_geometry_out_of_range_is_refused_by_name(
        int channels, int height, int width, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight, int paddingWidth, int dilationHeight, int dilationWidth, string problem)
    {
        var g = new PoolGeometry(channels, height, width, kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth, dilationHeight, dilationWidth);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => g.Validate("MaxPool2d 'Pool'", average: false));
        Assert.StartsWith("MaxPool2d 'Pool': " + problem + ".", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => MaxPool.Forward(new float[100], new int[100], new float[100], 1, g));
    }

    [Fact]
    public void Padding_up_to_half_the_dilated_kernel_is_accepted()
    {
        new PoolGeometry(1, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1).Validate("MaxPool2d", average: false);
        new PoolGeometry(1, 9, 9, 3, 4, 1, 1, 2, 2, 2, 1).Validate("MaxPool2d", average: false); // (2 * 2 + 1) / 2 = 2 and (3 + 1) / 2 = 2
        PoolGeometry.OneDimensional(1, 9, 2, 1, 2, 3).Validate("MaxPool1d", average: false); // (1 * 3 + 1) / 2 = 2
    }

    [Fact]
    public void Short_buffers_are_refused_by_name_and_length()
    {
        (int batch, PoolGeometry g) = Geometries["rectangular_stride3"];
        int x = batch * g.InputSize, y = batch * g.OutputSize;
        MaxPool.Forward(new float[y], new int[y], new float[x], batch, g);
        MaxPool.Backward(new float[x], new float[y], new int[y], batch, g, accumulate: false);
        Refused(() => MaxPool.Forward(new float[y - 1], new int[y], new float[x], batch, g), "output", y);
        Refused(() => MaxPool.Forward(new float[y], new int[y - 1], new float[x], batch, g), "argmax", y, "indices");
        Refused(() => MaxPool.Forward(new float[y], new int[y], new float[x - 1], batch, g), "input", x);
        Refused(() => MaxPool.Backward(new float[x - 1], new float[y], new int[y], batch, g, accumulate: false), "dInput", x);
        Refused(() => MaxPool.Backward(new float[x], new float[y - 1], new int[y], batch, g, accumulate: true), "dOutput", y);
        Refused(() => MaxPool.Backward(new float[x], new float[y], new int[y - 1], batch, g, accumulate: false), "argmax", y, "indices");
    }

    private static (float[] Y, int[] Argmax) Forward(float[] x, int batch, PoolGeometry g)
    {
        float[] y = Enumerable.Repeat(float.NaN, batch * g.OutputSize).ToArray();
        int[] argmax = Enumerable.Repeat(int.MinValue, batch * g.OutputSize).ToArray();
        MaxPool.Forward(y, argmax, x, batch, g);
        return (y, argmax);
    }

    private static float[] Backward(float[] x, float[] dy, int batch, PoolGeometry g, float[]? accumulateInto)
    {
        (_, int[] argmax) = Forward(x, batch, g);
        float[] dx = accumulateInto ?? Enumerable.Repeat(float.NaN, x.Length).ToArray(); // overwritten when not accumulating
        MaxPool.Backward(dx, dy, argmax, batch, g, accumulate: accumulateInto is not null);
        return dx;
    }

    /// <summary>y = the largest input of each window, in float64.</summary>
    private static double[] Reference(double[] x, int batch, PoolGeometry g)
        => [.. Enumerable.Range(0, batch * g.OutputSize).Select(o => Window(o, g).Max(i => x[i]))];
}
