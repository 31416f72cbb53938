using Dsl;
using Xunit;
using Dsl.Data;
using Dsl.Training;

namespace Dsl.Tests.Networks;

/// <summary>
/// The end-to-end path on the shipped data set: a short run must learn, and the main job's full recipe must reach
/// the published accuracy.
/// </summary>
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

    /// <summary>
    /// The main job's recipe (examples/Mnist1d defaults): Adam lr 1e-2 with weight decay 1e-3, batch 100, 8000 steps,
    /// and the reported weights the mean of every 10th step's over the last 2000. Seeds 0-19 gave 0.7030-0.7350
    /// (seed 0: 0.7150, its last step's weights 0.6810; docs/performance.md), so 0.69 leaves room for another
    /// machine's last bits and still fails a regression to the plain recipe (mean 0.6578).
    /// </summary>
    [Fact]
    public void Main_job_recipe_reaches_the_published_accuracy_and_the_average_beats_the_last_step()
    {
        Mnist1dDataset data = Mnist1d.Generate();
        using Device device = Device.Cpu(1);
        var model = new Mnist1dMlp(device, seed: 0);
        var optimizer = new Adam(1e-2f, weightDecay: 1e-3f);
        var batcher = new Batcher(data.TrainX, data.TrainY, data.Length, 100, seed: 0);
        var average = new ParameterAverage(model);
        var window = new AveragingWindow(totalSteps: 8000, lastSteps: 2000, every: 10);
        var x = new float[100 * data.Length];
        var y = new int[100];
        for (int step = 1; step <= window.TotalSteps; step++)
        {
            batcher.Next(x, y);
            model.TrainStep(x, y, optimizer);
            if (window.Contains(step))
            {
                average.Add(model);
            }
        }

        Evaluation lastStep = model.Evaluate(data.TestX, data.TestY);
        average.CopyMeanTo(model);
        Evaluation averaged = model.Evaluate(data.TestX, data.TestY);

        Assert.Equal(200, average.Count);
        Assert.True(averaged.Accuracy >= 0.69, $"test accuracy of the weight average: {averaged.Accuracy:F4} (last step's weights: {lastStep.Accuracy:F4})");
        Assert.True(averaged.Accuracy > lastStep.Accuracy, $"weight average {averaged.Accuracy:F4} against last step {lastStep.Accuracy:F4}");
        Assert.True(averaged.Loss < lastStep.Loss, $"weight average test loss {averaged.Loss:F4} against last step {lastStep.Loss:F4}");
    }
}
