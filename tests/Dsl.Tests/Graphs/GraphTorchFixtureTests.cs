using System.Text.Json;
using Dsl.Graphs;
using Dsl.Training;
using Xunit;
using Xunit.Abstractions;
using static Dsl.Tests.Graphs.TorchGraphFixture;

namespace Dsl.Tests.Graphs;

/// <summary>
/// Graph networks (blocks, residual adds, LayerNorm, a standalone GELU) against PyTorch 1.13
/// (tests/fixtures/torch/graphs.json, made by make_graph_fixtures.py): the logits, the loss and every parameter's
/// gradient from the fixture's initial parameters, and the parameters and losses over two steps of SGD with momentum
/// and of Adam. Two cases: the MNIST-1D residual MLP at odd sizes (batch 11) and a two-block pre-norm residual stack
/// (batch 37, which a 4-thread device splits into two slices).
/// Tolerance, as in <see cref="Networks.TorchFixtureTests"/>: 1e-5 relative to the largest magnitude of each tensor,
/// against PyTorch's float32 values and, for the logits, loss and gradients, its float64 ones too (PyTorch's own
/// float32 results sit within 3e-7 of its float64 ones on these cases).
/// </summary>
public sealed class GraphTorchFixtureTests(ITestOutputHelper output)
{
    private const double Relative = 1e-5;

    public static TheoryData<string, int> Cases => new()
    {
        { "residual_mlp", 1 },
        { "residual_mlp", 4 },
        { "prenorm_residual", 1 },
        { "prenorm_residual", 4 },
    };

    public static TheoryData<string, string, int> OptimizerCases => new()
    {
        { "residual_mlp", "sgd", 1 },
        { "residual_mlp", "adam", 1 },
        { "residual_mlp", "sgd", 4 },
        { "residual_mlp", "adam", 4 },
        { "prenorm_residual", "sgd", 1 },
        { "prenorm_residual", "adam", 1 },
        { "prenorm_residual", "sgd", 4 },
        { "prenorm_residual", "adam", 4 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_loss_and_gradients_match_pytorch(string name, int threads)
    {
        using JsonDocument json = Load();
        JsonElement fixture = Case(json, name);
        using Device device = Device.Cpu(threads);
        GraphNetwork network = Create(name, device, fixture);
        float[] x = Floats(fixture.GetProperty("x"));
        int[] labels = Ints(fixture.GetProperty("labels"));
        int batch = fixture.GetProperty("batch").GetInt32();
        // Four threads split the pre-norm batch (37 rows) into two slices and thread the GEMMs of the residual MLP's (11 rows).
        Assert.True(network.SplitsBatchAcrossThreads);
        Assert.Equal(name == "prenorm_residual" && threads > 1 ? 2 : 1, Dsl.Cpu.BatchSplit.SliceCount(batch, device.Workers));

        var logits = new float[batch * network.OutputSize];
        network.Predict(x, logits);
        Check(Floats(fixture.GetProperty("logits")), logits, $"{name} logits");
        Check(Floats(fixture.GetProperty("logits_f64")), logits, $"{name} logits vs float64");

        float loss = network.ComputeGradients(x, labels);
        Check([(float)fixture.GetProperty("loss_value").GetDouble()], [loss], $"{name} loss");
        Check([(float)fixture.GetProperty("loss_value_f64").GetDouble()], [loss], $"{name} loss vs float64");
        Assert.Equal(loss, network.LastLoss);

        // Every gradient through its layer's view, then the whole buffer in the fixture's order (our layout).
        foreach ((string suffix, string property) in new[] { ("", "grads"), (" vs float64", "grads_f64") })
        {
            foreach (JsonElement tensor in fixture.GetProperty(property).EnumerateArray())
            {
                Layer layer = Find(network, tensor.GetProperty("path").GetString()!);
                ReadOnlySpan<float> gradient = tensor.GetProperty("name").GetString() == "bias" ? layer.BiasGradient : layer.WeightGradient;
                Check(Floats(tensor.GetProperty("values")), gradient.ToArray(), $"{name} d{Describe(tensor)}{suffix}");
            }
        }

        Assert.Equal(Concatenate(fixture.GetProperty("grads")).Length, network.Gradients.Length);

        // The loss of the logits Predict gave equals the training loss: the graph has no dropout.
        Evaluation evaluation = network.Evaluate(x, labels);
        Assert.Equal(loss, evaluation.Loss, 5e-6);
    }

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void Parameters_after_optimizer_steps_match_pytorch(string name, string optimizerName, int threads)
    {
        using JsonDocument json = Load();
        JsonElement fixture = Case(json, name);
        JsonElement run = fixture.GetProperty(optimizerName);
        using Device device = Device.Cpu(threads);
        GraphNetwork network = Create(name, device, fixture);
        float[] x = Floats(fixture.GetProperty("x"));
        int[] labels = Ints(fixture.GetProperty("labels"));
        Optimizer optimizer = optimizerName == "sgd"
            ? new Sgd((float)run.GetProperty("lr").GetDouble(), (float)run.GetProperty("momentum").GetDouble())
            : new Adam((float)run.GetProperty("lr").GetDouble(), (float)run.GetProperty("betas")[0].GetDouble(), (float)run.GetProperty("betas")[1].GetDouble(), (float)run.GetProperty("eps").GetDouble());
        float[] initial = network.Parameters.ToArray();

        JsonElement[] steps = run.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(2, steps.Length);
        for (int step = 0; step < steps.Length; step++)
        {
            string what = $"{name} {optimizerName} step {step + 1}";
            float loss = network.TrainStep(x, labels, optimizer);
            Check([(float)steps[step].GetProperty("loss_before").GetDouble()], [loss], $"{what} loss");
            Assert.Equal(loss, network.LastLoss);
            foreach (JsonElement tensor in steps[step].GetProperty("params").EnumerateArray())
            {
                Layer layer = Find(network, tensor.GetProperty("path").GetString()!);
                Span<float> values = tensor.GetProperty("name").GetString() == "bias" ? layer.Bias : layer.Weight;
                Check(Floats(tensor.GetProperty("values")), values.ToArray(), $"{what} {Describe(tensor)}");
            }

            Check(Concatenate(steps[step].GetProperty("params")), network.Parameters.ToArray(), $"{what} parameter buffer");
            Check([(float)steps[step].GetProperty("loss_after").GetDouble()], [(float)network.Evaluate(x, labels).Loss], $"{what} loss after");
        }

        // The steps moved every parameter (all gradients of these cases are non-zero somewhere in each tensor).
        float[] final = network.Parameters.ToArray();
        foreach (Layer layer in network.Layers.Where(l => l.ParameterCount > 0))
        {
            Assert.True(Enumerable.Range(layer.WeightOffset, layer.WeightLength).Any(i => final[i] != initial[i]), $"{layer.Name} weight did not move");
        }
    }

    [Fact]
    public void Layer_paths_and_parameter_layout_match_the_fixture()
    {
        using JsonDocument json = Load();
        foreach (string name in new[] { "residual_mlp", "prenorm_residual" })
        {
            JsonElement fixture = Case(json, name);
            using Device device = Device.Cpu(1);
            GraphNetwork network = Create(name, device, fixture);

            // Layer by layer in run order, each layer's tensors contiguous: dense weight then bias, norm gain then bias.
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
            foreach (JsonElement tensor in fixture.GetProperty("params").EnumerateArray())
            {
                Layer layer = Find(network, tensor.GetProperty("path").GetString()!);
                int[] shape = Ints(tensor.GetProperty("shape"));
                switch (tensor.GetProperty("name").GetString())
                {
                    case "weight":
                        Assert.Equal(LayerKind.Dense, layer.Kind);
                        Assert.Equal([layer.Units, layer.FanIn], shape);
                        break;
                    case "gain":
                        Assert.Equal(LayerKind.LayerNorm, layer.Kind);
                        Assert.Equal([layer.Units], shape);
                        Assert.True(layer.Gain.SequenceEqual(layer.Weight));
                        Assert.Contains(layer.Gain.ToArray(), g => Math.Abs(g - 1f) > 0.05f); // the fixture perturbed it away from 1
                        break;
                    default:
                        Assert.Equal([layer.Units], shape);
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Builds the case's graph with <see cref="GraphBuilder"/>, checks its layers against the fixture's, and loads the
    /// fixture's initial parameters through the layers' Weight/Gain/Bias views (over a NaN-filled buffer, so a
    /// parameter the views miss poisons every result).
    /// </summary>
    private static GraphNetwork Create(string name, Device device, JsonElement fixture)
    {
        GraphNetwork network = name == "residual_mlp" ? ResidualMlp(device) : PreNormResidual(device);
        TorchGraphFixture.LoadParameters(network, fixture);
        return network;
    }

    /// <summary>h = relu(Hidden1(x)); h = h + relu(Body.Up(h)); logits = Logits(h); 7 -> 9 -> 9 -> 5.</summary>
    private static GraphNetwork ResidualMlp(Device device)
    {
        var b = new GraphBuilder("ResidualMlp", [7]);
        b.Dense("Hidden1", 9, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        b.EnterBlock("Body");
        b.BeginResidual();
        b.Dense("Up", 9, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        b.EndResidual(1f);
        b.ExitBlock();
        b.Dense("Logits", 5, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        return b.Build(device, Loss.SoftmaxCrossEntropy, 7, (7 * 9 + 9) + (9 * 9 + 9) + (9 * 5 + 5));
    }

    /// <summary>h = Embed(x); 2 x [h = h + Down(gelu(Up(Norm(h))))]; logits = Head(FinalNorm(h)); width 12, LayerNorm eps 1e-5.</summary>
    private static GraphNetwork PreNormResidual(Device device)
    {
        const int width = 12;
        var b = new GraphBuilder("PreNormResidual", [7]);
        b.Dense("Embed", width, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        for (int i = 0; i < 2; i++)
        {
            b.EnterBlock($"Blocks[{i}]");
            b.BeginResidual();
            b.LayerNorm("Norm", 1e-5f, affine: true);
            b.Dense("Up", width, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
            b.Activation("Act", Activation.Gelu, 0f, new Dsl.Ops.Gelu());
            b.Dense("Down", width, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
            b.EndResidual(1f);
            b.ExitBlock();
        }

        b.LayerNorm("FinalNorm", 1e-5f, affine: true);
        b.Dense("Head", 5, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        int block = 2 * width + 2 * (width * width + width);
        return b.Build(device, Loss.SoftmaxCrossEntropy, 7, (7 * width + width) + 2 * block + 2 * width + (width * 5 + 5));
    }

    /// <summary>Within <see cref="Relative"/> times the largest magnitude of the expected tensor.</summary>
    private void Check(float[] expected, float[] actual, string what) => TorchGraphFixture.Check(output, Relative, expected, actual, what);

    private static JsonElement Case(JsonDocument json, string name)
        => json.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static JsonDocument Load()
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", "graphs.json")));
}
