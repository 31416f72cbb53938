using Dsl.Tests.Training;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The training policy on ILGPU's CPU simulator against the CPU backend, from the same parameters: the schedule in the
/// fused update (a graph and a dense chain), clipping and decay exemptions in the unfused path (gradients, the norm's
/// kernels, then the standalone update in runs), and the norm read back from the device.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuTrainingPolicyTests(GpuSimulatorFixture fixture)
{
    public static TheoryData<string, string, float, bool> Cases => new()
    {
        // network, optimizer, weight decay, clipping
        { "warmup", "sgd", 0f, false },    // schedule, fused update (GpuGraph's one launch)
        { "warmup", "adamw", 0.1f, false }, // schedule and exemptions: the update in runs
        { "clip", "sgd", 0f, true },       // a dense chain clipped: gradients, norm, standalone update
        { "clip", "adamw", 0.1f, true },   // clipped and exempt
        { "clip", "adam", 0.1f, false },   // a dense chain's exemptions without clipping
        { "clip", "sgd", 0f, false },      // a dense chain's fused update, nothing to clip or exempt
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_policy_trains_on_the_gpu_as_on_the_cpu(string network, string optimizer, float weightDecay, bool clip)
    {
        using INetwork cpu = Create(network, fixture.Cpu);
        using INetwork gpu = Create(network, fixture.Simulator);
        cpu.Training.MaxGradientNorm = gpu.Training.MaxGradientNorm = clip ? 0.05f : 0f;
        var classifierCpu = (IClassifierNetwork)cpu;
        var classifierGpu = (IClassifierNetwork)gpu;
        (float[] inputs, int[] labels) = TrainingPolicyTests.Batch(13, 7, 3, seed: 31);
        Optimizer onCpu = TrainingPolicyTests.Create(optimizer, weightDecay);
        Optimizer onGpu = TrainingPolicyTests.Create(optimizer, weightDecay);
        for (int step = 0; step < 6; step++)
        {
            Assert.Equal(classifierCpu.TrainStep(inputs, labels, onCpu), classifierGpu.TrainStep(inputs, labels, onGpu), 1e-4f);
            if (clip)
            {
                Assert.True(cpu.LastGradientNorm > 0.05f, $"step {step}: the test needs clipping; norm {cpu.LastGradientNorm}");
                Assert.Equal(cpu.LastGradientNorm, gpu.LastGradientNorm, cpu.LastGradientNorm * 1e-4f);
            }
            else
            {
                Assert.True(float.IsNaN(gpu.LastGradientNorm));
            }
        }

        float[] expected = cpu.Parameters.ToArray();
        float[] actual = gpu.Parameters.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"parameter {i}: cpu {expected[i]}, gpu {actual[i]}");
        }

        Assert.Equal(6, onGpu.StepCount);
    }

    private static INetwork Create(string network, Device device)
        => network == "warmup" ? new WarmupNet(device, seed: 2) : new ClipNet(device, seed: 2);
}
