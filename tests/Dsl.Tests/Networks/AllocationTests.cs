using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// A training step on the CPU backend allocates nothing once warm: host-span and device-resident steps, gradients
/// only, prediction and the loss read-back, single-threaded and split over two threads (the workers' allocations
/// count too: the measure is the process-wide <see cref="GC.GetTotalAllocatedBytes"/>, so this class runs alone).
/// </summary>
/// <remarks>
/// The GPU path is not covered here: on ILGPU's CPU simulator every kernel launch allocates inside ILGPU (97 bytes for
/// a plain auto-grouped launch, more for grouped kernels with shared memory), so a simulator measurement says nothing
/// about a CUDA launch.
/// </remarks>
[Collection(AllocationCollection.Name)]
public sealed class AllocationTests
{
    private const int Batch = 50;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_warm_training_step_on_the_cpu_allocates_nothing(int threads)
    {
        using Device device = Device.Cpu(threads);
        using var model = new Mnist1dMlp(device, 1);
        var random = new Random(threads);
        float[] inputs = TestData.Uniform(random, Batch * 40, -1, 1);
        int[] labels = [.. Enumerable.Range(0, Batch).Select(_ => random.Next(10))];
        float[] outputs = new float[Batch * 10];
        using DeviceDataSet data = DeviceDataSet.ForClassification(device, inputs, labels, inputSize: 40, classes: 10);
        var adam = new Adam(0.001f);
        var sgd = new Sgd(0.01f, momentum: 0.9f, nesterov: true, weightDecay: 1e-4f);

        void Steps()
        {
            for (int step = 0; step < 10; step++)
            {
                model.TrainStep(inputs, labels, adam);
                model.TrainStep(data, 10, 30, adam);
                model.ComputeGradients(inputs, labels);
                model.Predict(inputs, outputs);
                _ = model.LastLoss;
            }
        }

        // Warm-up: state, workspaces, the JIT's tiers.
        for (int round = 0; round < 5; round++)
        {
            Steps();
        }

        Assert.Equal(0, MinimumAllocatedBytes(Steps));

        // Another optimizer on a second model: its own state is allocated on its first step only.
        using var second = new Mnist1dMlp(device, 2);
        second.TrainStep(inputs, labels, sgd);
        Assert.Equal(0, MinimumAllocatedBytes(() => second.TrainStep(inputs, labels, sgd)));

        // The whole training policy: a warm-up into a cosine decay, clipping by global norm, decay exemptions.
        second.Training.Schedule = LearningRateSchedule.Warmup(3, LearningRateSchedule.Cosine(100));
        second.Training.MaxGradientNorm = 0.5f;
        var adamW = new AdamW(0.001f, weightDecay: 0.1f);
        for (int step = 0; step < 50; step++)
        {
            // The clipping's and the schedule's code is new to the JIT here: past its tiers first.
            second.TrainStep(inputs, labels, adamW);
        }

        // Tier-1 compilation runs in the background after a quiet 100 ms; let it finish before measuring.
        Thread.Sleep(300);
        second.TrainStep(inputs, labels, adamW);

        Assert.Equal(0, MinimumAllocatedBytes(() => second.TrainStep(inputs, labels, adamW)));
    }

    /// <summary>
    /// Bytes allocated process-wide while <paramref name="action"/> runs, the least of three runs (a runtime
    /// background thread may allocate during one of them; a step that allocates does so every time).
    /// </summary>
    private static long MinimumAllocatedBytes(Action action)
    {
        long least = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            action();
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        return least;
    }
}

/// <summary>Tests that measure process-wide allocation: run after the parallel collections, alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation (not parallel)";
}
