using System.Text.Json;
using Dsl;
using Xunit;
using Dsl.Training;

namespace Dsl.Tests.Networks;

/// <summary>
/// Golden values from PyTorch 1.13 (tests/fixtures/torch, made by make_fixtures.py): outputs, loss,
/// every gradient, and the parameters after two steps of SGD with momentum, SGD with Nesterov and
/// weight decay, Adam and AdamW. Tolerance: 1e-5 relative to the largest magnitude of each tensor.
/// </summary>
public sealed class TorchFixtureTests
{
    private const double Relative = 1e-5;

    public static TheoryData<string> Fixtures => ["net_a", "net_b", "net_c"];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Outputs_loss_and_gradients_match_pytorch(string fixture)
    {
        using JsonDocument json = Load(fixture);
        JsonElement root = json.RootElement;
        using Device device = Device.Cpu(1);
        INetwork network = Create(fixture, device, root);
        int batch = root.GetProperty("batch").GetInt32();
        float[] x = Floats(root.GetProperty("x"));

        var outputs = new float[batch * network.OutputSize];
        network.Predict(x, outputs);
        AssertClose(Floats(root.GetProperty("output")), outputs, $"{fixture} output");

        float loss = ComputeGradients(network, root, x);
        AssertClose([root.GetProperty("loss_value").GetSingle()], [loss], $"{fixture} loss");
        AssertClose(LayerValues(root.GetProperty("grads")), network.Gradients.ToArray(), $"{fixture} gradients");
    }

    [Theory]
    [InlineData("net_a", "sgd_momentum")]
    [InlineData("net_a", "sgd_nesterov")]
    [InlineData("net_a", "adam")]
    [InlineData("net_a", "adamw")]
    [InlineData("net_b", "sgd_momentum")]
    [InlineData("net_b", "sgd_nesterov")]
    [InlineData("net_b", "adam")]
    [InlineData("net_b", "adamw")]
    [InlineData("net_c", "sgd_momentum")]
    [InlineData("net_c", "sgd_nesterov")]
    [InlineData("net_c", "adam")]
    [InlineData("net_c", "adamw")]
    public void Parameters_after_two_optimizer_steps_match_pytorch(string fixture, string optimizerName)
    {
        using JsonDocument json = Load(fixture);
        JsonElement root = json.RootElement;
        JsonElement run = root.GetProperty(optimizerName);
        using Device device = Device.Cpu(1);
        INetwork network = Create(fixture, device, root);
        float[] x = Floats(root.GetProperty("x"));
        Optimizer optimizer = optimizerName switch
        {
            "sgd_momentum" or "sgd_nesterov" => new Sgd(
                run.GetProperty("lr").GetSingle(), run.GetProperty("momentum").GetSingle(), run.GetProperty("nesterov").GetBoolean(), run.GetProperty("weight_decay").GetSingle()),
            "adam" => new Adam(
                run.GetProperty("lr").GetSingle(), run.GetProperty("betas")[0].GetSingle(), run.GetProperty("betas")[1].GetSingle(), run.GetProperty("eps").GetSingle(), run.GetProperty("weight_decay").GetSingle()),
            _ => new AdamW(
                run.GetProperty("lr").GetSingle(), run.GetProperty("betas")[0].GetSingle(), run.GetProperty("betas")[1].GetSingle(), run.GetProperty("eps").GetSingle(), run.GetProperty("weight_decay").GetSingle()),
        };

        // torch.optim decays every parameter of its one group; ours skips biases unless told (see TrainingPolicy).
        network.Training.DecayNormsAndBiases = true;
        float[] expectedLosses = Floats(root.GetProperty("losses_per_step").GetProperty(optimizerName));
        int steps = run.GetProperty("steps").GetInt32();
        Assert.Equal(expectedLosses.Length, steps);
        var losses = new float[steps];
        for (int step = 0; step < steps; step++)
        {
            losses[step] = network switch
            {
                IClassifierNetwork classifier => classifier.TrainStep(x, Ints(root.GetProperty("labels")), optimizer),
                IRegressionNetwork regression => regression.TrainStep(x, Floats(root.GetProperty("targets")), optimizer),
                _ => throw new InvalidOperationException(),
            };
        }

        AssertClose(expectedLosses, losses, $"{fixture} {optimizerName} losses");
        AssertClose(LayerValues(run.GetProperty("params")), network.Parameters.ToArray(), $"{fixture} {optimizerName} parameters");
    }

    [Fact]
    public void Float64_fixture_agrees_with_the_float64_reference_evaluation()
    {
        // Ties the reference evaluator used by the gradient checks to PyTorch itself.
        foreach (string fixture in new[] { "net_a", "net_b", "net_c" })
        {
            using JsonDocument json = Load(fixture);
            JsonElement root = json.RootElement;
            using Device device = Device.Cpu(1);
            INetwork network = Create(fixture, device, root);
            double[] parameters = LayerValues(root.GetProperty("params")).Select(v => (double)v).ToArray();
            double[] x = Floats(root.GetProperty("x")).Select(v => (double)v).ToArray();
            double[] outputs = ReferenceNetwork.Forward(network, parameters, x, root.GetProperty("batch").GetInt32());
            double[] expected = root.GetProperty("output_f64").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(outputs[i] - expected[i]) <= 1e-9 * Math.Max(1, Math.Abs(expected[i])), $"{fixture} output_f64[{i}]: {outputs[i]} vs {expected[i]}");
            }
        }
    }

    private static float ComputeGradients(INetwork network, JsonElement root, float[] x) => network switch
    {
        IClassifierNetwork classifier => classifier.ComputeGradients(x, Ints(root.GetProperty("labels"))),
        IRegressionNetwork regression => regression.ComputeGradients(x, Floats(root.GetProperty("targets"))),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Creates the matching network, checks its layers against the fixture's, and loads the fixture's initial parameters.</summary>
    private static INetwork Create(string fixture, Device device, JsonElement root)
    {
        INetwork network = fixture switch
        {
            "net_a" => new NetA(device),
            "net_b" => new NetB(device),
            _ => new NetC(device),
        };
        JsonElement[] layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(layers.Length, network.Layers.Count);
        for (int i = 0; i < layers.Length; i++)
        {
            Assert.Equal(layers[i].GetProperty("in").GetInt32(), network.Layers[i].FanIn);
            Assert.Equal(layers[i].GetProperty("out").GetInt32(), network.Layers[i].Units);
            Assert.Equal(layers[i].GetProperty("bias").GetBoolean(), network.Layers[i].HasBias);
        }

        float[] parameters = LayerValues(root.GetProperty("params"));
        Assert.Equal(network.ParameterCount, parameters.Length);
        parameters.CopyTo(network.Parameters);
        return network;
    }

    /// <summary>Per layer weight then bias, flattened: the generated parameter layout.</summary>
    private static float[] LayerValues(JsonElement layers)
    {
        var values = new List<float>();
        foreach (JsonElement layer in layers.EnumerateArray())
        {
            values.AddRange(Floats(layer.GetProperty("weight")));
            if (layer.GetProperty("bias").ValueKind != JsonValueKind.Null)
            {
                values.AddRange(Floats(layer.GetProperty("bias")));
            }
        }

        return values.ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        Assert.True(scale > 0, what + ": all-zero fixture");
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            Assert.True(error <= Relative * scale, $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]} (error {error:E2}, allowed {Relative * scale:E2})");
        }
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static JsonDocument Load(string fixture)
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", fixture + ".json")));
}
