using Dsl.Ops;
using Xunit;
using static Dsl.Tests.Ops.PoolReference;

namespace Dsl.Tests.Ops;

/// <summary>
/// AvgPool against the definition in float64 on odd shapes (2d and 1d, strides 1-3, padding 0-2 up to half the
/// kernel), with PyTorch's defaults (count_include_pad: every window divides by the kernel's size, padding counted as
/// zeros); its backward against that reference's adjoint and central differences; accumulation and refusals.
/// </summary>
public sealed class AvgPoolTests
{
    public static TheoryData<string> Cases() => [.. Geometries.Where(c => !Dilated(c.Value.G)).Select(c => c.Key)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_the_float64_reference(string name)
    {
        (int batch, PoolGeometry g) = Geometries[name];
        g.Validate(name, average: true);
        float[] x = TestData.Uniform(new Random(name.Length), batch * g.InputSize, -1, 1);
        float[] y = Forward(x, batch, g);
        double[] expected = Reference(TestData.Widen(x), batch, g);
        Assert.Equal(expected.Length, y.Length);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.Equal(expected[i], y[i], 1e-6 * (1 + Math.Abs(expected[i])));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_the_float64_adjoint(string name)
    {
        (int batch, PoolGeometry g) = Geometries[name];
        float[] dy = TestData.Uniform(new Random(3 * name.Length), batch * g.OutputSize, -1, 1);
        float[] dx = Backward(dy, batch, g, accumulateInto: null);
        var expected = new double[batch * g.InputSize];
        for (int o = 0; o < dy.Length; o++)
        {
            foreach (int i in Window(o, g))
            {
                expected[i] += (double)dy[o] / (g.KernelHeight * g.KernelWidth);
            }
        }

        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], dx[i], 1e-6 * (1 + Math.Abs(expected[i])));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_central_differences_of_the_float64_and_the_float32_forward(string name)
    {
        (int batch, PoolGeometry g) = Geometries[name];
        var random = new Random((7 * name.Length) + 1);
        double[] wideX = TestData.Widen(TestData.Uniform(random, batch * g.InputSize, -1, 1));
        double[] dy = TestData.Widen(TestData.Uniform(random, batch * g.OutputSize, -1, 1));
        float[] dx = Backward(PoolReference.Narrow(dy), batch, g, accumulateInto: null);
        double ReferenceLoss(double[] input) => Dot(dy, Reference(input, batch, g));
        double KernelLoss(double[] input) => Dot(dy, TestData.Widen(Forward(PoolReference.Narrow(input), batch, g)));

        // The pool is linear: a wide step loses nothing to curvature and keeps the float32 rounding small beside it.
        const double H = 1.0 / 16;
        for (int k = 0; k < wideX.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideX, k, H, ReferenceLoss);
            Assert.Equal(expected, dx[k], 1e-6 * (1 + Math.Abs(expected)));
            Assert.Equal(expected, Float64Reference.CentralDifference(wideX, k, H, KernelLoss), 1e-5 * (1 + Math.Abs(expected)));
        }
    }

    [Fact]
    public void The_padding_counts_in_the_divisor()
    {
        // nn.AvgPool1d(3, stride=2, padding=1) on (1, 2, 3, 4, 5): (0 + 1 + 2) / 3, (2 + 3 + 4) / 3, (4 + 5 + 0) / 3.
        var g = PoolGeometry.OneDimensional(1, 5, 3, 2, 1, 1);
        Assert.Equal([1f, 3f, 3f], Forward([1, 2, 3, 4, 5], 1, g));
        Assert.Equal([1f / 3, 2f / 3, 1f / 3, 2f / 3, 1f / 3], Backward([1, 1, 1], 1, g, accumulateInto: null));
    }

    [Fact]
    public void Backward_adds_to_the_input_gradient_when_asked()
    {
        (int batch, PoolGeometry g) = Geometries["3x3_stride2_padded"];
        var random = new Random(4);
        float[] dy = TestData.Uniform(random, batch * g.OutputSize, -1, 1);
        float[] dx = Backward(dy, batch, g, accumulateInto: null);
        float[] before = TestData.Uniform(random, dx.Length, -1, 1);
        float[] added = Backward(dy, batch, g, accumulateInto: (float[])before.Clone());
        for (int i = 0; i < dx.Length; i++)
        {
            Assert.Equal(before[i] + dx[i], added[i], 1e-6);
        }
    }

    [Theory]
    [InlineData(2, 5, 5, 3, 3, 1, 1, 2, 0, 1, 1, "its padding height 2 is more than half its kernel height 3 (at most 1)")]
    [InlineData(2, 9, 9, 4, 2, 1, 1, 2, 2, 1, 1, "its padding width 2 is more than half its kernel width 2 (at most 1)")]
    [InlineData(2, 9, 9, 3, 3, 1, 1, 1, 1, 2, 1, "its dilation is (2, 1), but an average pool has no dilation")]
    [InlineData(2, 5, 5, 3, 3, 0, 1, 0, 0, 1, 1, "its stride is (0, 1)")]
    [InlineData(2, 5, 2, 3, 3, 1, 1, 0, 0, 1, 1, "its input width 2 with padding 0 is narrower than its kernel width 3 at dilation 1")]
    public void A_geometry_out_of_range_is_refused_by_name(
        int channels, int height, int width, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight, int paddingWidth, int dilationHeight, int dilationWidth, string problem)
    {
        var g = new PoolGeometry(channels, height, width, kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth, dilationHeight, dilationWidth);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => g.Validate("AvgPool2d 'Pool'", average: true));
        Assert.StartsWith("AvgPool2d 'Pool': " + problem + ".", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => AvgPool.Forward(new float[100], new float[100], 1, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => AvgPool.Backward(new float[100], new float[100], 1, g, accumulate: false));
    }

    [Fact]
    public void Padding_up_to_half_the_kernel_is_accepted_and_dilation_is_a_max_pool_s_alone()
    {
        var g = new PoolGeometry(1, 9, 9, 4, 5, 1, 1, 2, 2, 1, 1);
        g.Validate("AvgPool2d", average: true);
        var dilated = PoolGeometry.OneDimensional(1, 9, 3, 1, 2, 2);
        dilated.Validate("MaxPool1d", average: false);
        Assert.Throws<ArgumentOutOfRangeException>(() => dilated.Validate("AvgPool1d", average: true));
    }

    [Fact]
    public void Short_buffers_are_refused_by_name_and_length()
    {
        (int batch, PoolGeometry g) = Geometries["tall_kernel_padding2"];
        int x = batch * g.InputSize, y = batch * g.OutputSize;
        AvgPool.Forward(new float[y], new float[x], batch, g);
        AvgPool.Backward(new float[x], new float[y], batch, g, accumulate: false);
        Refused(() => AvgPool.Forward(new float[y - 1], new float[x], batch, g), "output", y);
        Refused(() => AvgPool.Forward(new float[y], new float[x - 1], batch, g), "input", x);
        Refused(() => AvgPool.Backward(new float[x - 1], new float[y], batch, g, accumulate: false), "dInput", x);
        Refused(() => AvgPool.Backward(new float[x], new float[y - 1], batch, g, accumulate: true), "dOutput", y);
    }

    private static float[] Forward(float[] x, int batch, PoolGeometry g)
    {
        float[] y = Enumerable.Repeat(float.NaN, batch * g.OutputSize).ToArray();
        AvgPool.Forward(y, x, batch, g);
        return y;
    }

    private static float[] Backward(float[] dy, int batch, PoolGeometry g, float[]? accumulateInto)
    {
        float[] dx = accumulateInto ?? Enumerable.Repeat(float.NaN, batch * g.InputSize).ToArray(); // overwritten when not accumulating
        AvgPool.Backward(dx, dy, batch, g, accumulate: accumulateInto is not null);
        return dx;
    }

    /// <summary>y = the sum of each window's taps inside the input over the kernel's size, in float64.</summary>
    private static double[] Reference(double[] x, int batch, PoolGeometry g)
        => [.. Enumerable.Range(0, batch * g.OutputSize).Select(o => Window(o, g).Sum(i => x[i]) / (g.KernelHeight * g.KernelWidth))];
}
