using System.Text.Json;
using Dsl.Ops;
using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;
using Xunit.Abstractions;
using static Dsl.Tests.Graphs.TorchGraphFixture;

namespace Dsl.Tests.Graphs;

/// <summary>
/// Convolutions against PyTorch 1.13 (tests/fixtures/torch/conv.json, made by make_conv_fixtures.py): each op case's
/// output and gradients, and the MNIST-1D CNN (generated from <see cref="CnnNet"/>'s declaration): logits, loss and
/// every gradient from the fixture's parameters, and two steps each of SGD with momentum and Adam. Tolerance 1e-5
/// relative to the largest magnitude of each tensor, against PyTorch's float32 results and its float64 ones.
/// </summary>
public sealed class ConvTorchFixtureTests(ITestOutputHelper output)
{
    private const double Relative = 1e-5;

    public static TheoryData<string> OpCases()
    {
        using JsonDocument json = Load();
        var data = new TheoryData<string>();
        foreach (JsonElement op in json.RootElement.GetProperty("ops").EnumerateArray())
        {
            data.Add(op.GetProperty("name").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OpCases))]
    public void An_op_s_output_and_gradients_match_pytorch(string name)
    {
        using JsonDocument json = Load();
        JsonElement op = json.RootElement.GetProperty("ops").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);
        int batch = op.GetProperty("batch").GetInt32();
        var g = new Conv1dGeometry(
            op.GetProperty("in_channels").GetInt32(), op.GetProperty("length").GetInt32(), op.GetProperty("out_channels").GetInt32(),
            op.GetProperty("kernel").GetInt32(), op.GetProperty("stride").GetInt32(), op.GetProperty("padding").GetInt32(),
            op.GetProperty("dilation").GetInt32(), op.GetProperty("groups").GetInt32());
        Assert.Equal(Ints(op.GetProperty("out_shape")), new[] { g.OutChannels, g.OutLength });
        float[] x = Floats(op.GetProperty("x")), w = Floats(op.GetProperty("weight")), b = Floats(op.GetProperty("bias_values")), dy = Floats(op.GetProperty("dy"));
        Assert.Equal(op.GetProperty("bias").GetBoolean(), b.Length > 0);

        var y = new float[batch * g.OutputWidth];
        var columns = new float[batch * g.OutLength * g.ColumnWidth];
        var positionMajor = new float[batch * g.OutLength * g.OutChannels];
        Conv1d.Forward(y, columns, positionMajor, x, w, b, batch, g, workers: null);
        var dx = new float[x.Length];
        var dw = new float[w.Length];
        var db = new float[b.Length];
        Conv1d.Backward(dx, dw, db, dy, columns, positionMajor, w, batch, g, accumulate: false, workers: null);

        foreach (string suffix in new[] { "", "_f64" })
        {
            Check(Floats(op.GetProperty("y" + suffix)), y, $"{name} y{suffix}");
            Check(Floats(op.GetProperty("dx" + suffix)), dx, $"{name} dx{suffix}");
            Check(Floats(op.GetProperty("dweight" + suffix)), dw, $"{name} dweight{suffix}");
            if (b.Length > 0)
            {
                Check(Floats(op.GetProperty("dbias" + suffix)), db, $"{name} dbias{suffix}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void The_cnn_s_logits_loss_and_gradients_match_pytorch(int threads)
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty("cnn");
        using Device device = Device.Cpu(threads);
        using CnnNet network = Create(device, fixture);
        float[] x = Floats(fixture.GetProperty("x"));
        int[] labels = Ints(fixture.GetProperty("labels"));
        int batch = fixture.GetProperty("batch").GetInt32();

        var logits = new float[batch * network.OutputSize];
        network.Predict(x, logits);
        Check(Floats(fixture.GetProperty("logits")), logits, "cnn logits");
        Check(Floats(fixture.GetProperty("logits_f64")), logits, "cnn logits vs float64");

        float loss = network.ComputeGradients(x, labels);
        Check([(float)fixture.GetProperty("loss_value").GetDouble()], [loss], "cnn loss");
        Check([(float)fixture.GetProperty("loss_value_f64").GetDouble()], [loss], "cnn loss vs float64");
        foreach ((string suffix, string property) in new[] { ("", "grads"), (" vs float64", "grads_f64") })
        {
            foreach (JsonElement tensor in fixture.GetProperty(property).EnumerateArray())
            {
                Layer layer = network.Layers.Single(l => l.Name == tensor.GetProperty("path").GetString());
                ReadOnlySpan<float> gradient = tensor.GetProperty("name").GetString() == "bias" ? layer.BiasGradient : layer.WeightGradient;
                Check(Floats(tensor.GetProperty("values")), gradient.ToArray(), $"cnn d{Describe(tensor)}{suffix}");
            }
        }

        Assert.Equal(loss, (float)network.Evaluate(x, labels).Loss, 5e-6);
    }

    [Theory]
    [InlineData("sgd", 1)]
    [InlineData("adam", 1)]
    [InlineData("adam", 4)]
    public void The_cnn_s_parameters_after_optimizer_steps_match_pytorch(string optimizerName, int threads)
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty("cnn");
        JsonElement run = fixture.GetProperty(optimizerName);
        using Device device = Device.Cpu(threads);
        using CnnNet network = Create(device, fixture);
        float[] x = Floats(fixture.GetProperty("x"));
        int[] labels = Ints(fixture.GetProperty("labels"));
        Optimizer optimizer = optimizerName == "sgd"
            ? new Sgd((float)run.GetProperty("lr").GetDouble(), (float)run.GetProperty("momentum").GetDouble())
            : new Adam((float)run.GetProperty("lr").GetDouble(), (float)run.GetProperty("betas")[0].GetDouble(), (float)run.GetProperty("betas")[1].GetDouble(), (float)run.GetProperty("eps").GetDouble());
        JsonElement[] steps = run.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(2, steps.Length);
        for (int step = 0; step < steps.Length; step++)
        {
            string what = $"cnn {optimizerName} step {step + 1}";
            float loss = network.TrainStep(x, labels, optimizer);
            Check([(float)steps[step].GetProperty("loss_before").GetDouble()], [loss], $"{what} loss");
            Check(Concatenate(steps[step].GetProperty("params")), network.Parameters.ToArray(), $"{what} parameters");
            Check([(float)steps[step].GetProperty("loss_after").GetDouble()], [(float)network.Evaluate(x, labels).Loss], $"{what} loss after");
        }
    }

    [Fact]
    public void The_cnn_s_layers_and_parameter_layout_are_pytorch_s()
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty("cnn");
        using Device device = Device.Cpu(1);
        using var network = new CnnNet(device);
        Assert.Equal(5210, network.ParameterCount);
        Assert.Equal([1, 40], network.InputShape.ToArray());
        Assert.Equal(
            ["Conv1: Conv1d (1, 40) -> (25, 19), kernel 5, stride 2, padding 1, dilation 1, groups 1, Relu",
             "Conv2: Conv1d (25, 19) -> (25, 10), kernel 3, stride 2, padding 1, dilation 1, groups 1, Relu",
             "Conv3: Conv1d (25, 10) -> (25, 5), kernel 3, stride 2, padding 1, dilation 1, groups 1, Relu",
             "Flat: Flatten (125)",
             "Logits: Dense 125 -> 10, Identity"],
            network.Layers.Select(l => l.ToString()));
        foreach (JsonElement tensor in fixture.GetProperty("params").EnumerateArray())
        {
            Layer layer = network.Layers.Single(l => l.Name == tensor.GetProperty("path").GetString());
            int[] shape = Ints(tensor.GetProperty("shape"));
            bool bias = tensor.GetProperty("name").GetString() == "bias";
            Assert.Equal(shape.Aggregate(1, (a, d) => a * d), bias ? layer.BiasLength : layer.WeightLength);
            if (layer.Convolution is { } g && !bias)
            {
                Assert.Equal(new[] { g.OutChannels, g.GroupInChannels, g.Kernel }, shape);
            }
        }

        // The fixture's parameters, laid end to end in its order, are our parameter buffer.
        using CnnNet loaded = Create(device, fixture);
        Assert.Equal(Concatenate(fixture.GetProperty("params")), loaded.Parameters.ToArray());
    }

    /// <summary>The generated CNN with the fixture's parameters loaded through the layers' views, over a NaN-filled buffer.</summary>
    private static CnnNet Create(Device device, JsonElement fixture)
    {
        var network = new CnnNet(device);
        network.Parameters.Fill(float.NaN);
        foreach (JsonElement tensor in fixture.GetProperty("params").EnumerateArray())
        {
            Layer layer = network.Layers.Single(l => l.Name == tensor.GetProperty("path").GetString());
            Span<float> view = tensor.GetProperty("name").GetString() == "bias" ? layer.Bias : layer.Weight;
            float[] values = Floats(tensor.GetProperty("values"));
            Assert.Equal(values.Length, view.Length);
            values.CopyTo(view);
        }

        Assert.DoesNotContain(network.Parameters.ToArray(), float.IsNaN);
        return network;
    }

    private static JsonDocument Load()
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", "conv.json")));

    private void Check(float[] expected, float[] actual, string what) => TorchGraphFixture.Check(output, Relative, expected, actual, what);
}
