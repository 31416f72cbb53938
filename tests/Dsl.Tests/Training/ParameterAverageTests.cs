using System.Reflection;
using Dsl.Tests.Gpu;
using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// <see cref="ParameterAverage"/> against the float64 mean of the same snapshots, and its contract: every rejected
/// call leaves the snapshots and the destination as they were; and the generated <c>CopyParametersTo</c> it reads a
/// network through, on the CPU and on the GPU simulator.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public class ParameterAverageTests(GpuSimulatorFixture fixture)
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(33, 17)]
    [InlineData(1001, 200)]
    public void Mean_matches_a_float64_reference(int length, int snapshots)
    {
        var random = new Random(length * 31 + snapshots);
        var average = new ParameterAverage(length);
        var reference = new double[length];
        var snapshot = new float[length];
        for (int s = 0; s < snapshots; s++)
        {
            for (int i = 0; i < length; i++)
            {
                // Values of very different sizes, so float32 running sums would drift from the float64 mean.
                snapshot[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 4)));
                reference[i] += snapshot[i];
            }

            average.Add(snapshot);
        }

        var mean = new float[length];
        average.CopyMeanTo(mean);

        Assert.Equal(snapshots, average.Count);
        for (int i = 0; i < length; i++)
        {
            // The mean is rounded to float32 once, so it is the float32 nearest the float64 mean.
            Assert.Equal((float)(reference[i] / snapshots), mean[i]);
        }
    }

    [Fact]
    public void Mean_of_identical_snapshots_is_the_snapshot()
    {
        float[] snapshot = [0.1f, -3.25f, 1e-7f, 12345.678f, 0f];
        var average = new ParameterAverage(snapshot.Length);
        for (int s = 0; s < 1000; s++)
        {
            average.Add(snapshot);
        }

        var mean = new float[snapshot.Length];
        average.CopyMeanTo(mean);
        Assert.Equal(snapshot, mean);
    }

    [Fact]
    public void Reset_forgets_every_snapshot()
    {
        var average = new ParameterAverage(3);
        average.Add([100f, 100f, 100f]);
        average.Reset();
        Assert.Equal(0, average.Count);
        Assert.Throws<InvalidOperationException>(() => average.CopyMeanTo(new float[3]));

        average.Add([1f, 2f, 3f]);
        average.Add([3f, 4f, 5f]);
        var mean = new float[3];
        average.CopyMeanTo(mean);
        Assert.Equal([2f, 3f, 4f], mean);
    }

    [Fact]
    public void Rejects_a_non_positive_length()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterAverage(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterAverage(-5));
    }

    [Fact]
    public void Rejects_a_snapshot_of_the_wrong_length_and_keeps_the_others()
    {
        var average = new ParameterAverage(4);
        average.Add([1f, 2f, 3f, 4f]);

        var error = Assert.Throws<ShapeMismatchException>(() => average.Add([9f, 9f, 9f]));
        Assert.Contains("4 floats", error.Expected, StringComparison.Ordinal);
        Assert.Contains("3 floats", error.Actual, StringComparison.Ordinal);
        Assert.Equal(1, average.Count);

        var mean = new float[4];
        average.CopyMeanTo(mean);
        Assert.Equal([1f, 2f, 3f, 4f], mean);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Rejects_a_non_finite_snapshot_and_names_the_parameter(float bad)
    {
        var average = new ParameterAverage(5);
        average.Add([1f, 1f, 1f, 1f, 1f]);

        var error = Assert.Throws<ArgumentException>(() => average.Add([2f, 2f, 2f, bad, 2f]));
        Assert.Contains("Parameter 3", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, average.Count);

        var mean = new float[5];
        average.CopyMeanTo(mean);
        Assert.Equal([1f, 1f, 1f, 1f, 1f], mean);
    }

    [Fact]
    public void Copy_with_no_snapshot_or_a_wrong_destination_throws_and_writes_nothing()
    {
        var average = new ParameterAverage(3);
        float[] destination = [7f, 7f, 7f];
        Assert.Throws<InvalidOperationException>(() => average.CopyMeanTo(destination));
        Assert.Equal([7f, 7f, 7f], destination);

        average.Add([1f, 2f, 3f]);
        float[] wrong = [7f, 7f];
        Assert.Throws<ShapeMismatchException>(() => average.CopyMeanTo(wrong));
        Assert.Equal([7f, 7f], wrong);
    }

    [Fact]
    public void Averages_a_network_and_writes_the_mean_back_into_it()
    {
        using var network = new NetA(Device.Cpu(1), seed: 3);
        float[] first = network.Parameters.ToArray();
        var average = new ParameterAverage(network);
        Assert.Equal(network.ParameterCount, average.Length);
        average.Add(network);

        network.ResetParameters(seed: 4);
        float[] second = network.Parameters.ToArray();
        average.Add(network);

        network.ResetParameters(seed: 5);
        average.CopyMeanTo(network);
        ReadOnlySpan<float> mean = network.Parameters;
        for (int i = 0; i < first.Length; i++)
        {
            Assert.Equal((float)(((double)first[i] + second[i]) / 2), mean[i]);
        }
    }

    [Fact]
    public void Refuses_another_networks_parameters()
    {
        using var small = new NetA(Device.Cpu(1), seed: 1);
        using var other = new Mnist1dMlp(Device.Cpu(1), seed: 1);
        var average = new ParameterAverage(small);
        average.Add(small);

        float[] before = other.Parameters.ToArray();
        Assert.Throws<ShapeMismatchException>(() => average.Add(other));
        Assert.Throws<ShapeMismatchException>(() => average.CopyMeanTo(other));
        Assert.Equal(before, other.Parameters.ToArray());
        Assert.Equal(1, average.Count);
    }

    [Fact]
    public void CopyParametersTo_copies_the_parameters_and_checks_the_length_first()
    {
        using var network = new NetA(Device.Cpu(1), seed: 7);
        var copy = new float[network.ParameterCount];
        network.CopyParametersTo(copy);
        Assert.Equal(network.Parameters.ToArray(), copy);

        float[] wrong = [5f, 5f, 5f];
        var error = Assert.Throws<ShapeMismatchException>(() => network.CopyParametersTo(wrong));
        Assert.Contains($"{network.ParameterCount} floats", error.Expected, StringComparison.Ordinal);
        Assert.Equal([5f, 5f, 5f], wrong);
        Assert.Throws<ShapeMismatchException>(() => network.CopyParametersTo(new float[network.ParameterCount + 1]));
    }

    /// <summary>
    /// On a GPU the snapshot is the device's weights after the step, and taking it leaves the device copy current
    /// (no upload before the next step), where reading <c>Parameters</c> hands out a writable span and does not.
    /// </summary>
    [Fact]
    public void On_a_gpu_a_snapshot_reads_the_device_weights_and_forces_no_upload()
    {
        using var network = new NetA(fixture.Simulator, seed: 2);
        (float[] inputs, _) = TestData.Classification(9, network.InputSize, seed: 4);
        (_, int[] labels) = TestData.Classification(9, network.OutputSize, seed: 5);
        var optimizer = new Adam(0.05f);
        network.TrainStep(inputs, labels, optimizer); // the device now holds newer weights than the host

        var average = new ParameterAverage(network);
        average.Add(network);
        Assert.False(DeviceParametersStale(network));

        float[] deviceWeights = network.Parameters.ToArray(); // downloads nothing new, but marks the device copy stale
        Assert.True(DeviceParametersStale(network));
        var mean = new float[network.ParameterCount];
        average.CopyMeanTo(mean);
        Assert.Equal(deviceWeights, mean);

        using var cpuTwin = new NetA(Device.Cpu(1), seed: 2);
        cpuTwin.TrainStep(inputs, labels, new Adam(0.05f));
        using var untrained = new NetA(Device.Cpu(1), seed: 2);
        Assert.NotEqual(untrained.Parameters.ToArray(), mean); // the snapshot is after the step, not the initial weights
        for (int i = 0; i < mean.Length; i++)
        {
            Assert.Equal(cpuTwin.Parameters[i], mean[i], 1e-5f);
        }
    }

    /// <summary>
    /// A write through <c>Parameters</c> followed by a copy and a step: the copy sees the write, and the step still
    /// uploads it (the copy must not clear the pending upload), as a CPU twin given the same write shows.
    /// </summary>
    [Fact]
    public void On_a_gpu_a_copy_after_a_host_write_keeps_the_write_and_its_upload()
    {
        using var network = new NetA(fixture.Simulator, seed: 11);
        using var cpuTwin = new NetA(Device.Cpu(1), seed: 11);
        (float[] inputs, _) = TestData.Classification(6, network.InputSize, seed: 12);
        (_, int[] labels) = TestData.Classification(6, network.OutputSize, seed: 13);
        network.TrainStep(inputs, labels, new Sgd(0.1f));
        cpuTwin.TrainStep(inputs, labels, new Sgd(0.1f));

        network.Parameters[0] = 3.5f;
        cpuTwin.Parameters[0] = 3.5f;
        var copy = new float[network.ParameterCount];
        network.CopyParametersTo(copy);
        Assert.Equal(3.5f, copy[0]);
        Assert.True(DeviceParametersStale(network));

        var gpuSgd = new Sgd(0.1f);
        var cpuSgd = new Sgd(0.1f);
        network.TrainStep(inputs, labels, gpuSgd);
        cpuTwin.TrainStep(inputs, labels, cpuSgd);
        network.CopyParametersTo(copy);
        for (int i = 0; i < copy.Length; i++)
        {
            Assert.Equal(cpuTwin.Parameters[i], copy[i], 1e-5f);
        }
    }

    [Fact]
    public void On_a_gpu_the_mean_written_back_reaches_the_device()
    {
        using var network = new NetA(fixture.Simulator, seed: 5);
        var average = new ParameterAverage(network);
        average.Add(network);
        network.ResetParameters(seed: 6);
        average.Add(network);
        average.CopyMeanTo(network);

        using var cpu = new NetA(Device.Cpu(1), seed: 0);
        average.CopyMeanTo(cpu);
        (float[] inputs, _) = TestData.Classification(5, network.InputSize, seed: 8);
        var onDevice = new float[5 * network.OutputSize];
        var onHost = new float[5 * network.OutputSize];
        network.Predict(inputs, onDevice);
        cpu.Predict(inputs, onHost);
        for (int i = 0; i < onHost.Length; i++)
        {
            Assert.Equal(onHost[i], onDevice[i], 1e-5f);
        }
    }

    /// <summary>The runtime's flag that makes the next GPU step upload the host's parameters.</summary>
    private static bool DeviceParametersStale(NetA network)
    {
        var graph = (Dsl.Graphs.GraphNetwork)typeof(NetA).GetField("_graph", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(network)!;
        return graph.DeviceParametersStale;
    }
}
