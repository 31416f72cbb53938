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

    private static Optimizer Create(string name) => name switch
    {
        "sgd" => new Sgd(0.1f),
        "sgd-momentum" => new Sgd(0.1f, momentum: 0.9f),
        "sgd-nesterov-decay" => new Sgd(0.1f, momentum: 0.9f, nesterov: true, weightDecay: 1e-2f),
        "adam" => new Adam(1e-3f),
        "adam-decay" => new Adam(1e-3f, weightDecay: 1e-2f),
        _ => new AdamW(1e-3f, weightDecay: 1e-2f),
    };
}
