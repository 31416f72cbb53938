using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The GPU path keeps NaN and infinity out of the parameters as the CPU backend does, layer by layer and fully fused:
/// host batches are checked before they are copied, data sets when they are created, and every step reads its loss
/// between its forward and its backward pass, so a step with a non-finite loss throws before anything is queued that
/// changes the gradients, the parameters or the optimizer. (Gradients are not checked on a GPU: that would copy them.)
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuNonFiniteTests(GpuSimulatorFixture fixture)
{
    private const int Batch = 37;

    public static TheoryData<string> Sequences => ["0", "1"];

    [Theory]
    [MemberData(nameof(Sequences))]
    public void A_non_finite_input_of_a_host_batch_is_refused_before_it_is_copied(string fused)
    {
        using NetA model = FusedSequence.With(fused, () => new NetA(fixture.Simulator, 1));
        using NetA twin = FusedSequence.With(fused, () => new NetA(fixture.Simulator, 1));
        var (optimizer, twinOptimizer) = (new Adam(0.01f), new Adam(0.01f));
        var random = new Random(1);
        Step(model, twin, optimizer, twinOptimizer, random);

        (float[] inputs, int[] labels) = Batch7(random);
        inputs[(30 * 7) + 6] = float.NaN;
        var error = Assert.Throws<NonFiniteValueException>(() => model.TrainStep(inputs, labels, optimizer));
        Assert.Equal((30, 6), (error.Row, error.Column));
        AssertUnchangedThenStepsAlike(model, twin, optimizer, twinOptimizer, random);
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void A_loss_that_overflows_is_refused_before_the_backward_pass_from_host_batches_and_device_data(string fused)
    {
        using LinearRegressor model = FusedSequence.With(fused, () => new LinearRegressor(fixture.Simulator, 2));
        using LinearRegressor twin = FusedSequence.With(fused, () => new LinearRegressor(fixture.Simulator, 2));
        var (optimizer, twinOptimizer) = (new Adam(0.01f), new Adam(0.01f));
        var random = new Random(2);
        (float[] inputs, float[] targets) = Regression(random);
        model.TrainStep(inputs, targets, optimizer);
        twin.TrainStep(inputs, targets, twinOptimizer);

        // Finite inputs and a finite output (3e37 times weights below 1), whose squared error overflows float32.
        (float[] huge, float[] hugeTargets) = Regression(random);
        Array.Fill(huge, 3e37f);
        var error = Assert.Throws<NonFiniteLossException>(() => model.TrainStep(huge, hugeTargets, optimizer));
        Assert.Equal(float.PositiveInfinity, error.Loss);
        using DeviceDataSet data = DeviceDataSet.ForRegression(fixture.Simulator, huge, hugeTargets, inputSize: 4, outputSize: 2);
        Assert.Throws<NonFiniteLossException>(() => model.TrainStep(data, 0, Batch, optimizer));
        Assert.Throws<NonFiniteLossException>(() => model.ComputeGradients(huge, hugeTargets));

        Assert.Equal(twin.Parameters.ToArray(), model.Parameters.ToArray());
        Assert.Equal(twin.Gradients.ToArray(), model.Gradients.ToArray());
        Assert.Equal((twinOptimizer.StepCount, twin.LastLoss), (optimizer.StepCount, model.LastLoss));
        (inputs, targets) = Regression(random);
        model.TrainStep(inputs, targets, optimizer);
        twin.TrainStep(inputs, targets, twinOptimizer);
        Assert.Equal(twin.Parameters.ToArray(), model.Parameters.ToArray());
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Predict_gives_a_row_with_a_NaN_input_non_finite_outputs_and_leaves_the_other_rows_alone(string fused)
    {
        using NetA model = FusedSequence.With(fused, () => new NetA(fixture.Simulator, 3));
        (float[] inputs, _) = Batch7(new Random(3));
        float[] clean = new float[Batch * 5];
        model.Predict(inputs, clean);

        inputs[(20 * 7) + 1] = float.PositiveInfinity;
        float[] outputs = new float[Batch * 5];
        model.Predict(inputs, outputs);
        for (int row = 0; row < Batch; row++)
        {
            float[] actual = outputs.AsSpan(row * 5, 5).ToArray();
            if (row == 20)
            {
                Assert.Contains(actual, value => !float.IsFinite(value));
            }
            else
            {
                Assert.Equal(clean.AsSpan(row * 5, 5).ToArray(), actual);
            }
        }
    }

    [Fact]
    public void A_data_set_with_a_non_finite_input_is_refused_before_it_takes_device_memory()
    {
        float[] inputs = new float[5 * 7];
        inputs[(4 * 7) + 2] = float.NegativeInfinity;
        var error = Assert.Throws<NonFiniteValueException>(() => DeviceDataSet.ForClassification(fixture.Simulator, inputs, new int[5], inputSize: 7, classes: 5));
        Assert.Equal((4, 2), (error.Row, error.Column));
    }

    private static void Step(NetA model, NetA twin, Optimizer optimizer, Optimizer twinOptimizer, Random random)
    {
        (float[] inputs, int[] labels) = Batch7(random);
        model.TrainStep(inputs, labels, optimizer);
        twin.TrainStep(inputs, labels, twinOptimizer);
    }

    /// <summary>The twin's parameters, gradients, step count and last loss; then one more step on both gives the same parameters (so Adam's moments are the twin's).</summary>
    private static void AssertUnchangedThenStepsAlike(NetA model, NetA twin, Optimizer optimizer, Optimizer twinOptimizer, Random random)
    {
        Assert.Equal(twin.Parameters.ToArray(), model.Parameters.ToArray());
        Assert.Equal(twin.Gradients.ToArray(), model.Gradients.ToArray());
        Assert.Equal(twinOptimizer.StepCount, optimizer.StepCount);
        Assert.Equal(twin.LastLoss, model.LastLoss);
        Step(model, twin, optimizer, twinOptimizer, random);
        Assert.Equal(twin.Parameters.ToArray(), model.Parameters.ToArray());
    }

    /// <summary>A batch for <see cref="LinearRegressor"/>: inputs (Batch, 4), targets (Batch, 2).</summary>
    private static (float[] Inputs, float[] Targets) Regression(Random random)
        => (Enumerable.Range(0, Batch * 4).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray(), Enumerable.Range(0, Batch * 2).Select(_ => (float)random.NextDouble()).ToArray());

    private static (float[] Inputs, int[] Labels) Batch7(Random random)
        => (Enumerable.Range(0, Batch * 7).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray(), Enumerable.Range(0, Batch).Select(_ => random.Next(5)).ToArray());
}
