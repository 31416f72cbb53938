using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// Sgd, Adam and AdamW against float64 re-implementations of the torch.optim update rules, five steps
/// at odd buffer lengths, and the contract of <see cref="Optimizer.Step"/> (state binding, validation).
/// </summary>
public class OptimizerTests
{
    private const int Steps = 5;

    /// <summary>A float64 twin of one optimizer: applies step t (from 1) to p in place.</summary>
    private delegate void ReferenceStep(double[] p, double[] g, int t);

    public static TheoryData<string, int> Variants()
    {
        var data = new TheoryData<string, int>();
        foreach (string variant in new[]
        {
            "sgd", "sgd-momentum", "sgd-nesterov", "sgd-decay", "sgd-nesterov-decay",
            "adam", "adam-decay", "adam-betas", "adamw", "adamw-strong",
        })
        {
            // 57 = 3 x 16 + 8 + 1: the 512-bit, the 256-bit and the scalar loop in one update.
            foreach (int length in new[] { 1, 7, 33, 57, 100 })
            {
                data.Add(variant, length);
            }
        }

        return data;
    }

    private static (Optimizer Optimizer, ReferenceStep Reference) Create(string variant, int length) => variant switch
    {
        "sgd" => (new Sgd(0.1f), SgdReference(length, 0.1f, 0f, false, 0f)),
        "sgd-momentum" => (new Sgd(0.05f, momentum: 0.9f), SgdReference(length, 0.05f, 0.9f, false, 0f)),
        "sgd-nesterov" => (new Sgd(0.05f, momentum: 0.8f, nesterov: true), SgdReference(length, 0.05f, 0.8f, true, 0f)),
        "sgd-decay" => (new Sgd(0.1f, weightDecay: 0.01f), SgdReference(length, 0.1f, 0f, false, 0.01f)),
        "sgd-nesterov-decay" => (new Sgd(0.03f, 0.9f, true, 0.05f), SgdReference(length, 0.03f, 0.9f, true, 0.05f)),
        "adam" => (new Adam(), AdamReference(length, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, decoupled: false)),
        "adam-decay" => (new Adam(0.01f, weightDecay: 0.1f), AdamReference(length, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, decoupled: false)),
        "adam-betas" => (new Adam(0.02f, 0.5f, 0.9f, 1e-3f), AdamReference(length, 0.02f, 0.5f, 0.9f, 1e-3f, 0f, decoupled: false)),
        "adamw" => (new AdamW(), AdamReference(length, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled: true)),
        "adamw-strong" => (new AdamW(0.05f, 0.8f, 0.99f, 1e-6f, 0.5f), AdamReference(length, 0.05f, 0.8f, 0.99f, 1e-6f, 0.5f, decoupled: true)),
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, null),
    };

    /// <summary>torch.optim.SGD (dampening 0) in float64 from the same float hyperparameters.</summary>
    private static ReferenceStep SgdReference(int length, float learningRate, float momentum, bool nesterov, float weightDecay)
    {
        var buffer = new double[length];
        return (p, g, t) =>
        {
            for (int i = 0; i < p.Length; i++)
            {
                double d = g[i] + (double)weightDecay * p[i];
                if (momentum != 0f)
                {
                    buffer[i] = t == 1 ? d : (double)momentum * buffer[i] + d;
                    d = nesterov ? d + (double)momentum * buffer[i] : buffer[i];
                }

                p[i] -= (double)learningRate * d;
            }
        };
    }

    /// <summary>torch.optim.Adam (decoupled: false) or torch.optim.AdamW (decoupled: true) in float64.</summary>
    private static ReferenceStep AdamReference(int length, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled)
    {
        var m = new double[length];
        var v = new double[length];
        return (p, g, t) =>
        {
            double b1 = beta1, b2 = beta2, lr = learningRate, wd = weightDecay;
            for (int i = 0; i < p.Length; i++)
            {
                double grad = g[i];
                if (decoupled)
                {
                    p[i] *= 1 - lr * wd;
                }
                else
                {
                    grad += wd * p[i];
                }

                m[i] = b1 * m[i] + (1 - b1) * grad;
                v[i] = b2 * v[i] + (1 - b2) * grad * grad;
                double stepSize = lr / (1 - Math.Pow(b1, t));
                double denominator = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + epsilon;
                p[i] -= stepSize * m[i] / denominator;
            }
        };
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void FiveSteps_MatchFloat64Reference(string variant, int length)
    {
        (Optimizer optimizer, ReferenceStep reference) = Create(variant, length);
        var random = new Random(length * 17 + variant.Length);
        float[] parameters = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        double[] expected = [.. parameters.Select(p => (double)p)];

        for (int t = 1; t <= Steps; t++)
        {
            float[] gradients = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 4 - 2))];
            optimizer.Step(parameters, gradients);
            reference(expected, [.. gradients.Select(g => (double)g)], t);

            Assert.Equal(t, optimizer.StepCount);
            for (int i = 0; i < length; i++)
            {
                Assert.True(
                    Math.Abs(parameters[i] - expected[i]) <= 1e-6 * (1 + Math.Abs(expected[i])),
                    $"{variant}, step {t}, parameter {i}: expected {expected[i]:R}, got {parameters[i]:R}");
            }
        }
    }

    [Fact]
    public void LearningRate_CanChangeBetweenSteps()
    {
        var optimizer = new Sgd(1f);
        float[] parameters = [1f, 2f];
        optimizer.Step(parameters, [1f, 1f]);
        optimizer.LearningRate = 0.5f;
        optimizer.Step(parameters, [1f, 1f]);
        Assert.Equal([-0.5f, 0.5f], parameters);
    }

    [Fact]
    public void StateBoundToAnotherLength_Throws_AndLeavesEverythingUnchanged()
    {
        var optimizer = new Adam(0.1f);
        optimizer.Step(new float[10], Filled(10, 1f));

        float[] parameters = Filled(11, 3f);
        var exception = Assert.Throws<InvalidOperationException>(() => optimizer.Step(parameters, Filled(11, 1f)));

        Assert.Contains("10", exception.Message, StringComparison.Ordinal);
        Assert.Contains("11", exception.Message, StringComparison.Ordinal);
        Assert.All(parameters, p => Assert.Equal(3f, p));
        Assert.Equal(1, optimizer.StepCount);
    }

    [Fact]
    public void Reset_ForgetsStateAndAllowsAnotherLength()
    {
        var optimizer = new Sgd(0.1f, momentum: 0.9f);
        float[] first = Filled(10, 0f);
        optimizer.Step(first, Filled(10, 1f));
        optimizer.Reset();
        Assert.Equal(0, optimizer.StepCount);

        float[] parameters = Filled(11, 0f);
        optimizer.Step(parameters, Filled(11, 1f));
        optimizer.Step(parameters, Filled(11, 1f));

        // Fresh momentum: b1 = 1, b2 = 1.9, p = -0.1 - 0.19.
        Assert.All(parameters, p => Assert.Equal(-0.29f, p, 1e-6f));
    }

    [Fact]
    public void MismatchedGradientLength_Throws_AndBindsNothing()
    {
        var optimizer = new AdamW();
        float[] parameters = Filled(8, 2f);

        Assert.Throws<ArgumentException>(() => optimizer.Step(parameters, new float[7]));

        Assert.All(parameters, p => Assert.Equal(2f, p));
        Assert.Equal(0, optimizer.StepCount);
        optimizer.Step(Filled(5, 1f), Filled(5, 1f)); // still unbound
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void InvalidLearningRate_IsRejected(float learningRate)
    {
        Assert.Equal(learningRate, Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(learningRate)).ActualValue);
        Assert.Equal(learningRate, Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate)).ActualValue);
        Assert.Equal(learningRate, Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(learningRate)).ActualValue);

        var optimizer = new Adam(0.01f);
        Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.LearningRate = learningRate);
        Assert.Equal(0.01f, optimizer.LearningRate);
    }

    [Fact]
    public void InvalidHyperparameters_AreRejectedWithTheirValue()
    {
        AssertRejected("momentum", 1f, () => new Sgd(0.1f, momentum: 1f));
        AssertRejected("momentum", -0.5f, () => new Sgd(0.1f, momentum: -0.5f));
        AssertRejected("weightDecay", -1f, () => new Sgd(0.1f, weightDecay: -1f));
        AssertRejected("beta1", 1f, () => new Adam(beta1: 1f));
        AssertRejected("beta2", -0.1f, () => new Adam(beta2: -0.1f));
        AssertRejected("epsilon", -1e-8f, () => new Adam(epsilon: -1e-8f));
        AssertRejected("weightDecay", float.NaN, () => new Adam(weightDecay: float.NaN));
        AssertRejected("beta1", 1.5f, () => new AdamW(beta1: 1.5f));
        AssertRejected("beta2", 1f, () => new AdamW(beta2: 1f));
        AssertRejected("weightDecay", -0.01f, () => new AdamW(weightDecay: -0.01f));

        var nesterov = Assert.Throws<ArgumentException>(() => new Sgd(0.1f, nesterov: true));
        Assert.Equal("nesterov", nesterov.ParamName);
    }

    [Fact]
    public void Hyperparameters_AreExposed()
    {
        var sgd = new Sgd(0.1f, 0.9f, true, 0.01f);
        Assert.Equal((0.1f, 0.9f, true, 0.01f), (sgd.LearningRate, sgd.Momentum, sgd.Nesterov, sgd.WeightDecay));
        var adam = new Adam();
        Assert.Equal((1e-3f, 0.9f, 0.999f, 1e-8f, 0f), (adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon, adam.WeightDecay));
        var adamW = new AdamW();
        Assert.Equal((1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f), (adamW.LearningRate, adamW.Beta1, adamW.Beta2, adamW.Epsilon, adamW.WeightDecay));
    }

    [Fact]
    public void AdamW_DecaysWithZeroGradient_AdamDoesNotWithoutPenalty()
    {
        var adamW = new AdamW(0.1f, weightDecay: 0.5f);
        float[] decayed = [2f];
        adamW.Step(decayed, [0f]);
        Assert.Equal(2f * (1f - 0.05f), decayed[0], 1e-6f);

        var adam = new Adam(0.1f);
        float[] kept = [2f];
        adam.Step(kept, [0f]);
        Assert.Equal(2f, kept[0]);
    }

    private static float[] Filled(int length, float value) => [.. Enumerable.Repeat(value, length)];

    private static void AssertRejected(string parameter, float value, Func<object> create)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(create);
        Assert.Equal(parameter, exception.ParamName);
        Assert.Equal(value, exception.ActualValue);
    }
}
