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
        => NonFiniteScenarios.OverflowingLossChangesNothing(
            () => FusedSequence.With(fused, () => new LinearRegressor(fixture.Simulator, 2)),
            (inputs, targets) => DeviceDataSet.ForRegression(fixture.Simulator, inputs, targets, inputSize: 4, outputSize: 2));

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Predict_gives_a_row_with_a_non_finite_input_non_finite_outputs_and_leaves_the_other_rows_alone(string fused)
    {
        using NetA model = FusedSequence.With(fused, () => new NetA(fixture.Simulator, 3));
        NonFiniteScenarios.PredictRowsAreIndependent(model, badRow: 20, badColumn: 1, float.PositiveInfinity);
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

    private static (float[] Inputs, int[] Labels) Batch7(Random random)
        => (Enumerable.Range(0, Batch * 7).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray(), Enumerable.Range(0, Batch).Select(_ => random.Next(5)).ToArray());
}
