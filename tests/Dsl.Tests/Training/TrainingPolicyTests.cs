using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>A network whose declaration warms its learning rate up over 4 steps and then decays it by a cosine over 4.</summary>
[Network(Input = [7])]
[Warmup(4)]
[CosineDecay(4, FinalFactor = 0.1)]
public sealed partial class WarmupNet
{
    [Dense(9), Tanh] public partial Layer Hidden { get; }

    [LayerNorm] public partial Layer Norm { get; }

    [Dense(3)] public partial Layer Output { get; }
}

/// <summary>A dense chain (the fused GPU sequences) whose gradients are clipped to global norm 0.05.</summary>
[Network(Input = [7])]
[ClipGradientNorm(0.05)]
public sealed partial class ClipNet
{
    [Dense(9), Relu] public partial Layer Hidden { get; }

    [Dense(3)] public partial Layer Output { get; }
}

/// <summary>Weights, biases and a norm's gain and shift, wide enough (162,810 parameters) for a threaded update in two stretches.</summary>
[Network(Input = [400])]
public sealed partial class DecayNet
{
    [Dense(400), Relu] public partial Layer Hidden { get; }

    [LayerNorm] public partial Layer Norm { get; }

    [Dense(5)] public partial Layer Output { get; }
}

/// <summary>
/// The training policy a network's step applies around its optimizer: the declared schedule's factor on the learning rate
/// step by step, clipping by global norm (norm in float64, torch's factor max / (norm + 1e-6)), and weight decay that skips
/// biases and norm parameters unless told otherwise; each checked against the update written out from the gradients.
/// </summary>
public sealed class TrainingPolicyTests
{
    [Fact]
    public void Schedules_give_their_factors_step_by_step()
    {
        LearningRateSchedule warmup = LearningRateSchedule.Warmup(4);
        Assert.Equal([0.25, 0.5, 0.75, 1, 1, 1], Enumerable.Range(0, 6).Select(t => warmup.Factor(t)));
        Assert.Equal(4, warmup.WarmupSteps);

        // Cosine over 4 steps to 0.1 after a warm-up of 2: 0.1 + 0.9 (1 + cos(pi t / 4)) / 2, then 0.1.
        LearningRateSchedule cosine = LearningRateSchedule.Warmup(2, LearningRateSchedule.Cosine(4, 0.1));
        double[] expected = [0.5, 1, 1, 0.1 + (0.45 * (1 + Math.Cos(Math.PI / 4))), 0.55, 0.1 + (0.45 * (1 + Math.Cos(3 * Math.PI / 4))), 0.1, 0.1];
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(expected[t], cosine.Factor(t), 14);
        }

        LearningRateSchedule step = LearningRateSchedule.StepDecay(3, 0.5);
        Assert.Equal([1, 1, 1, 0.5, 0.5, 0.5, 0.25], Enumerable.Range(0, 7).Select(t => step.Factor(t)));
        Assert.Equal(1.0, LearningRateSchedule.Constant.Factor(1_000_000));
        Assert.Equal(0, cosine.Factor(0) > 0 ? 0 : 1);
        Assert.Equal("linear warm-up over 2 steps, then cosine decay to 0.1 over 4 steps", cosine.ToString());
    }

    [Fact]
    public void Bad_schedules_and_policies_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Warmup(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Cosine(10, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Cosine(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.StepDecay(5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.StepDecay(5, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.Constant.Factor(-1));
        var policy = new TrainingPolicy();
        Assert.Throws<ArgumentOutOfRangeException>(() => policy.MaxGradientNorm = -1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => policy.MaxGradientNorm = float.PositiveInfinity);
        Assert.Throws<ArgumentNullException>(() => policy.Schedule = null!);
        Assert.Equal(0f, policy.MaxGradientNorm);
        Assert.Same(LearningRateSchedule.Constant, policy.Schedule);
    }

    [Fact]
    public void The_declared_policy_reaches_the_network()
    {
        using var warmup = new WarmupNet(Device.Cpu(1));
        Assert.Equal("linear warm-up over 4 steps, then cosine decay to 0.1 over 4 steps", warmup.Training.Schedule.ToString());
        using var clip = new ClipNet(Device.Cpu(1));
        Assert.Equal(0.05f, clip.Training.MaxGradientNorm);
        Assert.Same(LearningRateSchedule.Constant, clip.Training.Schedule);
        using var plain = new DecayNet(Device.Cpu(1));
        Assert.Equal("schedule: constant; no gradient clipping; weight decay on weights only", plain.Training.ToString());
        Assert.True(float.IsNaN(plain.LastGradientNorm));
    }

    [Fact]
    public void Each_step_runs_at_the_schedule_s_rate()
    {
        using var model = new WarmupNet(Device.Cpu(1), seed: 3);
        (float[] inputs, int[] labels) = Batch(11, 7, 3, seed: 4);
        var sgd = new Sgd(0.1f);
        for (int t = 0; t < 9; t++)
        {
            float[] before = model.Parameters.ToArray();
            model.ComputeGradients(inputs, labels);
            float[] gradients = model.Gradients.ToArray();
            model.TrainStep(inputs, labels, sgd);
            float rate = (float)(0.1f * model.Training.Schedule.Factor(t));
            float[] after = model.Parameters.ToArray();
            for (int i = 0; i < after.Length; i++)
            {
                Assert.Equal(MathF.FusedMultiplyAdd(-rate, gradients[i], before[i]), after[i]);
            }
        }

        Assert.Equal(9, sgd.StepCount);
        Assert.Equal(0.1f, sgd.LearningRate);
    }

    [Fact]
    public void Gradients_beyond_the_norm_are_clipped_as_torch_clips_them()
    {
        using var model = new ClipNet(Device.Cpu(1), seed: 5);
        (float[] inputs, int[] labels) = Batch(13, 7, 3, seed: 6);
        float[] before = model.Parameters.ToArray();
        model.ComputeGradients(inputs, labels);
        float[] gradients = model.Gradients.ToArray();
        double norm = Math.Sqrt(gradients.Sum(g => (double)g * g));
        Assert.True(norm > 0.05 * 2, $"the test needs gradients beyond the norm; got {norm}");

        model.TrainStep(inputs, labels, new Sgd(0.1f));
        float factor = (float)(0.05f / (norm + 1e-6));
        Assert.Equal(norm, model.LastGradientNorm, norm * 1e-6);
        float[] after = model.Parameters.ToArray();
        float[] clipped = model.Gradients.ToArray();
        Assert.Equal(0.05, Math.Sqrt(clipped.Sum(g => (double)g * g)), 1e-6);
        for (int i = 0; i < after.Length; i++)
        {
            Assert.Equal(gradients[i] * factor, clipped[i], 1e-9f);
            Assert.Equal(before[i] - (0.1f * gradients[i] * factor), after[i], 1e-7f);
        }

        // Within the norm nothing is scaled: the step is the plain one.
        model.Training.MaxGradientNorm = 1000f;
        before = model.Parameters.ToArray();
        model.ComputeGradients(inputs, labels);
        gradients = model.Gradients.ToArray();
        model.TrainStep(inputs, labels, new Sgd(0.1f));
        after = model.Parameters.ToArray();
        for (int i = 0; i < after.Length; i++)
        {
            Assert.Equal(MathF.FusedMultiplyAdd(-0.1f, gradients[i], before[i]), after[i]);
        }
    }

    public static TheoryData<string, int> DecayCases => new()
    {
        { "sgd", 1 }, { "sgd", 3 }, { "adam", 1 }, { "adamw", 1 }, { "adamw", 3 },
    };

    [Theory]
    [MemberData(nameof(DecayCases))]
    public void Weight_decay_skips_biases_and_norms_unless_told_otherwise(string optimizer, int threads)
    {
        // Three networks from one seed, one step each (so all three see the same gradients): weight decay with the default
        // policy, weight decay on every parameter, and no weight decay. The default's weights must be the second's bit for
        // bit, its biases, gains and shifts the third's.
        using var exempt = new DecayNet(Device.Cpu(threads), seed: 7);
        using var all = new DecayNet(Device.Cpu(threads), seed: 7);
        using var none = new DecayNet(Device.Cpu(threads), seed: 7);
        all.Training.DecayNormsAndBiases = true;
        (float[] inputs, int[] labels) = Batch(6, 400, 5, seed: 8);
        Optimizer[] optimizers = [Create(optimizer, 0.1f), Create(optimizer, 0.1f), Create(optimizer, 0f)];
        exempt.TrainStep(inputs, labels, optimizers[0]);
        all.TrainStep(inputs, labels, optimizers[1]);
        none.TrainStep(inputs, labels, optimizers[2]);

        float[] p = exempt.Parameters.ToArray();
        float[] pAll = all.Parameters.ToArray();
        float[] pNone = none.Parameters.ToArray();
        var skipped = new bool[p.Length];
        foreach (Layer layer in exempt.Layers)
        {
            if (layer.Kind == LayerKind.LayerNorm)
            {
                Array.Fill(skipped, true, layer.WeightOffset, layer.WeightLength);
            }

            if (layer.HasBias)
            {
                Array.Fill(skipped, true, layer.BiasOffset, layer.BiasLength);
            }
        }

        Assert.Equal(400 + 400 + 400 + 5, skipped.Count(s => s));
        int differentFromAll = 0;
        for (int i = 0; i < p.Length; i++)
        {
            float expected = skipped[i] ? pNone[i] : pAll[i];
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(p[i]), $"parameter {i} ({(skipped[i] ? "exempt" : "decayed")}): {p[i]}, expected {expected}");
            differentFromAll += skipped[i] && pAll[i] != p[i] ? 1 : 0;
        }

        // The exemption changed something: the decay-everything run moved the nonzero biases and the gains (which start at
        // 1) differently (Adam's first step normalises the penalised gradient, so fewer of them change there).
        Assert.True(differentFromAll > 100, $"only {differentFromAll} exempt parameters differ from the decay-everything run");
    }

    internal static Optimizer Create(string name, float weightDecay) => name switch
    {
        "sgd" => new Sgd(0.05f, momentum: 0.9f, weightDecay: weightDecay),
        "adam" => new Adam(1e-3f, weightDecay: weightDecay),
        _ => new AdamW(1e-3f, weightDecay: weightDecay),
    };

    internal static (float[] Inputs, int[] Labels) Batch(int rows, int width, int classes, int seed)
    {
        var random = new Random(seed);
        float[] inputs = TestData.Uniform(random, rows * width, -1, 1);
        int[] labels = [.. Enumerable.Range(0, rows).Select(_ => random.Next(classes))];
        return (inputs, labels);
    }
}
