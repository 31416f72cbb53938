using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// <see cref="ParameterAverage"/> against the float64 mean of the same snapshots, and its contract: every rejected
/// call leaves the snapshots and the destination as they were.
/// </summary>
public class ParameterAverageTests
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
}
