using Dsl.IO;
using Dsl.Tests.Gpu;
using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.IO;

/// <summary>
/// <see cref="TrainingCheckpoint"/>: training resumed from a checkpoint takes exactly the steps of training that never
/// stopped, for every optimizer and across devices; every refusal names its problem and changes neither the network
/// nor the optimizer.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class TrainingCheckpointTests(GpuSimulatorFixture fixture)
{
    private const int Batch = 6;

    public static TheoryData<string> Optimizers() => ["sgd", "sgd-momentum", "sgd-nesterov-decay", "adam", "adam-decay", "adamw"];

    private static Optimizer Create(string kind) => kind switch
    {
        "sgd" => new Sgd(0.1f),
        "sgd-momentum" => new Sgd(0.05f, momentum: 0.9f),
        "sgd-nesterov-decay" => new Sgd(0.05f, momentum: 0.8f, nesterov: true, weightDecay: 0.01f),
        "adam" => new Adam(0.02f),
        "adam-decay" => new Adam(0.02f, weightDecay: 1e-3f),
        "adamw" => new AdamW(0.02f, weightDecay: 0.1f),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Batch <paramref name="index"/> of a fixed sequence for NetA: (Batch, 7) inputs and labels in [0, 5).</summary>
    private static (float[] Inputs, int[] Labels) BatchOf(int index)
    {
        (float[] inputs, _) = TestData.Classification(Batch, 7, seed: 100 + index);
        (_, int[] labels) = TestData.Classification(Batch, 5, seed: 200 + index);
        return (inputs, labels);
    }

    private static void Train(NetA network, Optimizer optimizer, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            (float[] inputs, int[] labels) = BatchOf(step);
            network.TrainStep(inputs, labels, optimizer);
        }
    }

    private static byte[] Saved(INetwork network, Optimizer optimizer)
    {
        using var stream = new MemoryStream();
        TrainingCheckpoint.Save(network, optimizer, stream);
        return stream.ToArray();
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Resumed_training_takes_the_same_steps_as_training_that_never_stopped(string kind)
    {
        using Device cpu = Device.Cpu(1);
        using var uninterrupted = new NetA(cpu, seed: 1);
        Optimizer optimizer = Create(kind);
        Train(uninterrupted, optimizer, 0, 3);
        byte[] checkpoint = Saved(uninterrupted, optimizer);
        Train(uninterrupted, optimizer, 3, 7);

        using var resumed = new NetA(cpu, seed: 2); // other weights, overwritten by the load
        Optimizer fresh = Create(kind);
        Train(resumed, fresh, 10, 12); // state of its own, replaced by the load
        TrainingCheckpoint.Load(resumed, fresh, new MemoryStream(checkpoint));
        Assert.Equal(3, fresh.StepCount);
        Train(resumed, fresh, 3, 7);

        Assert.Equal(7, fresh.StepCount);
        Assert.Equal(uninterrupted.Parameters.ToArray(), resumed.Parameters.ToArray());
    }

    [Theory]
    [InlineData("sgd-momentum")]
    [InlineData("adam-decay")]
    public void A_checkpoint_moves_between_a_gpu_and_the_cpu(string kind)
    {
        using var onGpu = new NetA(fixture.Simulator, seed: 3);
        Optimizer gpuOptimizer = Create(kind);
        Train(onGpu, gpuOptimizer, 0, 3);
        byte[] fromGpu = Saved(onGpu, gpuOptimizer);
        Train(onGpu, gpuOptimizer, 3, 6);

        // Resumed on the CPU: the same steps up to float rounding.
        using Device cpu = Device.Cpu(1);
        using var onCpu = new NetA(cpu, seed: 4);
        Optimizer cpuOptimizer = Create(kind);
        TrainingCheckpoint.Load(onCpu, cpuOptimizer, new MemoryStream(fromGpu));
        Train(onCpu, cpuOptimizer, 3, 6);
        AssertClose(onGpu.Parameters.ToArray(), onCpu.Parameters.ToArray());

        // And back: a CPU checkpoint resumed on the GPU, whose optimizer was bound to the host before.
        byte[] fromCpu = Saved(onCpu, cpuOptimizer);
        Train(onCpu, cpuOptimizer, 6, 8);
        using var backOnGpu = new NetA(fixture.Simulator, seed: 5);
        TrainingCheckpoint.Load(backOnGpu, cpuOptimizer, new MemoryStream(fromCpu));
        Train(backOnGpu, cpuOptimizer, 6, 8);
        AssertClose(onCpu.Parameters.ToArray(), backOnGpu.Parameters.ToArray());
    }

    /// <summary>
    /// On the GPU alone, a resumed run equals the uninterrupted one bit for bit, also when the optimizer loaded into was
    /// already bound on that GPU (its device state is replaced, and its update kernels reloaded).
    /// </summary>
    [Theory]
    [InlineData("sgd")]
    [InlineData("sgd-momentum")]
    [InlineData("adamw")]
    public void On_a_gpu_resumed_training_equals_uninterrupted_training_bit_for_bit(string kind)
    {
        using var uninterrupted = new NetA(fixture.Simulator, seed: 12);
        Optimizer optimizer = Create(kind);
        Train(uninterrupted, optimizer, 0, 3);
        byte[] checkpoint = Saved(uninterrupted, optimizer);
        Train(uninterrupted, optimizer, 3, 6);

        using var resumed = new NetA(fixture.Simulator, seed: 13);
        Optimizer bound = Create(kind);
        Train(resumed, bound, 30, 32); // bound on this GPU with state of its own
        TrainingCheckpoint.Load(resumed, bound, new MemoryStream(checkpoint));
        Train(resumed, bound, 3, 6);
        Assert.Equal(uninterrupted.Parameters.ToArray(), resumed.Parameters.ToArray());
    }

    [Fact]
    public void On_a_gpu_a_refused_load_changes_neither_the_network_nor_the_device_state()
    {
        using Device cpu = Device.Cpu(1);
        (NetA source, Optimizer adam) = Trained(cpu, "adam");
        using var onGpu = new NetA(fixture.Simulator, seed: 14);
        Optimizer adamW = Create("adamw");
        Train(onGpu, adamW, 0, 2);
        AssertRefused(onGpu, adamW, Saved(source, adam), ParameterFileProblem.OptimizerMismatch);
    }

    [Fact]
    public void Loads_leave_the_stream_after_the_checkpoint()
    {
        using Device cpu = Device.Cpu(1);
        (NetA first, Optimizer firstOptimizer) = Trained(cpu, "adam");
        (NetA second, Optimizer secondOptimizer) = Trained(cpu, "adam", seed: 15);
        Train(second, secondOptimizer, 0, 3);
        using var stream = new MemoryStream();
        TrainingCheckpoint.Save(first, firstOptimizer, stream);
        long firstLength = stream.Length;
        TrainingCheckpoint.Save(second, secondOptimizer, stream);
        stream.Position = 0;

        (NetA target, Optimizer targetOptimizer) = Trained(cpu, "adam", seed: 16);
        TrainingCheckpoint.Load(target, targetOptimizer, stream);
        Assert.Equal(firstLength, stream.Position);
        Assert.Equal(first.Parameters.ToArray(), target.Parameters.ToArray());
        Assert.Equal(2, targetOptimizer.StepCount);
        TrainingCheckpoint.Load(target, targetOptimizer, stream);
        Assert.Equal(stream.Length, stream.Position);
        Assert.Equal(second.Parameters.ToArray(), target.Parameters.ToArray());
        Assert.Equal(5, targetOptimizer.StepCount);
    }

    [Fact]
    public void Other_bytes_and_other_versions_are_named_as_such()
    {
        using Device cpu = Device.Cpu(1);
        (NetA source, Optimizer optimizer) = Trained(cpu, "adam");
        (NetA target, Optimizer targetOptimizer) = Trained(cpu, "adam", seed: 9);
        AssertRefused(target, targetOptimizer, [], ParameterFileProblem.NotAParameterFile);
        AssertRefused(target, targetOptimizer, "hello"u8.ToArray(), ParameterFileProblem.NotAParameterFile);
        using var parameterFile = new MemoryStream();
        ParameterFile.Save(source, parameterFile);
        AssertRefused(target, targetOptimizer, parameterFile.ToArray(), ParameterFileProblem.NotAParameterFile);

        byte[] newer = Saved(source, optimizer);
        newer[8] = 2;
        var error = AssertRefused(target, targetOptimizer, newer, ParameterFileProblem.UnsupportedVersion);
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// An intact checksum over an impossible optimizer block (a step count without state, as Save never writes) is
    /// refused as corrupt: resuming Adam with the wrong step count would silently change its bias correction.
    /// </summary>
    [Fact]
    public void A_step_count_without_state_is_refused_even_under_a_valid_checksum()
    {
        using Device cpu = Device.Cpu(1);
        using var network = new NetA(cpu, seed: 1);
        byte[] unstepped = Saved(network, new Adam(0.02f));
        // The optimizer block's step count sits 24 bytes before the end: step count (8), length (4), buffers (4), CRC (4).
        int stepCountOffset = unstepped.Length - 20;
        Assert.Equal(-1, BitConverter.ToInt32(unstepped, stepCountOffset + 8));
        unstepped[stepCountOffset] = 5;
        System.IO.Hashing.Crc32.Hash(unstepped.AsSpan(0, unstepped.Length - 4)).CopyTo(unstepped, unstepped.Length - 4);

        (NetA target, Optimizer targetOptimizer) = Trained(cpu, "adam", seed: 9);
        var error = AssertRefused(target, targetOptimizer, unstepped, ParameterFileProblem.Corrupt);
        Assert.Contains("step count 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_before_the_first_step_resets_the_optimizer()
    {
        using Device cpu = Device.Cpu(1);
        using var network = new NetA(cpu, seed: 6);
        var unstepped = new Adam(0.02f);
        byte[] checkpoint = Saved(network, unstepped);

        using var other = new NetA(cpu, seed: 7);
        var stepped = new Adam(0.02f);
        Train(other, stepped, 0, 4);
        TrainingCheckpoint.Load(other, stepped, new MemoryStream(checkpoint));
        Assert.Equal(0, stepped.StepCount);
        Assert.Equal(network.Parameters.ToArray(), other.Parameters.ToArray());

        Train(network, unstepped, 0, 3);
        Train(other, stepped, 0, 3);
        Assert.Equal(network.Parameters.ToArray(), other.Parameters.ToArray());
    }

    [Fact]
    public void Another_optimizer_type_is_refused_and_nothing_changes()
    {
        using Device cpu = Device.Cpu(1);
        (NetA source, Optimizer adam) = Trained(cpu, "adam");
        byte[] checkpoint = Saved(source, adam);

        (NetA target, Optimizer adamW) = Trained(cpu, "adamw", seed: 9);
        var error = AssertRefused(target, adamW, checkpoint, ParameterFileProblem.OptimizerMismatch);
        Assert.Contains("Dsl.Training.Adam", error.Message, StringComparison.Ordinal);
        Assert.Contains("Dsl.Training.AdamW", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sgd_with_and_without_momentum_is_refused()
    {
        using Device cpu = Device.Cpu(1);
        (NetA source, Optimizer momentum) = Trained(cpu, "sgd-momentum");
        (NetA target, Optimizer plain) = Trained(cpu, "sgd", seed: 9);
        AssertRefused(target, plain, Saved(source, momentum), ParameterFileProblem.OptimizerMismatch);
        AssertRefused(source, momentum, Saved(target, plain), ParameterFileProblem.OptimizerMismatch);
    }

    [Fact]
    public void Another_networks_checkpoint_is_refused()
    {
        using Device cpu = Device.Cpu(1);
        using var other = new NetATanh(cpu, seed: 1);
        var optimizer = new Adam(0.02f);
        (float[] inputs, int[] labels) = BatchOf(0);
        other.TrainStep(inputs, labels, optimizer);
        (NetA target, Optimizer adam) = Trained(cpu, "adam");
        AssertRefused(target, adam, Saved(other, optimizer), ParameterFileProblem.NetworkMismatch);
    }

    [Fact]
    public void Every_truncation_is_refused_and_nothing_changes()
    {
        using Device cpu = Device.Cpu(1);
        (NetA source, Optimizer optimizer) = Trained(cpu, "adam");
        byte[] checkpoint = Saved(source, optimizer);
        (NetA target, Optimizer targetOptimizer) = Trained(cpu, "adam", seed: 9);
        AssertRefused(target, targetOptimizer, [], ParameterFileProblem.NotAParameterFile); // no bytes at all
        for (int length = 1; length < checkpoint.Length; length++)
        {
            AssertRefused(target, targetOptimizer, checkpoint[..length], ParameterFileProblem.Truncated);
        }
    }

    [Fact]
    public void A_flipped_bit_anywhere_is_refused_as_damage_and_nothing_changes()
    {
        using Device cpu = Device.Cpu(1);
        (NetA source, Optimizer optimizer) = Trained(cpu, "sgd-momentum");
        byte[] checkpoint = Saved(source, optimizer);
        (NetA target, Optimizer targetOptimizer) = Trained(cpu, "sgd-momentum", seed: 9);
        for (int i = 0; i < checkpoint.Length; i++)
        {
            byte[] damaged = (byte[])checkpoint.Clone();
            damaged[i] ^= (byte)(1 << (i % 8));
            ParameterFileException error = AssertRefused(target, targetOptimizer, damaged, problem: null);
            Assert.True(error.Problem is ParameterFileProblem.Corrupt or ParameterFileProblem.Truncated
                or ParameterFileProblem.NotAParameterFile or ParameterFileProblem.UnsupportedVersion,
                $"byte {i}: {error.Problem}: {error.Message}");
        }
    }

    [Fact]
    public void An_optimizer_defined_elsewhere_cannot_be_checkpointed()
    {
        using Device cpu = Device.Cpu(1);
        using var network = new NetA(cpu, seed: 1);
        var foreign = new ForeignOptimizer();
        Assert.Throws<NotSupportedException>(() => TrainingCheckpoint.Save(network, foreign, new MemoryStream()));
        (NetA source, Optimizer adam) = Trained(cpu, "adam");
        Assert.Throws<NotSupportedException>(() => TrainingCheckpoint.Load(network, foreign, new MemoryStream(Saved(source, adam))));
    }

    [Fact]
    public void An_optimizer_bound_to_another_network_is_not_saved()
    {
        using Device cpu = Device.Cpu(1);
        (_, Optimizer optimizer) = Trained(cpu, "adam");
        using var bigger = new Mnist1dMlp(cpu, seed: 1);
        Assert.Throws<InvalidOperationException>(() => TrainingCheckpoint.Save(bigger, optimizer, new MemoryStream()));
    }

    [Fact]
    public void A_file_round_trips_and_bytes_after_its_end_are_refused()
    {
        using Device cpu = Device.Cpu(1);
        (NetA source, Optimizer optimizer) = Trained(cpu, "adamw");
        string directory = Directory.CreateTempSubdirectory("dsl-checkpoint-").FullName;
        try
        {
            string path = Path.Combine(directory, "run.ckpt");
            TrainingCheckpoint.Save(source, optimizer, path);
            Assert.Equal([path], Directory.GetFiles(directory));

            (NetA target, Optimizer targetOptimizer) = Trained(cpu, "adamw", seed: 9);
            TrainingCheckpoint.Load(target, targetOptimizer, path);
            Assert.Equal(source.Parameters.ToArray(), target.Parameters.ToArray());
            Assert.Equal(optimizer.StepCount, targetOptimizer.StepCount);

            File.AppendAllText(path, "x");
            (NetA third, Optimizer thirdOptimizer) = Trained(cpu, "adamw", seed: 10);
            float[] before = third.Parameters.ToArray();
            var error = Assert.Throws<ParameterFileException>(() => TrainingCheckpoint.Load(third, thirdOptimizer, path));
            Assert.Equal(ParameterFileProblem.Corrupt, error.Problem);
            Assert.Equal(before, third.Parameters.ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A network and optimizer after two steps from <paramref name="seed"/>.</summary>
    private static (NetA Network, Optimizer Optimizer) Trained(Device device, string kind, ulong seed = 8)
    {
        var network = new NetA(device, seed);
        Optimizer optimizer = Create(kind);
        Train(network, optimizer, 20, 22);
        return (network, optimizer);
    }

    /// <summary>
    /// Loads <paramref name="bytes"/>, expects the refusal, and checks that the network's parameters and the optimizer's
    /// state and step count are exactly as before.
    /// </summary>
    private static ParameterFileException AssertRefused(NetA network, Optimizer optimizer, byte[] bytes, ParameterFileProblem? problem)
    {
        float[] parameters = network.Parameters.ToArray();
        (long steps, int length, float[][] buffers) = optimizer.ExportState();
        var error = Assert.Throws<ParameterFileException>(() => TrainingCheckpoint.Load(network, optimizer, new MemoryStream(bytes)));
        if (problem is not null)
        {
            Assert.Equal(problem, error.Problem);
        }

        Assert.Equal(parameters, network.Parameters.ToArray());
        (long stepsAfter, int lengthAfter, float[][] buffersAfter) = optimizer.ExportState();
        Assert.Equal(steps, stepsAfter);
        Assert.Equal(length, lengthAfter);
        Assert.Equal(buffers.Length, buffersAfter.Length);
        for (int i = 0; i < buffers.Length; i++)
        {
            Assert.Equal(buffers[i], buffersAfter[i]);
        }

        return error;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"parameter {i}: {expected[i]} against {actual[i]}");
        }
    }

    /// <summary>An optimizer from outside the library: its state is its own business.</summary>
    private sealed class ForeignOptimizer() : Optimizer(0.1f)
    {
        protected override void AllocateState(int length)
        {
        }

        protected override void ReleaseState()
        {
        }

        protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients)
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                parameters[i] -= LearningRate * gradients[i];
            }
        }
    }
}
