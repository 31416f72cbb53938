using Dsl;
using Xunit;
using Dsl.Training;

namespace Dsl.Tests.Networks;

/// <summary>The generated API: shapes and sizes, deterministic initialisation, and input checks that leave state untouched.</summary>
public sealed class GeneratedNetworkTests
{
    [Fact]
    public void Sizes_and_shapes_come_from_the_declaration()
    {
        using Device device = Device.Cpu(1);
        var model = new Mnist1dMlp(device);
        Assert.Equal((40 * 100) + 100 + (100 * 100) + 100 + (100 * 10) + 10, model.ParameterCount);
        Assert.Equal(15210, model.Parameters.Length);
        Assert.Equal(40, model.InputSize);
        Assert.Equal(10, model.OutputSize);
        Assert.Equal([40], model.InputShape.ToArray());
        Assert.Equal([10], model.OutputShape.ToArray());
        Assert.Equal(["Hidden1", "Hidden2", "Logits"], model.Layers.Select(l => l.Name));
        Assert.Same(model.Layers[1], model.Hidden2);
        Assert.Equal(100, model.Hidden2.FanIn);
        Assert.Equal(100 * 100, model.Hidden2.Weight.Length);
        Assert.Equal(100, model.Hidden2.Bias.Length);
        Assert.Equal(Activation.Relu, model.Hidden2.Activation);
        Assert.Equal(0, new NetB(device).Logits.Bias.Length);
    }

    [Fact]
    public void Layer_views_alias_the_parameter_buffer()
    {
        using Device device = Device.Cpu(1);
        var model = new NetA(device);
        model.Second.Weight[3] = 42f;
        Assert.Equal(42f, model.Parameters[model.Second.WeightOffset + 3]);
        model.Parameters[model.Logits.BiasOffset] = -1f;
        Assert.Equal(-1f, model.Logits.Bias[0]);
    }

    [Fact]
    public void Same_seed_gives_the_same_parameters_and_another_seed_does_not()
    {
        using Device device = Device.Cpu(1);
        float[] first = new Mnist1dMlp(device, seed: 5).Parameters.ToArray();
        float[] again = new Mnist1dMlp(device, seed: 5).Parameters.ToArray();
        float[] other = new Mnist1dMlp(device, seed: 6).Parameters.ToArray();
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);

        var reset = new Mnist1dMlp(device, seed: 6);
        reset.ResetParameters(5);
        Assert.Equal(first, reset.Parameters.ToArray());
    }

    [Fact]
    public void Predict_is_independent_of_batch_composition_and_threads()
    {
        var random = new Random(3);
        float[] x = Enumerable.Range(0, 33 * 40).Select(_ => (float)random.NextDouble()).ToArray();
        using Device one = Device.Cpu(1);
        using Device two = Device.Cpu(2);
        var serial = new Mnist1dMlp(one, seed: 1);
        var parallel = new Mnist1dMlp(two, seed: 1);
        var all = new float[33 * 10];
        var allParallel = new float[33 * 10];
        serial.Predict(x, all);
        parallel.Predict(x, allParallel);
        Assert.Equal(all, allParallel);

        var single = new float[10];
        serial.Predict(x.AsSpan(32 * 40, 40), single);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(all[(32 * 10) + i], single[i], 1e-5f);
        }
    }

    [Fact]
    public void Wrong_input_length_is_a_shape_error_naming_both_sizes()
    {
        using Device device = Device.Cpu(1);
        var model = new Mnist1dMlp(device);
        var error = Assert.Throws<ShapeMismatchException>(() => model.Predict(new float[41], new float[10]));
        Assert.Equal("inputs", error.ParamName);
        Assert.Contains("40", error.Expected, StringComparison.Ordinal);
        Assert.Contains("41", error.Actual, StringComparison.Ordinal);

        Assert.Throws<ShapeMismatchException>(() => model.Predict(new float[80], new float[10]));
        Assert.Throws<EmptyBatchException>(() => model.Predict([], []));
    }

    [Fact]
    public void Bad_training_input_throws_before_anything_changes()
    {
        using Device device = Device.Cpu(1);
        var model = new Mnist1dMlp(device, seed: 2);
        var optimizer = new Adam(1e-2f);
        var x = new float[3 * 40];
        x.AsSpan().Fill(0.5f);
        model.TrainStep(x, [1, 2, 3], optimizer);
        float[] parameters = model.Parameters.ToArray();
        float[] gradients = model.Gradients.ToArray();
        long steps = optimizer.StepCount;

        var label = Assert.Throws<LabelOutOfRangeException>(() => model.TrainStep(x, [1, 10, 3], optimizer));
        Assert.Equal(1, label.Index);
        Assert.Equal(10, label.Label);
        Assert.Equal(10, label.Classes);
        Assert.Throws<LabelOutOfRangeException>(() => model.TrainStep(x, [-1, 0, 0], optimizer));
        Assert.Throws<ShapeMismatchException>(() => model.TrainStep(x, [1, 2], optimizer));
        Assert.Throws<ShapeMismatchException>(() => model.TrainStep(new float[119], [1, 2, 3], optimizer));
        Assert.Throws<EmptyBatchException>(() => model.TrainStep([], [], optimizer));
        Assert.Throws<ArgumentNullException>(() => model.TrainStep(x, [1, 2, 3], null!));
        Assert.Throws<LabelOutOfRangeException>(() => model.ComputeGradients(x, [0, 0, 99]));

        // An optimizer bound to another network's buffer is refused before the forward pass.
        var other = new NetA(device);
        var otherOptimizer = new Adam(1e-2f);
        other.TrainStep(new float[7], [0], otherOptimizer);
        Assert.Throws<InvalidOperationException>(() => model.TrainStep(x, [1, 2, 3], otherOptimizer));

        Assert.Equal(parameters, model.Parameters.ToArray());
        Assert.Equal(gradients, model.Gradients.ToArray());
        Assert.Equal(steps, optimizer.StepCount);
    }

    [Fact]
    public void Regression_targets_must_match_the_output_shape()
    {
        using Device device = Device.Cpu(1);
        var model = new NetC(device);
        var error = Assert.Throws<ShapeMismatchException>(() => model.TrainStep(new float[10], new float[5], new Sgd(0.1f)));
        Assert.Equal("targets", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Evaluate(new float[10], new float[6], batchSize: 0));
        Assert.True(double.IsNaN(model.Evaluate(new float[10], new float[6]).Accuracy));
    }

    [Fact]
    public void Evaluate_in_chunks_equals_one_pass()
    {
        using Device device = Device.Cpu(1);
        var model = new NetA(device, seed: 3);
        var random = new Random(4);
        float[] x = Enumerable.Range(0, 101 * 7).Select(_ => (float)random.NextDouble()).ToArray();
        int[] y = Enumerable.Range(0, 101).Select(_ => random.Next(5)).ToArray();
        Evaluation whole = model.Evaluate(x, y, batchSize: 1000);
        Evaluation chunked = model.Evaluate(x, y, batchSize: 17);
        Assert.Equal(101, whole.Count);
        Assert.Equal(whole.Accuracy, chunked.Accuracy);
        Assert.Equal(whole.Loss, chunked.Loss, 1e-6);
        Assert.Equal(whole.Loss, (double)model.ComputeGradients(x, y), 1e-5);
    }

    [Fact]
    public void Training_reduces_the_loss_on_a_fixed_batch()
    {
        using Device device = Device.Cpu(1);
        var model = new InitZoo(device, seed: 9);
        var random = new Random(5);
        float[] x = Enumerable.Range(0, 20 * 13).Select(_ => (float)random.NextDouble()).ToArray();
        float[] t = Enumerable.Range(0, 20 * 4).Select(_ => (float)random.NextDouble()).ToArray();
        var optimizer = new Adam(1e-2f);
        float first = model.TrainStep(x, t, optimizer);
        float last = first;
        for (int i = 0; i < 300; i++)
        {
            last = model.TrainStep(x, t, optimizer);
        }

        Assert.True(last < first * 0.5f, $"loss {first} -> {last}");
    }
}
