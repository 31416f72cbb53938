using Dsl.Cpu;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>An update split into stretches across threads is bitwise the single pass, step after step.</summary>
public sealed class ThreadedStepTests
{
    public static TheoryData<string> Optimizers => ["sgd", "sgd-momentum", "sgd-nesterov-decay", "adam", "adam-decay", "adamw"];

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void A_threaded_step_equals_the_single_pass_bitwise(string name)
    {
        // Odd, and long enough for three stretches of at least MinimumStretch.
        int length = (3 * Optimizer.MinimumStretch) + 12_345;
        using var workers = new CpuWorkers(3);
        var random = new Random(17);
        float[] start = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5))];
        float[] single = (float[])start.Clone();
        float[] threaded = (float[])start.Clone();
        Optimizer one = Create(name);
        Optimizer split = Create(name);
        for (int step = 0; step < 3; step++)
        {
            float[] gradients = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5))];
            one.Step(single, gradients);
            split.Step(threaded, gradients, workers);
        }

        Assert.Equal(3, split.StepCount);
        Assert.NotEqual(start, threaded);
        for (int i = 0; i < length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(single[i]) == BitConverter.SingleToInt32Bits(threaded[i]), $"parameter {i}: {single[i]} single, {threaded[i]} threaded");
        }
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Decay_exemptions_across_stretch_boundaries_skip_exactly_their_parameters(string name)
    {
        // Exempt ranges that straddle the stretch boundaries of a three-way split, touch the ends and sit side by side.
        int length = (3 * Optimizer.MinimumStretch) + 12_345;
        int boundary = (int)((long)length / 3) & ~63;
        ParameterRange[] exempt = [new(0, 5), new(boundary - 7, 30), new((2 * boundary) - 1, 2), new((2 * boundary) + 1, 100), new(length - 9, 9)];
        var random = new Random(23);
        float[] start = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5))];
        float[] gradients = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5))];
        float[] decayed = (float[])start.Clone();
        float[] undecayed = (float[])start.Clone();
        Create(name).Step(decayed, gradients);
        Create(name, decay: false).Step(undecayed, gradients);
        bool[] skipped = new bool[length];
        foreach (ParameterRange range in exempt)
        {
            Array.Fill(skipped, true, range.Start, range.Length);
        }

        using var workers = new CpuWorkers(3);
        foreach (CpuWorkers? threads in new[] { null, workers })
        {
            float[] parameters = (float[])start.Clone();
            Create(name).Step(parameters, gradients, threads, rateFactor: 1.0, exempt);
            for (int i = 0; i < length; i++)
            {
                float expected = skipped[i] ? undecayed[i] : decayed[i];
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(parameters[i]), $"parameter {i} ({(threads is null ? "one pass" : "threaded")}): {parameters[i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void A_threaded_step_checks_lengths_before_anything_changes()
    {
        using var workers = new CpuWorkers(2);
        var adam = new Adam(1e-3f);
        float[] parameters = new float[4 * Optimizer.MinimumStretch];
        Assert.Throws<ArgumentException>(() => adam.Step(parameters, new float[parameters.Length - 1], workers));
        Assert.Equal(0, adam.StepCount);
        Assert.All(parameters, p => Assert.Equal(0f, p));
    }

    /// <summary>The named optimizer; with <paramref name="decay"/> false, the same without its weight decay.</summary>
    private static Optimizer Create(string name, bool decay = true) => name switch
    {
        "sgd" => new Sgd(0.1f),
        "sgd-momentum" => new Sgd(0.1f, momentum: 0.9f),
        "sgd-nesterov-decay" => new Sgd(0.1f, momentum: 0.9f, nesterov: true, weightDecay: decay ? 1e-2f : 0f),
        "adam" => new Adam(1e-3f),
        "adam-decay" => new Adam(1e-3f, weightDecay: decay ? 1e-2f : 0f),
        _ => new AdamW(1e-3f, weightDecay: decay ? 1e-2f : 0f),
    };
}
