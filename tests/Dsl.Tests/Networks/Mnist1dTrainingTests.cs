using Dsl;
using Xunit;
using Dsl.Data;
using Dsl.Training;

namespace Dsl.Tests.Networks;

/// <summary>The end-to-end path on the shipped data set: a short run must learn.</summary>
public sealed class Mnist1dTrainingTests
{
    [Fact]
    public void Thousand_adam_steps_beat_55_percent_test_accuracy()
    {
        Mnist1dDataset data = Mnist1d.Generate();
        using Device device = Device.Cpu(1);
        var model = new Mnist1dMlp(device, seed: 0);
        var optimizer = new Adam(1e-2f);
        var batcher = new Batcher(data.TrainX, data.TrainY, data.Length, 100, seed: 0);
        var x = new float[100 * data.Length];
        var y = new int[100];
        Evaluation before = model.Evaluate(data.TestX, data.TestY);
        for (int step = 0; step < 1000; step++)
        {
            batcher.Next(x, y);
            model.TrainStep(x, y, optimizer);
        }

        Evaluation after = model.Evaluate(data.TestX, data.TestY);
        Assert.True(after.Accuracy > 0.55, $"test accuracy after 1000 steps: {after.Accuracy:F4} (before: {before.Accuracy:F4})");
        Assert.True(after.Loss < before.Loss);
    }
}
