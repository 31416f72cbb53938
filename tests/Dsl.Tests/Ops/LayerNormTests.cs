using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>LayerNorm against a float64 reference on odd shapes, its backward against central differences of that reference.</summary>
public sealed class LayerNormTests
{
    public static TheoryData<int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, bool>();
        foreach ((int rows, int features) in new[] { (1, 1), (1, 7), (7, 13), (33, 3), (5, 100), (3, 257) })
        {
            data.Add(rows, features, true);
            data.Add(rows, features, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_matches_the_float64_reference(int rows, int features, bool affine)
    {
        (float[] x, float[]? gain, float[]? bias, _) = Problem(rows, features, affine, seed: (rows * 1000) + features);
        var y = new float[rows * features];
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNorm.Forward(y, mean, rstd, x, gain, bias, rows, features, LayerNorm.DefaultEpsilon);

        double[] expected = NormalizationReference.LayerNorm(TestData.Widen(x), Widen(gain), Widen(bias), rows, features, LayerNorm.DefaultEpsilon);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.Equal(expected[i], y[i], 2e-5 * (1 + Math.Abs(expected[i])));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_matches_central_differences_of_the_float64_forward(int rows, int features, bool affine)
    {
        (float[] x, float[]? gain, float[]? bias, float[] dy) = Problem(rows, features, affine, seed: (rows * 77) + features);
        var y = new float[rows * features];
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNorm.Forward(y, mean, rstd, x, gain, bias, rows, features, LayerNorm.DefaultEpsilon);
        var dx = new float[rows * features];
        var dGain = new float[gain?.Length ?? 0];
        var dBias = new float[bias?.Length ?? 0];
        LayerNorm.Backward(dx, dGain, dBias, dy, x, mean, rstd, gain, new float[2 * features], rows, features, accumulate: false);

        double[] wideX = TestData.Widen(x), wideDy = TestData.Widen(dy);
        double[]? wideGain = Widen(gain), wideBias = Widen(bias);
        double Loss(double[] input, double[]? g, double[]? b) => NormalizationReference.Dot(wideDy, NormalizationReference.LayerNorm(input, g, b, rows, features, LayerNorm.DefaultEpsilon));
        const double H = 1e-4;
        for (int k = 0; k < wideX.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideX, k, H, input => Loss(input, wideGain, wideBias));
            Assert.Equal(expected, dx[k], 1e-4 * (1 + Math.Abs(expected)));
        }

        if (affine)
        {
            for (int j = 0; j < features; j++)
            {
                double expectedGain = Float64Reference.CentralDifference(wideGain!, j, H, g => Loss(wideX, g, wideBias));
                double expectedBias = Float64Reference.CentralDifference(wideBias!, j, H, b => Loss(wideX, wideGain, b));
                Assert.Equal(expectedGain, dGain[j], 1e-4 * (1 + Math.Abs(expectedGain)));
                Assert.Equal(expectedBias, dBias[j], 1e-4 * (1 + Math.Abs(expectedBias)));
            }
        }
    }

    [Fact]
    public void Backward_adds_to_the_input_gradient_when_asked_and_overwrites_otherwise()
    {
        (float[] x, float[]? gain, float[]? bias, float[] dy) = Problem(rows: 4, features: 9, affine: true, seed: 5);
        var y = new float[36];
        var mean = new float[4];
        var rstd = new float[4];
        LayerNorm.Forward(y, mean, rstd, x, gain, bias, 4, 9, LayerNorm.DefaultEpsilon);
        float[] fresh = new float[36];
        LayerNorm.Backward(fresh, new float[9], new float[9], dy, x, mean, rstd, gain, new float[18], 4, 9, accumulate: false);

        float[] existing = TestData.Uniform(new Random(6), 36, -1, 1);
        float[] accumulated = (float[])existing.Clone();
        LayerNorm.Backward(accumulated, new float[9], new float[9], dy, x, mean, rstd, gain, new float[18], 4, 9, accumulate: true);
        for (int i = 0; i < 36; i++)
        {
            Assert.Equal(existing[i] + fresh[i], accumulated[i], 1e-6);
        }

        float[] overwritten = (float[])existing.Clone();
        LayerNorm.Backward(overwritten, new float[9], new float[9], dy, x, mean, rstd, gain, new float[18], 4, 9, accumulate: false);
        Assert.Equal(fresh, overwritten);
    }

    [Fact]
    public void A_constant_row_normalises_to_zero_and_its_gradient_is_finite()
    {
        float[] x = [3f, 3f, 3f, 3f, 3f];
        var y = new float[5];
        var mean = new float[1];
        var rstd = new float[1];
        LayerNorm.Forward(y, mean, rstd, x, default, default, 1, 5, LayerNorm.DefaultEpsilon);
        Assert.All(y, value => Assert.Equal(0f, value));
        Assert.Equal(1f / MathF.Sqrt(LayerNorm.DefaultEpsilon), rstd[0], 1e-2f);

        var dx = new float[5];
        LayerNorm.Backward(dx, default, default, [1f, -2f, 0.5f, 0f, 3f], x, mean, rstd, default, new float[10], 1, 5, accumulate: false);
        Assert.All(dx, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void Shapes_are_checked()
    {
        Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[5], new float[1], new float[1], new float[6], new float[6], default, 1, 6, 1e-5f));
        Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[6], new float[1], new float[1], new float[6], new float[5], default, 1, 6, 1e-5f));
        Assert.Throws<ArgumentException>(() => LayerNorm.Backward(new float[6], new float[6], default, new float[6], new float[6], new float[1], new float[1], new float[6], new float[6], 1, 6, false));
    }

    private static (float[] X, float[]? Gain, float[]? Bias, float[] Dy) Problem(int rows, int features, bool affine, int seed)
    {
        var random = new Random(seed);
        float[] x = TestData.Uniform(random, rows * features, -3, 3);
        float[]? gain = affine ? TestData.Uniform(random, features, 0.5, 1.5) : null;
        float[]? bias = affine ? TestData.Uniform(random, features, -0.5, 0.5) : null;
        float[] dy = TestData.Uniform(random, rows * features, -1, 1);
        return (x, gain, bias, dy);
    }

    private static double[]? Widen(float[]? values) => values is null ? null : TestData.Widen(values);
}
