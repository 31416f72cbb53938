using System.Runtime.Intrinsics;
using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>
/// Every activation's forward and derivative, scalar and eight-lane, against float64 references built
/// on <see cref="Math"/> (and a float64 erfc for GELU), and each derivative against a central finite
/// difference of the float64 forward.
/// </summary>
public class ActivationTests
{
    /// <summary>An activation under test with its float64 twin and the error it is allowed.</summary>
    /// <param name="ForwardUlps">Forward error bound in ulps of the reference.</param>
    /// <param name="DerivativeAbsolute">Absolute slack of the derivative (derivatives from y inherit y's rounding).</param>
    private sealed record Case(
        string Name,
        IActivation Activation,
        Func<double, double> Forward,
        Func<double, double> Derivative,
        double ForwardUlps,
        double DerivativeAbsolute);

    private const float LeakySlope = 0.01f;

    private static readonly Case[] Cases =
    [
        new("Identity", new Identity(), z => z, _ => 1.0, 0, 0),
        new("Relu", new Relu(), z => Math.Max(z, 0.0), z => z > 0 ? 1.0 : 0.0, 0, 0),
        new("LeakyRelu", new LeakyRelu(LeakySlope), z => z > 0 ? z : LeakySlope * z, z => z > 0 ? 1.0 : LeakySlope, 0.5, 0),
        new("Gelu", new Gelu(), z => z * NormalCdf(z), z => NormalCdf(z) + z * NormalDensity(z), 8, 2e-7),
        new("Silu", new Silu(), z => z / (1.0 + Math.Exp(-z)), SiluDerivative, 5, 2e-7),
        new("Tanh", new Tanh(), Math.Tanh, z => 1.0 - Math.Tanh(z) * Math.Tanh(z), 3, 3e-7),
        new("Sigmoid", new Sigmoid(), Logistic, z => Logistic(z) * Logistic(-z), 4, 2e-7),
    ];

    public static TheoryData<string> Names => new(Cases.Select(c => c.Name));

    private static readonly float[] EdgeValues = [0f, -0f, 1e-6f, -1e-6f, 1f, -1f, 30f, -30f, 100f, -100f];

    private static Case Get(string name) => Cases.Single(c => c.Name == name);

    /// <summary>10,000 values uniform in [-8, 8] and the edge values.</summary>
    private static float[] Samples()
    {
        var random = new Random(12345);
        return [.. Enumerable.Range(0, 10_000).Select(_ => (float)(random.NextDouble() * 16.0 - 8.0)), .. EdgeValues];
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_MatchesFloat64Reference(string name)
    {
        Case c = Get(name);
        foreach (float z in Samples())
        {
            double expected = c.Forward(z);
            float actual = c.Activation.Forward(z);
            AssertClose(expected, actual, c.ForwardUlps * Ulp(expected) + 1e-40, $"{name}({z:R})");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Derivative_MatchesFloat64Reference(string name)
    {
        Case c = Get(name);
        foreach (float z in Samples())
        {
            if (z == 0f && name is "Relu" or "LeakyRelu")
            {
                continue; // the kink: checked by Derivative_AtZero_FollowsPyTorch
            }

            double expected = c.Derivative(z);
            float actual = c.Activation.Derivative(z, c.Activation.Forward(z));
            AssertClose(expected, actual, c.DerivativeAbsolute + 8 * Ulp(expected) + 1e-40, $"{name}'({z:R})");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Derivative_MatchesFiniteDifferenceOfFloat64Forward(string name)
    {
        Case c = Get(name);
        const double H = 1e-5;
        foreach (float z in Samples())
        {
            if (Math.Abs(z) < 2 * H && name is "Relu" or "LeakyRelu")
            {
                continue;
            }

            double finiteDifference = (c.Forward(z + H) - c.Forward(z - H)) / (2 * H);
            float actual = c.Activation.Derivative(z, c.Activation.Forward(z));
            AssertClose(finiteDifference, actual, c.DerivativeAbsolute + 1e-6 * (1 + Math.Abs(finiteDifference)), $"{name}'({z:R}) vs finite difference");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void VectorLanes_EqualScalar_BitForBit(string name)
    {
        IActivation activation = Get(name).Activation;
        float[] samples = Samples();
        for (int i = 0; i + 8 <= samples.Length; i += 8)
        {
            Vector256<float> z = Vector256.Create(samples.AsSpan(i, 8));
            Vector256<float> y = activation.Forward(z);
            Vector256<float> derivative = activation.Derivative(z, y);
            for (int lane = 0; lane < 8; lane++)
            {
                float zi = samples[i + lane];
                Assert.Equal(BitConverter.SingleToInt32Bits(activation.Forward(zi)), BitConverter.SingleToInt32Bits(y[lane]));
                Assert.Equal(
                    BitConverter.SingleToInt32Bits(activation.Derivative(zi, y[lane])),
                    BitConverter.SingleToInt32Bits(derivative[lane]));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void LargeInputs_SaturateWithoutNaN(string name)
    {
        Case c = Get(name);
        foreach (float z in new[] { 30f, -30f, 100f, -100f, 1e30f, -1e30f, float.MaxValue, -float.MaxValue })
        {
            float y = c.Activation.Forward(z);
            float derivative = c.Activation.Derivative(z, y);
            Assert.False(float.IsNaN(y), $"{name}({z}) is NaN");
            Assert.False(float.IsNaN(derivative), $"{name}'({z}) is NaN");
            Assert.True(float.IsFinite(derivative), $"{name}'({z}) = {derivative}");
        }

        if (name is "Tanh" or "Sigmoid" or "Gelu" or "Silu")
        {
            float low = name == "Tanh" ? -1f : 0f;
            float high = 1f;
            float Saturated(float z) => name is "Gelu" or "Silu" ? c.Activation.Forward(z) / z : c.Activation.Forward(z);
            Assert.Equal(high, Saturated(100f));
            Assert.Equal(high, Saturated(float.MaxValue));
            Assert.InRange(Saturated(-100f) - low, 0f, 1e-40f);
            Assert.Equal(0f, c.Activation.Derivative(-100f, c.Activation.Forward(-100f)), 1e-40f);
            Assert.Equal(name is "Gelu" or "Silu" ? 1f : 0f, c.Activation.Derivative(100f, c.Activation.Forward(100f)));
        }
    }

    [Fact]
    public void NeedsPreActivation_OnlyForGeluAndSilu()
    {
        foreach (Case c in Cases)
        {
            Assert.Equal(c.Name is "Gelu" or "Silu", c.Activation.NeedsPreActivation);
        }
    }

    [Fact]
    public void Derivative_AtZero_FollowsPyTorch()
    {
        Assert.Equal(0f, new Relu().Derivative(0f, 0f));
        Assert.Equal(LeakySlope, new LeakyRelu(LeakySlope).Derivative(0f, 0f));
        Assert.Equal(0.5f, new Gelu().Derivative(0f, 0f));
        Assert.Equal(0.5f, new Silu().Derivative(0f, 0f));
        Assert.Equal(1f, new Tanh().Derivative(0f, 0f));
        Assert.Equal(0.25f, new Sigmoid().Derivative(0f, 0.5f));
    }

    [Fact]
    public void Relu_PropagatesNaN()
    {
        Assert.True(float.IsNaN(new Relu().Forward(float.NaN)));
        Assert.True(float.IsNaN(new Relu().Forward(Vector256.Create(float.NaN))[3]));
    }

    [Theory]
    [InlineData(-0.01f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void LeakyRelu_RejectsInvalidSlope(float slope)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyRelu(slope));
        Assert.Equal(slope, exception.ActualValue);
    }

    [Fact]
    public void LeakyRelu_KeepsItsSlope()
    {
        var activation = new LeakyRelu(0.2f);
        Assert.Equal(0.2f, activation.Slope);
        Assert.Equal(-0.4f, activation.Forward(-2f));
        Assert.Equal(0.2f, activation.Derivative(-2f, -0.4f));
        Assert.Equal(0.2f, activation.Derivative(Vector256.Create(-2f), Vector256.Create(-0.4f))[5]);
    }

    /// <summary>The standard normal CDF behind GELU: the implied erf within 2e-7 absolute, Phi within a few ulp relative.</summary>
    [Fact]
    public void GeluNormalCdf_IsAccurate()
    {
        const int Steps = 400_000;
        for (int i = 0; i <= Steps; i++)
        {
            float z = -12f + 24f * i / Steps;
            float phi = Gelu.NormalCdf(Vector256.Create(z), out Vector256<float> density).ToScalar();
            double expected = NormalCdf(z);
            Assert.True(2 * Math.Abs(phi - expected) <= 2e-7, $"erf error at z = {z:R}: {2 * Math.Abs(phi - expected):E3}");
            if (expected > 1e-37)
            {
                AssertClose(expected, phi, 8 * Ulp(expected), $"Phi({z:R})");
            }

            double expectedDensity = NormalDensity(z);
            if (expectedDensity > 1e-37)
            {
                AssertClose(expectedDensity, density.ToScalar(), 4 * Ulp(expectedDensity), $"phi({z:R})");
            }
        }
    }

    [Fact]
    public void Exponential_IsWithinTwoUlpAndSaturates()
    {
        const int Steps = 1_000_000;
        for (int i = 0; i <= Steps; i++)
        {
            float x = -87f + 175.5f * i / Steps;
            double expected = Math.Exp(x);
            AssertClose(expected, Exponential.Exp(x), 2 * Ulp(expected), $"exp({x:R})");
        }

        Assert.Equal(float.PositiveInfinity, Exponential.Exp(89f));
        Assert.Equal(float.PositiveInfinity, Exponential.Exp(1000f));
        Assert.Equal(Math.Exp(-100), Exponential.Exp(-100f), 2 * float.Epsilon); // subnormal
        Assert.Equal(0f, Exponential.Exp(-200f));
        Assert.Equal(0f, Exponential.Exp(float.NegativeInfinity));
        Assert.True(float.IsNaN(Exponential.Exp(float.NaN)));
    }

    // ---- float64 references ----

    private static double Logistic(double z) => z >= 0 ? 1.0 / (1.0 + Math.Exp(-z)) : Math.Exp(z) / (1.0 + Math.Exp(z));

    private static double SiluDerivative(double z) => Logistic(z) * (1.0 + z * Logistic(-z));

    private static double NormalDensity(double z) => Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);

    private static double NormalCdf(double z) => z < 0 ? 0.5 * Erfc(-z / Math.Sqrt(2)) : 1.0 - 0.5 * Erfc(z / Math.Sqrt(2));

    /// <summary>
    /// erfc(x) for x &gt;= 0 to about 1e-14 relative: 1 - erf(x) with erf(x) = 2/sqrt(pi) e^-x^2 sum (2x^2)^n x / (2n+1)!!
    /// (all terms positive) below 2.5; Laplace's continued fraction e^-x^2 / sqrt(pi) / (x + (1/2)/(x + 1/(x + ...))) above.
    /// </summary>
    private static double Erfc(double x)
    {
        if (x < 2.5)
        {
            double square = x * x, term = x, sum = x;
            for (int n = 1; n < 200 && term > 1e-18 * sum; n++)
            {
                term *= 2 * square / (2 * n + 1);
                sum += term;
            }

            return 1.0 - 2.0 / Math.Sqrt(Math.PI) * Math.Exp(-square) * sum;
        }

        double fraction = x;
        for (int k = 200; k >= 1; k--)
        {
            fraction = x + k / 2.0 / fraction;
        }

        return Math.Exp(-x * x) / (Math.Sqrt(Math.PI) * fraction);
    }

    /// <summary>Spacing of floats at |value|, at least the smallest subnormal.</summary>
    private static double Ulp(double value)
    {
        float magnitude = (float)Math.Min(Math.Abs(value), float.MaxValue);
        return Math.Max(MathF.BitIncrement(magnitude) - magnitude, float.Epsilon);
    }

    private static void AssertClose(double expected, float actual, double tolerance, string what)
    {
        if (double.IsInfinity(expected) && expected == actual)
        {
            return;
        }

        Assert.True(Math.Abs(actual - expected) <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (error {Math.Abs(actual - expected):E3}, tolerance {tolerance:E3})");
    }
}
