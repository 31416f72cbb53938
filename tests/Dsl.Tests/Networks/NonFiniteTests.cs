using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// NaN and infinity never reach the parameters (CPU backend, one thread and two, where a step splits its batch):
/// a step with a non-finite input or target, a non-finite loss or (on the CPU) a non-finite gradient throws its
/// typed exception, and the parameters, the gradients (but for a non-finite gradient), the optimizer's state and its
/// step count are as a twin network's that never saw the bad batch, which the next step proves bit for bit.
/// </summary>
public sealed class NonFiniteTests
{
    private const int Batch = 40; // two slices of 20 rows on two threads

    public static TheoryData<int> Threads => [1, 2];

    [Theory]
    [MemberData(nameof(Threads))]
    public void A_non_finite_input_is_refused_by_row_and_column_and_changes_nothing(int threads)
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            using var device = Device.Cpu(threads);
            var pair = TrainedPair(device, (d, seed) => new NetA(d, seed));
            (float[] inputs, int[] labels) = Batch7(new Random(3));
            inputs[(13 * 7) + 5] = bad;

            var error = Assert.Throws<NonFiniteValueException>(() => ((IClassifierNetwork)pair.Model).TrainStep(inputs, labels, pair.Optimizer));
            Assert.Equal(("inputs", 13, 5), (error.ParamName, error.Row, error.Column));
            Assert.Equal(bad, error.Value);
            pair.AssertUnchangedThenStepsAlike(Batch7(new Random(4)));

            Assert.Throws<NonFiniteValueException>(() => ((IClassifierNetwork)pair.Model).ComputeGradients(inputs, labels));
            Assert.Throws<NonFiniteValueException>(() => ((IClassifierNetwork)pair.Model).Evaluate(inputs, labels));
        }
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void A_non_finite_regression_target_is_refused_by_row_and_column(int threads)
    {
        using var device = Device.Cpu(threads);
        using var model = new NetC(device, 3);
        var optimizer = new Adam(0.01f);
        var random = new Random(5);
        float[] inputs = Floats(random, Batch * 5);
        float[] targets = Floats(random, Batch * 3);
        targets[(31 * 3) + 2] = float.NegativeInfinity;
        float[] before = model.Parameters.ToArray();

        var error = Assert.Throws<NonFiniteValueException>(() => model.TrainStep(inputs, targets, optimizer));
        Assert.Equal(("targets", 31, 2, float.NegativeInfinity), (error.ParamName, error.Row, error.Column, error.Value));
        Assert.Equal(before, model.Parameters.ToArray());
        Assert.Equal(0, optimizer.StepCount);
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void A_loss_that_overflows_is_refused_before_the_backward_pass(int threads)
    {
        using var device = Device.Cpu(threads);
        NonFiniteScenarios.OverflowingLossChangesNothing(() => new LinearRegressor(device, 1));
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void A_gradient_that_overflows_is_refused_before_the_update(int threads)
    {
        using var device = Device.Cpu(threads);
        var pair = TrainedPair(device, (d, seed) => new ZeroFirstLayer(d, seed), inputWidth: 3, classes: 3, warmSteps: 0);
        foreach (ZeroFirstLayer network in new[] { (ZeroFirstLayer)pair.Model, (ZeroFirstLayer)pair.Twin })
        {
            network.Logits.Weight.Fill(1e30f);
        }

        var random = new Random(8);
        float[] inputs = new float[Batch * 3];
        Array.Fill(inputs, 1e30f);
        int[] labels = Labels(random, Batch, 3);

        var error = Assert.Throws<NonFiniteGradientException>(() => ((IClassifierNetwork)pair.Model).TrainStep(inputs, labels, pair.Optimizer));
        Assert.Equal(("Hidden", "Weight"), (error.Layer, error.Parameter));
        Assert.False(float.IsFinite(error.Value));
        Assert.Contains(pair.Model.Gradients.ToArray(), g => !float.IsFinite(g)); // what the backward pass computed
        pair.AssertUnchangedThenStepsAlike((Floats(random, Batch * 3), Labels(random, Batch, 3)), compareGradients: false);
    }

    [Fact]
    public void Predict_gives_a_row_with_a_NaN_input_non_finite_outputs_and_leaves_the_other_rows_alone()
    {
        using var device = Device.Cpu(1);
        using var model = new NetA(device, 9);
        NonFiniteScenarios.PredictRowsAreIndependent(model, badRow: 17, badColumn: 3, float.NaN);
    }

    [Fact]
    public void A_data_set_with_a_non_finite_value_is_refused_when_it_is_created()
    {
        using var device = Device.Cpu(1);
        float[] inputs = new float[10 * 4];
        inputs[(6 * 4) + 1] = float.PositiveInfinity;
        var error = Assert.Throws<NonFiniteValueException>(() => DeviceDataSet.ForClassification(device, inputs, new int[10], inputSize: 4, classes: 3));
        Assert.Equal(("inputs", 6, 1), (error.ParamName, error.Row, error.Column));

        float[] targets = new float[10 * 2];
        targets[(9 * 2) + 1] = float.NaN;
        error = Assert.Throws<NonFiniteValueException>(() => DeviceDataSet.ForRegression(device, new float[10 * 4], targets, inputSize: 4, outputSize: 2));
        Assert.Equal(("targets", 9, 1), (error.ParamName, error.Row, error.Column));
    }

    [Fact]
    public void The_first_non_finite_value_is_found_at_every_position_of_odd_lengths()
    {
        var random = new Random(11);
        foreach (int length in new[] { 0, 1, 7, 31, 32, 33, 100, 1023 })
        {
            float[] values = Floats(random, length);
            Assert.Equal(-1, FiniteChecks.IndexOfNonFinite(values));
            for (int at = 0; at < length; at++)
            {
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    float[] copy = (float[])values.Clone();
                    copy[at] = bad;
                    if (at + 1 < length)
                    {
                        copy[length - 1] = float.NaN; // a later one must not be reported first
                    }

                    Assert.Equal(at, FiniteChecks.IndexOfNonFinite(copy));
                }
            }
        }

        Assert.Equal(-1, FiniteChecks.IndexOfNonFinite([float.MaxValue, -float.MaxValue, float.Epsilon, -0f]));
    }

    /// <summary>Two identical networks with identical Adam optimizers, a few identical steps in.</summary>
    private static TwinNetworks TrainedPair(Device device, Func<Device, ulong, INetwork> create, int inputWidth = 7, int classes = 5, int warmSteps = 2)
    {
        var pair = new TwinNetworks(create(device, 1), create(device, 1), new Adam(0.01f), new Adam(0.01f));
        var random = new Random(2);
        for (int step = 0; step < warmSteps; step++)
        {
            float[] inputs = Floats(random, Batch * inputWidth);
            int[] labels = Labels(random, Batch, classes);
            ((IClassifierNetwork)pair.Model).TrainStep(inputs, labels, pair.Optimizer);
            ((IClassifierNetwork)pair.Twin).TrainStep(inputs, labels, pair.TwinOptimizer);
        }

        return pair;
    }

    private static (float[] Inputs, int[] Labels) Batch7(Random random) => (Floats(random, Batch * 7), Labels(random, Batch, 5));


    private static float[] Floats(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();

    private static int[] Labels(Random random, int count, int classes) => Enumerable.Range(0, count).Select(_ => random.Next(classes)).ToArray();

    /// <summary>A network that is offered a bad batch, and its twin that is not.</summary>
    private sealed record TwinNetworks(INetwork Model, INetwork Twin, Optimizer Optimizer, Optimizer TwinOptimizer)
    {
        /// <summary>Same parameters, gradients, step count and last loss as the twin; then one more step on both lands them on the same parameters.</summary>
        public void AssertUnchangedThenStepsAlike((float[] Inputs, int[] Labels) next, bool compareGradients = true)
        {
            Assert.Equal(Twin.Parameters.ToArray(), Model.Parameters.ToArray());
            if (compareGradients)
            {
                Assert.Equal(Twin.Gradients.ToArray(), Model.Gradients.ToArray());
            }

            Assert.Equal(TwinOptimizer.StepCount, Optimizer.StepCount);
            Assert.Equal(Twin.LastLoss, Model.LastLoss);

            // Adam's moments are the twin's if the same step from the same parameters gives the same parameters.
            ((IClassifierNetwork)Model).TrainStep(next.Inputs, next.Labels, Optimizer);
            ((IClassifierNetwork)Twin).TrainStep(next.Inputs, next.Labels, TwinOptimizer);
            Assert.Equal(Twin.Parameters.ToArray(), Model.Parameters.ToArray());
        }
    }
}
