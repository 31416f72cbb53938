using Dsl;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// Small networks split a training step's batch across threads (each slice a whole forward and backward,
/// gradient shares combined by slice size). The result must equal the single-threaded step, which the
/// gradient checks and the PyTorch fixtures pin down.
/// </summary>
public sealed class BatchSplitTests
{
    [Theory]
    [InlineData("Mnist1dMlp", 100, 2)]
    [InlineData("Mnist1dMlp", 33, 2)]
    [InlineData("Mnist1dMlp", 100, 3)]
    [InlineData("NetB", 64, 2)]
    [InlineData("InitZoo", 71, 2)]
    [InlineData("ActivatedLogits", 48, 3)]
    public void Split_gradients_and_loss_equal_the_single_threaded_ones(string name, int batch, int threads)
    {
        using Device one = Device.Cpu(1);
        using Device many = Device.Cpu(threads);
        INetwork serial = GradientCheckTests.Create(name, one, seed: 4);
        INetwork split = GradientCheckTests.Create(name, many, seed: 4);
        Assert.True(Dsl.Cpu.BatchSplit.SliceCount(batch, many.Workers) > 1, "the case must actually split");

        var random = new Random(batch);
        float[] x = Enumerable.Range(0, batch * serial.InputSize).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        int[] labels = Enumerable.Range(0, batch).Select(_ => random.Next(serial.OutputSize)).ToArray();
        float[] targets = Enumerable.Range(0, batch * serial.OutputSize).Select(_ => (float)random.NextDouble()).ToArray();
        float Gradients(INetwork network) => network switch
        {
            IClassifierNetwork classifier => classifier.ComputeGradients(x, labels),
            IRegressionNetwork regression => regression.ComputeGradients(x, targets),
            _ => throw new InvalidOperationException(),
        };

        float serialLoss = Gradients(serial);
        float splitLoss = Gradients(split);
        Assert.Equal(serialLoss, splitLoss, 1e-5f * Math.Max(1, Math.Abs(serialLoss)));
        float[] expected = serial.Gradients.ToArray();
        float[] actual = split.Gradients.ToArray();
        float scale = expected.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"{name}: gradient[{i}] {actual[i]} (split) vs {expected[i]} (serial)");
        }
    }

    [Fact]
    public void Split_training_follows_the_single_threaded_trajectory()
    {
        using Device one = Device.Cpu(1);
        using Device two = Device.Cpu(2);
        var serial = new Mnist1dMlp(one, seed: 8);
        var split = new Mnist1dMlp(two, seed: 8);
        var serialOptimizer = new Adam(1e-3f);
        var splitOptimizer = new Adam(1e-3f);
        var random = new Random(1);
        float[] x = Enumerable.Range(0, 100 * 40).Select(_ => (float)random.NextDouble()).ToArray();
        int[] y = Enumerable.Range(0, 100).Select(_ => random.Next(10)).ToArray();
        for (int step = 0; step < 20; step++)
        {
            float a = serial.TrainStep(x, y, serialOptimizer);
            float b = split.TrainStep(x, y, splitOptimizer);
            Assert.Equal(a, b, 1e-4f);
        }

        float[] expected = serial.Parameters.ToArray();
        float[] actual = split.Parameters.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-4f);
        }
    }

    [Fact]
    public void Slices_cover_the_batch_once_with_sizes_within_one()
    {
        foreach (int batch in new[] { 32, 33, 100, 101, 4096 })
        {
            foreach (int slices in new[] { 1, 2, 3, 7 })
            {
                int covered = 0;
                for (int s = 0; s < slices; s++)
                {
                    Assert.Equal(covered, Dsl.Cpu.BatchSplit.Start(s, slices, batch));
                    int rows = Dsl.Cpu.BatchSplit.Rows(s, slices, batch);
                    Assert.InRange(rows, batch / slices, (batch / slices) + 1);
                    covered += rows;
                }

                Assert.Equal(batch, covered);
            }
        }
    }
}
