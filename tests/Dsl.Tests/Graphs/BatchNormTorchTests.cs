using System.Text.Json;
using Dsl.Graphs;
using Dsl.Ops;
using Dsl.Training;
using Xunit;
using Xunit.Abstractions;
using static Dsl.Tests.Graphs.TorchGraphFixture;

namespace Dsl.Tests.Graphs;

/// <summary>
/// Batch normalisation against PyTorch 1.13 (tests/fixtures/torch/batchnorm.json, made by make_batchnorm_fixtures.py):
/// the op alone as nn.BatchNorm1d(13) on (19, 13), with and without affine parameters (training forward and backward,
/// the running statistics after one and after three training forwards, the evaluation forward by them), and the
/// network "bn_mlp" (Linear 7->12, BatchNorm1d(12), ReLU, Linear 12->5, cross-entropy, batch 23) built with
/// <see cref="GraphBuilder"/>: training-mode logits, loss, every gradient and the running statistics, three SGD steps
/// and one Adam step with the parameters and running statistics after each, and the evaluation-mode logits and loss
/// after them.
/// Tolerances as in <see cref="Ops.NormalizationTorchTests"/> for the op (2e-5 relative to the larger of 1 and the
/// value) and as in <see cref="GraphTorchFixtureTests"/> for the network (1e-5 relative to the largest magnitude of
/// each tensor, against PyTorch's float32 values and, for the logits, loss and gradients, its float64 ones).
/// </summary>
public sealed class BatchNormTorchTests(ITestOutputHelper output)
{
    private const double Relative = 1e-5;

    public static TheoryData<string> OpCases => ["bn", "bn_no_affine"];

    public static TheoryData<int> Threads => [1, 2];

    public static TheoryData<string, int> OptimizerCases => new()
    {
        { "sgd", 1 },
        { "sgd", 2 },
        { "adam", 1 },
        { "adam", 2 },
    };

    // ---------------------------------------------------------------- the op alone

    [Theory]
    [MemberData(nameof(OpCases))]
    public void The_op_matches_PyTorch_in_training_and_evaluation(string name)
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty("ops").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        int rows = fixture.GetProperty("rows").GetInt32();
        int features = fixture.GetProperty("features").GetInt32();
        float epsilon = (float)fixture.GetProperty("eps").GetDouble();
        float momentum = (float)fixture.GetProperty("momentum").GetDouble();
        bool affine = fixture.GetProperty("affine").GetBoolean();
        float[]? gain = affine ? Floats(fixture.GetProperty("gain")) : null;
        float[]? bias = affine ? Floats(fixture.GetProperty("bias")) : null;
        float[] x = Floats(fixture.GetProperty("x"));

        // BatchNorm1d starts from running mean 0 and variance 1.
        float[] runningMean = new float[features], runningVariance = Enumerable.Repeat(1f, features).ToArray();
        float[] mean = new float[features], variance = new float[features], rstd = new float[features];
        var y = new float[rows * features];
        BatchNorm.ForwardTraining(y, mean, variance, rstd, x, gain, bias, rows, features, epsilon);
        BatchNorm.UpdateRunningStatistics(runningMean, runningVariance, mean, variance, rows, features, momentum);
        OpClose(Floats(fixture.GetProperty("y")), y, $"{name} y");
        OpClose(Floats(fixture.GetProperty("running_mean")), runningMean, $"{name} running mean");
        OpClose(Floats(fixture.GetProperty("running_var")), runningVariance, $"{name} running variance");

        var dx = new float[rows * features];
        float[] dGain = new float[gain?.Length ?? 0], dBias = new float[bias?.Length ?? 0];
        BatchNorm.Backward(dx, dGain, dBias, Floats(fixture.GetProperty("dy")), x, mean, rstd, gain, rows, features, accumulate: false);
        OpClose(Floats(fixture.GetProperty("dx")), dx, $"{name} dx");
        if (affine)
        {
            OpClose(Floats(fixture.GetProperty("dgain")), dGain, $"{name} dgain");
            OpClose(Floats(fixture.GetProperty("dbias")), dBias, $"{name} dbias");
        }

        foreach (string next in new[] { "x2", "x3" })
        {
            BatchNorm.ForwardTraining(y, mean, variance, rstd, Floats(fixture.GetProperty(next)), gain, bias, rows, features, epsilon);
            BatchNorm.UpdateRunningStatistics(runningMean, runningVariance, mean, variance, rows, features, momentum);
        }

        OpClose(Floats(fixture.GetProperty("running_mean_3")), runningMean, $"{name} running mean after 3");
        OpClose(Floats(fixture.GetProperty("running_var_3")), runningVariance, $"{name} running variance after 3");

        BatchNorm.ForwardEvaluation(y, Floats(fixture.GetProperty("x_eval")), runningMean, runningVariance, gain, bias, new float[2 * features], rows, features, epsilon);
        OpClose(Floats(fixture.GetProperty("y_eval")), y, $"{name} y_eval");
    }

    // ---------------------------------------------------------------- the network

    [Theory]
    [MemberData(nameof(Threads))]
    public void Logits_loss_gradients_and_running_statistics_match_pytorch(int threads)
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty("network");
        using Device device = Device.Cpu(threads);
        GraphNetwork network = Create(device, fixture);
        Layer norm = Find(network, "Norm");
        float[] x = Floats(fixture.GetProperty("x"));
        int[] labels = Ints(fixture.GetProperty("labels"));
        int batch = fixture.GetProperty("batch").GetInt32();
        Assert.False(network.SplitsBatchAcrossThreads);

        // The training-mode logits: evaluation by running statistics set to the batch's mean and biased variance
        // normalises exactly as training does. Predict does not train: the statistics stay as they were set.
        var logits = new float[batch * network.OutputSize];
        Floats(fixture.GetProperty("batch_mean")).CopyTo(norm.RunningMean);
        Floats(fixture.GetProperty("batch_var")).CopyTo(norm.RunningVariance);
        network.Predict(x, logits);
        Check(Floats(fixture.GetProperty("logits")), logits, "logits (train mode)");
        Check(Floats(fixture.GetProperty("logits_f64")), logits, "logits (train mode) vs float64");
        Assert.Equal(Floats(fixture.GetProperty("batch_var")), norm.RunningVariance.ToArray());
        norm.RunningMean.Clear();
        norm.RunningVariance.Fill(1f);

        float loss = network.ComputeGradients(x, labels);
        Check([(float)fixture.GetProperty("loss_value").GetDouble()], [loss], "loss");
        Check([(float)fixture.GetProperty("loss_value_f64").GetDouble()], [loss], "loss vs float64");
        Assert.Equal(loss, network.LastLoss);
        double largest = network.Gradients.ToArray().Max(g => Math.Abs(g));
        foreach ((string suffix, string property) in new[] { ("", "grads"), (" vs float64", "grads_f64") })
        {
            foreach (JsonElement tensor in fixture.GetProperty(property).EnumerateArray())
            {
                Layer layer = Find(network, tensor.GetProperty("path").GetString()!);
                ReadOnlySpan<float> gradient = tensor.GetProperty("name").GetString() == "bias" ? layer.BiasGradient : layer.WeightGradient;
                if (Describe(tensor) == "Hidden.bias")
                {
                    // The batch norm subtracts the batch mean, so the bias before it has gradient 0 in exact arithmetic:
                    // both sides hold float32 rounding residue only (PyTorch's up to 7e-9), far below a real gradient.
                    CheckResidue(Floats(tensor.GetProperty("values")), largest, $"PyTorch d{Describe(tensor)}{suffix}");
                    CheckResidue(gradient.ToArray(), largest, $"d{Describe(tensor)}");
                    continue;
                }

                Check(Floats(tensor.GetProperty("values")), gradient.ToArray(), $"d{Describe(tensor)}{suffix}");
            }
        }

        Assert.Equal(Concatenate(fixture.GetProperty("grads")).Length, network.Gradients.Length);
        CheckRunning(fixture, norm, "after the training forward");

        // Evaluation reads the running statistics (now 0.9 * (0, 1) + 0.1 * the batch's), not the batch's: another loss.
        Evaluation evaluation = network.Evaluate(x, labels);
        Assert.True(Math.Abs(evaluation.Loss - loss) > 1e-3, $"evaluation loss {evaluation.Loss} equals the training loss {loss}");
        CheckRunning(fixture, norm, "after Evaluate");
    }

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void Parameters_running_statistics_and_evaluation_after_optimizer_steps_match_pytorch(string optimizerName, int threads)
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty("network");
        JsonElement run = fixture.GetProperty(optimizerName);
        using Device device = Device.Cpu(threads);
        GraphNetwork network = Create(device, fixture);
        Layer norm = Find(network, "Norm");
        float[] x = Floats(fixture.GetProperty("x"));
        int[] labels = Ints(fixture.GetProperty("labels"));
        int batch = fixture.GetProperty("batch").GetInt32();
        Optimizer optimizer = optimizerName == "sgd"
            ? new Sgd((float)run.GetProperty("lr").GetDouble(), (float)run.GetProperty("momentum").GetDouble())
            : new Adam((float)run.GetProperty("lr").GetDouble(), (float)run.GetProperty("betas")[0].GetDouble(), (float)run.GetProperty("betas")[1].GetDouble(), (float)run.GetProperty("eps").GetDouble());
        float[] initial = network.Parameters.ToArray();

        JsonElement[] steps = run.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(optimizerName == "sgd" ? 3 : 1, steps.Length);
        for (int step = 0; step < steps.Length; step++)
        {
            string what = $"{optimizerName} step {step + 1}";
            float loss;
            if (optimizerName == "sgd")
            {
                // SGD moves the hidden bias by lr times its rounding residue (~1e-10): TrainStep as it is.
                loss = network.TrainStep(x, labels, optimizer);
            }
            else
            {
                // Adam would blow that residue up to a step of up to lr (the fixture zeroes PyTorch's): what TrainStep
                // does (gradients, checks, running statistics), then the hidden bias's residue zeroed, then the update.
                loss = network.ComputeGradients(x, labels);
                float[] gradients = network.Gradients.ToArray();
                Layer hidden = Find(network, "Hidden");
                CheckResidue(hidden.BiasGradient.ToArray(), gradients.Max(g => Math.Abs(g)), $"{what} dHidden.bias");
                Array.Clear(gradients, hidden.BiasOffset, hidden.Units);
                optimizer.Step(network.Parameters, gradients);
            }

            Check([(float)steps[step].GetProperty("loss_before").GetDouble()], [loss], $"{what} loss");
            foreach (JsonElement tensor in steps[step].GetProperty("params").EnumerateArray())
            {
                Layer layer = Find(network, tensor.GetProperty("path").GetString()!);
                Span<float> values = tensor.GetProperty("name").GetString() switch
                {
                    "weight" => layer.Weight,
                    "gain" => layer.Gain,
                    _ => layer.Bias,
                };
                Check(Floats(tensor.GetProperty("values")), values.ToArray(), $"{what} {Describe(tensor)}");
            }

            Check(Concatenate(steps[step].GetProperty("params")), network.Parameters.ToArray(), $"{what} parameter buffer");
            Assert.Equal(step + 1, optimizer.StepCount);
            CheckRunning(steps[step], norm, what);
        }

        var logits = new float[batch * network.OutputSize];
        network.Predict(x, logits);
        Check(Floats(run.GetProperty("eval_logits")), logits, $"{optimizerName} eval logits");
        Check([(float)run.GetProperty("eval_loss").GetDouble()], [(float)network.Evaluate(x, labels).Loss], $"{optimizerName} eval loss");
        Check([(float)run.GetProperty("eval_loss").GetDouble()], [(float)network.Evaluate(x, labels, batchSize: 4).Loss], $"{optimizerName} eval loss in chunks of 4");

        // Predict and Evaluate did not move the running statistics.
        CheckRunning(steps[^1], norm, $"{optimizerName} after Predict and Evaluate");
        float[] final = network.Parameters.ToArray();
        foreach (Layer layer in network.Layers.Where(l => l.ParameterCount > 0))
        {
            Assert.True(Enumerable.Range(layer.WeightOffset, layer.WeightLength).Any(i => final[i] != initial[i]), $"{layer.Name} weight did not move");
        }
    }

    [Fact]
    public void Layer_paths_parameter_layout_and_state_match_the_fixture()
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty("network");
        using Device device = Device.Cpu(1);
        GraphNetwork network = Create(device, fixture);

        int offset = 0;
        foreach (Layer layer in network.Layers)
        {
            if (layer.WeightLength > 0)
            {
                Assert.Equal(offset, layer.WeightOffset);
                offset += layer.WeightLength;
            }

            if (layer.HasBias)
            {
                Assert.Equal(offset, layer.BiasOffset);
                offset += layer.Units;
            }
        }

        Assert.Equal(network.ParameterCount, offset);
        Assert.Equal(Concatenate(fixture.GetProperty("params")), network.Parameters.ToArray());

        Layer norm = Find(network, "Norm");
        Assert.True(norm.Gain.SequenceEqual(norm.Weight));
        Assert.Contains(norm.Gain.ToArray(), g => Math.Abs(g - 1f) > 0.05f); // the fixture perturbed it away from 1
        Assert.Equal(0, norm.StateOffset);
        Assert.Equal(2 * 12, network.State.Length);
        Assert.All(network.Layers.Where(l => l.Kind != LayerKind.BatchNorm), l => Assert.True(l.RunningMean.IsEmpty && l.RunningVariance.IsEmpty && l.StateOffset == -1));
        Assert.Equal(new float[12], norm.RunningMean.ToArray());
        Assert.Equal(Enumerable.Repeat(1f, 12).ToArray(), norm.RunningVariance.ToArray());

        // The views are the state buffer: mean first, then variance.
        norm.RunningVariance[3] = 7f;
        Assert.Equal(7f, network.State[12 + 3]);
    }

    /// <summary>
    /// Builds bn_mlp with <see cref="GraphBuilder"/>, checks its layers against the fixture's, and loads the fixture's
    /// initial parameters through the layers' Weight/Gain/Bias views over a NaN-filled buffer.
    /// </summary>
    private static GraphNetwork Create(Device device, JsonElement fixture)
    {
        var b = new GraphBuilder("BnMlp", [7]);
        b.Dense("Hidden", 12, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        b.BatchNorm("Norm", (float)fixture.GetProperty("eps").GetDouble(), (float)fixture.GetProperty("momentum").GetDouble(), affine: true);
        b.Activation("Act", Activation.Relu, 0f, new Dsl.Ops.Relu());
        b.Dense("Logits", 5, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        GraphNetwork network = b.Build(device, Loss.SoftmaxCrossEntropy, 7, (7 * 12 + 12) + (2 * 12) + (12 * 5 + 5));

        TorchGraphFixture.LoadParameters(network, fixture);
        return network;
    }

    private void CheckRunning(JsonElement expected, Layer norm, string what)
    {
        Check(Floats(expected.GetProperty("running_mean")), norm.RunningMean.ToArray(), $"running mean {what}");
        Check(Floats(expected.GetProperty("running_var")), norm.RunningVariance.ToArray(), $"running variance {what}");
    }

    /// <summary>A gradient that is 0 in exact arithmetic: every entry within 1e-6 of the network's largest gradient magnitude.</summary>
    private void CheckResidue(float[] values, double largest, string what)
    {
        Assert.True(largest > 1e-2, $"{what}: the network's gradients are all ~0 ({largest})");
        double worst = values.Max(v => Math.Abs((double)v));
        Assert.True(worst <= 1e-6 * largest, $"{what}: {worst:E2}, not rounding residue of gradients up to {largest:G4}");
        output.WriteLine($"{what}: rounding residue up to {worst:E2} (largest gradient {largest:G4})");
    }

    /// <summary>Within <see cref="Relative"/> times the largest magnitude of the expected tensor.</summary>
    private void Check(float[] expected, float[] actual, string what) => TorchGraphFixture.Check(output, Relative, expected, actual, what);

    /// <summary>Within 2e-5 relative to the larger of 1 and the value, as the LayerNorm and RMSNorm fixtures.</summary>
    private void OpClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]);
            worst = Math.Max(worst, error / Math.Max(1, Math.Abs(expected[i])));
            Assert.True(error <= 2e-5 * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: PyTorch {expected[i]}, ours {actual[i]}");
        }

        output.WriteLine($"{what}: max relative error {worst:E2}");
    }

    private static JsonDocument Load()
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", "batchnorm.json")));
}
