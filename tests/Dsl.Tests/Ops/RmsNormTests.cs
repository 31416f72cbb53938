using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>RMSNorm against a float64 reference on odd shapes, its backward against central differences of that reference.</summary>
public sealed class RmsNormTests
{
    public static TheoryData<int, int, bool> Shapes() => LayerNormTests.Shapes();

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_matches_the_float64_reference(int rows, int features, bool withGain)
    {
        (float[] x, float[]? gain, float[] _) = Problem(rows, features, withGain, seed: (rows * 1000) + features);
        var y = new float[rows * features];
        var rrms = new float[rows];
        RmsNorm.Forward(y, rrms, x, gain, rows, features, RmsNorm.DefaultEpsilon);

        double[] expected = NormalizationReference.RmsNorm(TestData.Widen(x), gain is null ? null : TestData.Widen(gain), rows, features, RmsNorm.DefaultEpsilon);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.Equal(expected[i], y[i], 2e-5 * (1 + Math.Abs(expected[i])));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_matches_central_differences_of_the_float64_forward(int rows, int features, bool withGain)
    {
        (float[] x, float[]? gain, float[] dy) = Problem(rows, features, withGain, seed: (rows * 31) + features);
        var y = new float[rows * features];
        var rrms = new float[rows];
        RmsNorm.Forward(y, rrms, x, gain, rows, features, RmsNorm.DefaultEpsilon);
        var dx = new float[rows * features];
        var dGain = new float[gain?.Length ?? 0];
        RmsNorm.Backward(dx, dGain, dy, x, rrms, gain, new float[features], rows, features, accumulate: false);

        double[] wideX = TestData.Widen(x), wideDy = TestData.Widen(dy);
        double[]? wideGain = gain is null ? null : TestData.Widen(gain);
        double Loss(double[] input, double[]? g) => NormalizationReference.Dot(wideDy, NormalizationReference.RmsNorm(input, g, rows, features, RmsNorm.DefaultEpsilon));
        const double H = 1e-4;
        for (int k = 0; k < wideX.Length; k++)
        {
            double expected = Float64Reference.CentralDifference(wideX, k, H, input => Loss(input, wideGain));
            Assert.Equal(expected, dx[k], 1e-4 * (1 + Math.Abs(expected)));
        }

        for (int j = 0; j < dGain.Length; j++)
        {
            double expected = Float64Reference.CentralDifference(wideGain!, j, H, g => Loss(wideX, g));
            Assert.Equal(expected, dGain[j], 1e-4 * (1 + Math.Abs(expected)));
        }
    }

    [Fact]
    public void Backward_adds_to_the_input_gradient_when_asked()
    {
        (float[] x, float[]? gain, float[] dy) = Problem(3, 11, true, seed: 9);
        var y = new float[33];
        var rrms = new float[3];
        RmsNorm.Forward(y, rrms, x, gain, 3, 11, RmsNorm.DefaultEpsilon);
        float[] fresh = new float[33];
        RmsNorm.Backward(fresh, new float[11], dy, x, rrms, gain, new float[11], 3, 11, accumulate: false);
        float[] existing = TestData.Uniform(new Random(10), 33, -1, 1);
        float[] accumulated = (float[])existing.Clone();
        RmsNorm.Backward(accumulated, new float[11], dy, x, rrms, gain, new float[11], 3, 11, accumulate: true);
        for (int i = 0; i < 33; i++)
        {
            Assert.Equal(existing[i] + fresh[i], accumulated[i], 1e-6);
        }
    }

    private static (float[] X, float[]? Gain, float[] Dy) Problem(int rows, int features, bool withGain, int seed)
    {
        var random = new Random(seed);
        float[] x = TestData.Uniform(random, rows * features, -3, 3);
        float[]? gain = withGain ? TestData.Uniform(random, features, 0.5, 1.5) : null;
        float[] dy = TestData.Uniform(random, rows * features, -1, 1);
        return (x, gain, dy);
    }
}
