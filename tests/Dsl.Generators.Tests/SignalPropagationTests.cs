using Dsl.Signal;

namespace Dsl.Generators.Tests;

/// <summary>
/// Signal propagation's rules against the constants and known consequences of the analyzer spec
/// (specs/analyzer-rules.md), and its Gaussian expectations against float64 integration in the test.
/// </summary>
public sealed class SignalPropagationTests
{
    // Activations by their SignalActivation number (internal, so not a parameter type): 0 identity, 1 ReLU,
    // 2 leaky ReLU, 3 GELU, 4 SiLU, 5 tanh, 6 sigmoid.
    [Theory]
    [InlineData(3, 0.425, 0.456)]
    [InlineData(4, 0.356, 0.380)]
    [InlineData(5, 0.394, 0.464)]
    [InlineData(6, 0.293, 0.045)]
    [InlineData(1, 0.5, 0.5)]
    [InlineData(0, 1.0, 1.0)]
    public void ActivationConstantsAtUnitVarianceAreTheSpecs(int activationNumber, double square, double derivativeSquare)
    {
        var activation = (SignalActivation)activationNumber;
        (_, double actualSquare, _, double actualDerivative) = GaussianExpectations.Of(activation, 0, 0, 1);
        Assert.Equal(square, actualSquare, 0.0015);
        Assert.Equal(derivativeSquare, actualDerivative, 0.0015);
    }

    [Theory]
    [InlineData(1, 0.0, 0.3, 2.0)]
    [InlineData(2, 0.2, -0.7, 0.5)]
    [InlineData(3, 0.0, 0.4, 1.7)]
    [InlineData(4, 0.0, -1.1, 0.3)]
    [InlineData(5, 0.0, 0.9, 3.1)]
    [InlineData(6, 0.0, -0.2, 0.7)]
    public void ExpectationsMatchAFloat64Integration(int activationNumber, double slope, double mean, double variance)
    {
        var activation = (SignalActivation)activationNumber;
        (double m, double square, double derivative, double derivativeSquare) = GaussianExpectations.Of(activation, slope, mean, variance);
        (double rm, double rsquare, double rderivative, double rderivativeSquare) = Integrate(activation, slope, mean, variance);
        Assert.Equal(rm, m, 1e-6);
        Assert.Equal(rsquare, square, 1e-6);
        Assert.Equal(rderivative, derivative, 1e-6);
        Assert.Equal(rderivativeSquare, derivativeSquare, 1e-6);
    }

    [Fact]
    public void ReluWithPyTorchsDefaultAndNoBiasLosesASixthPerSquareLayerBothWays()
    {
        // Ten square layers: (1/6)^10 = 1.65e-8, the spec's "about 1.7e-8 after 10 layers".
        List<SignalNode> nodes = Stack(10, 256, 1.0 / (3 * 256), SignalActivation.Relu);
        SignalMoments[] moments = SignalPropagation.Propagate(nodes);
        Assert.Equal(Math.Pow(1.0 / 6, 10), SignalPropagation.ForwardGain(moments), 1e-12);
        Assert.Equal(Math.Pow(1.0 / 6, 10), SignalPropagation.BackwardGain(nodes, moments), 1e-12);
    }

    [Fact]
    public void ReluWithGlorotOrLeCunHalvesPerLayer()
    {
        // On square layers Glorot's 2/(fanIn + fanOut) is LeCun's 1/fanIn.
        List<SignalNode> nodes = Stack(6, 256, 1.0 / 256, SignalActivation.Relu);
        SignalMoments[] moments = SignalPropagation.Propagate(nodes);
        Assert.Equal(Math.Pow(0.5, 6), SignalPropagation.ForwardGain(moments), 1e-12);
    }

    [Fact]
    public void HeOnNonSquareLayersTelescopesPerElementAndKeepsTheGradientNorm()
    {
        int[] widths = [64, 512, 128, 384, 96];
        var nodes = new List<SignalNode> { SignalNode.InputNode(widths[0]) };
        for (int i = 1; i < widths.Length; i++)
        {
            nodes.Add(SignalNode.Linear("L" + i, i - 1, widths[i - 1], widths[i], (long)widths[i - 1] * widths[i], 2.0 / widths[i - 1], 0, SignalActivation.Relu, 0));
        }

        SignalMoments[] moments = SignalPropagation.Propagate(nodes);
        Assert.Equal(1.0, SignalPropagation.ForwardGain(moments), 1e-12);
        // Per element the input gradient is width_last / width_first of the output's; as a norm, 1.
        Assert.Equal((double)widths[^1] / widths[0], moments[0].Backward / moments[^1].Backward, 1e-12);
        Assert.Equal(1.0, SignalPropagation.BackwardGain(nodes, moments), 1e-12);
    }

    [Fact]
    public void BatchNormAfterReluGrowsTheGradientByPiOverPiMinusOnePerLayer()
    {
        // Dense(He, no bias) -> BatchNorm -> ReLU, at a batch large enough that (B - 2)/(B - 3) is 1.
        const int width = 256;
        var nodes = new List<SignalNode> { SignalNode.InputNode(width) };
        for (int layer = 0; layer < 8; layer++)
        {
            int input = nodes.Count - 1;
            nodes.Add(SignalNode.Linear("D", input, width, width, (long)width * width, 2.0 / width, 0, SignalActivation.Identity, 0));
            nodes.Add(SignalNode.Norm(SignalOp.BatchNorm, "N", nodes.Count - 1, width, 0));
            nodes.Add(SignalNode.ActivationNode("A", nodes.Count - 1, width, SignalActivation.Relu, 0));
        }

        SignalMoments[] moments = SignalPropagation.Propagate(nodes, batchSize: 100_000_000);
        // Between the outputs of layers 3 and 4 (value 9 and 12): one full layer past the first.
        double rate = moments[9].Backward / moments[12].Backward;
        Assert.Equal(Math.PI / (Math.PI - 1), rate, 1e-6);
    }

    // A He Dense-ReLU-Dense branch on an un-rectified stream has gain 2: the stream triples. A one-layer He ReLU branch on
    // a rectified stream has gain 1, and the two means add coherently (2 E[s] E[b] = 1/pi), so the stream grows by
    // (1/2 + 1/2 + 1/pi) / (1/2) = 2 + 2/pi rather than doubling.
    [Theory]
    [InlineData(false, 3.0)]
    [InlineData(true, 2.0 + (2.0 / Math.PI))]
    public void AHeReluBranchTriplesAnUnrectifiedStreamAndARectifiedOneGrowsByTwoPlusTwoOverPi(bool rectifiedStream, double growth)
    {
        const int width = 256;
        var nodes = new List<SignalNode> { SignalNode.InputNode(width) };
        if (rectifiedStream)
        {
            // The stream a residual block reads after a ReLU: its first dense layer sees half the second moment.
            nodes.Add(SignalNode.ActivationNode("Act", 0, width, SignalActivation.Relu, 0));
        }

        int skip = nodes.Count - 1;
        nodes.Add(SignalNode.Linear("Up", skip, width, width, (long)width * width, 2.0 / width, 0, SignalActivation.Relu, 0));
        if (!rectifiedStream)
        {
            nodes.Add(SignalNode.Linear("Down", nodes.Count - 1, width, width, (long)width * width, 2.0 / width, 0, SignalActivation.Identity, 0));
        }

        nodes.Add(SignalNode.Add("Block", skip, nodes.Count - 1, width, 1.0));
        SignalMoments[] moments = SignalPropagation.Propagate(nodes);
        Assert.Equal(growth, moments[^1].Forward / moments[skip].Forward, 1e-9);
    }

    [Fact]
    public void DropoutRaisesBothMomentsByOneOverTheKeepProbability()
    {
        var nodes = new List<SignalNode> { SignalNode.InputNode(10), SignalNode.Dropout("Drop", 0, 10, 0.2) };
        SignalMoments[] moments = SignalPropagation.Propagate(nodes);
        Assert.Equal(1.25, moments[1].Forward, 1e-12);
        Assert.Equal(1.25, moments[0].Backward, 1e-12);
    }

    [Fact]
    public void LayerNormResetsTheSampleVarianceAndDividesTheGradientByIt()
    {
        // x = 3 * input: variance 9; LayerNorm's output has second moment 9 / (9 + eps).
        var nodes = new List<SignalNode>
        {
            SignalNode.InputNode(100),
            SignalNode.ScaleNode("Scale", 0, 100, 3.0),
            SignalNode.Norm(SignalOp.LayerNorm, "Norm", 1, 100, 1e-5),
        };
        SignalMoments[] moments = SignalPropagation.Propagate(nodes);
        Assert.Equal(9 / (9 + 1e-5), moments[2].Forward, 1e-12);
        Assert.Equal(98.0 / 100 / (9 + 1e-5), moments[1].Backward, 1e-12);
    }

    [Fact]
    public void ValidTapsCountOnlyTapsThatReadTheInput()
    {
        // Length 5, kernel 3, stride 1, padding 1: the two edge outputs have 2 valid taps, the three inner ones 3.
        Assert.Equal(13, SignalNode.ValidTaps(5, 5, 3, 1, 1, 1));
        // No padding: 3 outputs of 3 taps. Stride 2, padding 1: outputs read [-1, 1], [1, 3], [3, 5], so 2 + 3 + 2.
        Assert.Equal(9, SignalNode.ValidTaps(5, 3, 3, 1, 0, 1));
        Assert.Equal(7, SignalNode.ValidTaps(5, 3, 3, 2, 1, 1));
    }

    /// <summary>A stack of square linear layers with <paramref name="activation"/> and no bias after a standardised input.</summary>
    private static List<SignalNode> Stack(int depth, int width, double variance, SignalActivation activation)
    {
        var nodes = new List<SignalNode> { SignalNode.InputNode(width) };
        for (int i = 0; i < depth; i++)
        {
            nodes.Add(SignalNode.Linear("L" + i, i, width, width, (long)width * width, variance, 0, activation, 0));
        }

        return nodes;
    }

    /// <summary>
    /// E[phi], E[phi^2], E[phi'], E[phi'^2] for z ~ N(mean, variance) by the trapezoid rule on 200,001 points over
    /// +-12 sigma around the kink z = 0, which is a grid point (so the derivative's jump costs no accuracy: there its
    /// two sides are averaged).
    /// </summary>
    private static (double, double, double, double) Integrate(SignalActivation activation, double slope, double mean, double variance)
    {
        double sigma = Math.Sqrt(variance);
        double kink = -mean / sigma;
        const int points = 200_000;
        double h = 24.0 / points;
        double m = 0, square = 0, derivative = 0, derivativeSquare = 0;
        for (int i = 0; i <= points; i++)
        {
            double u = kink + ((i - (points / 2)) * h);
            double w = (i == 0 || i == points ? 0.5 : 1.0) * h * Math.Exp(-0.5 * u * u) / Math.Sqrt(2 * Math.PI);
            double z = i == points / 2 ? 0 : mean + (sigma * u);
            (double value, double d) = activation switch
            {
                SignalActivation.Relu => (Math.Max(z, 0), z > 0 ? 1.0 : z < 0 ? 0.0 : 0.5),
                SignalActivation.LeakyRelu => (z > 0 ? z : slope * z, z > 0 ? 1.0 : z < 0 ? slope : (1 + slope) / 2),
                SignalActivation.Gelu => (z * Phi(z), Phi(z) + (z * Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI))),
                SignalActivation.Silu => (z / (1 + Math.Exp(-z)), (1 / (1 + Math.Exp(-z))) * (1 + (z * (1 - (1 / (1 + Math.Exp(-z))))))),
                SignalActivation.Tanh => (Math.Tanh(z), 1 - (Math.Tanh(z) * Math.Tanh(z))),
                _ => (1 / (1 + Math.Exp(-z)), (1 / (1 + Math.Exp(-z))) * (1 - (1 / (1 + Math.Exp(-z))))),
            };
            double dSquare = z == 0 && activation is SignalActivation.Relu or SignalActivation.LeakyRelu
                ? (1 + (activation == SignalActivation.LeakyRelu ? slope * slope : 0)) / 2
                : d * d;
            m += w * value;
            square += w * value * value;
            derivative += w * d;
            derivativeSquare += w * dSquare;
        }

        return (m, square, derivative, derivativeSquare);
    }

    /// <summary>The standard normal CDF by its series, to float64 precision for |z| below 10.</summary>
    private static double Phi(double z)
    {
        // erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)) converges slowly for large x; use the continued
        // complement for |x| > 3 instead.
        double x = z / Math.Sqrt(2);
        if (Math.Abs(x) < 3)
        {
            double sum = 0, term = x;
            for (int n = 0; n < 200; n++)
            {
                sum += term / ((2 * n) + 1);
                term *= -x * x / (n + 1);
            }

            return 0.5 * (1 + (2 / Math.Sqrt(Math.PI) * sum));
        }

        // erfc(a) for a > 3 by Lentz's continued fraction: erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))).
        double a = Math.Abs(x), fraction = a;
        for (int k = 60; k >= 1; k--)
        {
            fraction = a + (k / 2.0 / fraction);
        }

        double erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / fraction;
        return x > 0 ? 1 - (erfc / 2) : erfc / 2;
    }
}
