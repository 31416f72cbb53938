using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>The non-finite scenarios the CPU and the GPU tests both run, on networks created on their device.</summary>
internal static class NonFiniteScenarios
{
    private const int Batch = 37;

    /// <summary>
    /// A <see cref="LinearRegressor"/> and its twin take one step; then a batch of finite inputs whose squared error
    /// overflows float32 is refused (TrainStep, from host spans and, when given, from a data set on the device; and
    /// ComputeGradients) with the model's parameters, gradients, step count and last loss still the twin's; and one
    /// more step on both lands on the same parameters, so the optimizer's moments are the twin's too.
    /// </summary>
    public static void OverflowingLossChangesNothing(Func<LinearRegressor> create, Func<float[], float[], DeviceDataSet>? deviceData = null)
    {
        using LinearRegressor model = create();
        using LinearRegressor twin = create();
        var (optimizer, twinOptimizer) = (new Adam(0.01f), new Adam(0.01f));
        var random = new Random(6);
        StepBoth(model, twin, optimizer, twinOptimizer, random);

        // Finite inputs and a finite output (3e37 times weights below 1), whose squared error overflows float32.
        (float[] huge, float[] hugeTargets) = Regression(random);
        Array.Fill(huge, 3e37f);
        var error = Assert.Throws<NonFiniteLossException>(() => model.TrainStep(huge, hugeTargets, optimizer));
        Assert.Equal(float.PositiveInfinity, error.Loss);
        if (deviceData is not null)
        {
            using DeviceDataSet data = deviceData(huge, hugeTargets);
            Assert.Throws<NonFiniteLossException>(() => model.TrainStep(data, 0, Batch, optimizer));
        }

        Assert.Throws<NonFiniteLossException>(() => model.ComputeGradients(huge, hugeTargets));

        Assert.Equal(twin.Parameters.ToArray(), model.Parameters.ToArray());
        Assert.Equal(twin.Gradients.ToArray(), model.Gradients.ToArray());
        Assert.Equal((twinOptimizer.StepCount, twin.LastLoss), (optimizer.StepCount, model.LastLoss));
        StepBoth(model, twin, optimizer, twinOptimizer, random);
        Assert.Equal(twin.Parameters.ToArray(), model.Parameters.ToArray());
    }

    /// <summary>Predict of a batch with one non-finite input: that row's outputs are not all finite, every other row's are as without it.</summary>
    public static void PredictRowsAreIndependent(INetwork model, int badRow, int badColumn, float bad)
    {
        var random = new Random(10);
        float[] inputs = [.. Enumerable.Range(0, Batch * model.InputSize).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        float[] clean = new float[Batch * model.OutputSize];
        model.Predict(inputs, clean);

        inputs[(badRow * model.InputSize) + badColumn] = bad;
        float[] outputs = new float[Batch * model.OutputSize];
        model.Predict(inputs, outputs);
        int width = model.OutputSize;
        for (int row = 0; row < Batch; row++)
        {
            float[] actual = outputs.AsSpan(row * width, width).ToArray();
            if (row == badRow)
            {
                Assert.Contains(actual, value => !float.IsFinite(value));
            }
            else
            {
                Assert.Equal(clean.AsSpan(row * width, width).ToArray(), actual);
            }
        }
    }

    private static void StepBoth(LinearRegressor model, LinearRegressor twin, Optimizer optimizer, Optimizer twinOptimizer, Random random)
    {
        (float[] inputs, float[] targets) = Regression(random);
        model.TrainStep(inputs, targets, optimizer);
        twin.TrainStep(inputs, targets, twinOptimizer);
    }

    /// <summary>A batch for <see cref="LinearRegressor"/>: inputs (Batch, 4) in [-1, 1), targets (Batch, 2) in [0, 1).</summary>
    private static (float[] Inputs, float[] Targets) Regression(Random random)
        => ([.. Enumerable.Range(0, Batch * 4).Select(_ => (float)((random.NextDouble() * 2) - 1))], [.. Enumerable.Range(0, Batch * 2).Select(_ => (float)random.NextDouble())]);
}
