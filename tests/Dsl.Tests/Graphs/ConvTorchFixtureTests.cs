using System.Text.Json;
using Dsl.Ops;
using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;
using Xunit.Abstractions;
using static Dsl.Tests.Graphs.TorchGraphFixture;

namespace Dsl.Tests.Graphs;

/// <summary>
/// Convolutions and poolings against PyTorch 1.13 (tests/fixtures/torch/conv.json, made by make_conv_fixtures.py): each
/// op case's output and gradients (Conv1d, Conv2d, MaxPool and AvgPool in 1d and 2d with a max pool's indices, global
/// average pooling), and three generated networks, the MNIST-1D CNN (<see cref="CnnNet"/>), a two-dimensional CNN
/// with both pools and global average pooling (<see cref="ImageCnnNet"/>) and a pooled one-dimensional CNN
/// (<see cref="PooledCnnNet"/>): logits, loss and every gradient from the fixture's parameters, and two steps each of
/// SGD with momentum and Adam. Tolerance 1e-5
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
        string kind = op.GetProperty("op").GetString()!;
        switch (kind)
        {
            case "conv1d":
                Conv1dCase(name, op);
                break;
            case "conv2d":
                Conv2dCase(name, op);
                break;
            case "max_pool1d" or "max_pool2d":
                MaxPoolCase(name, op);
                break;
            case "avg_pool1d" or "avg_pool2d":
                AvgPoolCase(name, op);
                break;
            case "global_avg_pool":
                GlobalAvgPoolCase(name, op);
                break;
            default:
                Assert.Fail($"{name}: no test runs op '{kind}'");
                break;
        }
    }

    private void Conv1dCase(string name, JsonElement op)
    {
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
        var channelMajor = new float[batch * g.OutLength * g.OutChannels];
        Conv2d.Forward(y, columns, channelMajor, x, w, b, batch, g.AsConv2d(), workers: null);
        var dx = new float[x.Length];
        var dw = new float[w.Length];
        var db = new float[b.Length];
        Conv2d.Backward(dx, dw, db, dy, columns, channelMajor, w, batch, g.AsConv2d(), accumulate: false, workers: null);
        CheckParameterized(name, op, y, dx, dw, db);
    }

    private void Conv2dCase(string name, JsonElement op)
    {
        int batch = op.GetProperty("batch").GetInt32();
        int[] kernel = Ints(op.GetProperty("kernel")), stride = Ints(op.GetProperty("stride")), padding = Ints(op.GetProperty("padding")), dilation = Ints(op.GetProperty("dilation"));
        var g = new Conv2dGeometry(
            op.GetProperty("in_channels").GetInt32(), op.GetProperty("height").GetInt32(), op.GetProperty("width").GetInt32(), op.GetProperty("out_channels").GetInt32(),
            kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], op.GetProperty("groups").GetInt32());
        g.Validate(name);
        Assert.Equal(Ints(op.GetProperty("out_shape")), new[] { g.OutChannels, g.OutHeight, g.OutWidth });
        float[] x = Floats(op.GetProperty("x")), w = Floats(op.GetProperty("weight")), b = Floats(op.GetProperty("bias_values")), dy = Floats(op.GetProperty("dy"));
        Assert.Equal(op.GetProperty("bias").GetBoolean(), b.Length > 0);
        Assert.Equal(g.WeightLength, w.Length);

        var y = new float[batch * g.OutputSize];
        var columns = new float[batch * g.OutPositions * g.ColumnWidth];
        var channelMajor = new float[batch * g.OutPositions * g.OutChannels];
        Conv2d.Forward(y, columns, channelMajor, x, w, b, batch, g, workers: null);
        var dx = new float[x.Length];
        var dw = new float[w.Length];
        var db = new float[b.Length];
        Conv2d.Backward(dx, dw, db, dy, columns, channelMajor, w, batch, g, accumulate: false, workers: null);
        CheckParameterized(name, op, y, dx, dw, db);
    }

    private void MaxPoolCase(string name, JsonElement op)
    {
        (int batch, PoolGeometry g, float[] x, float[] dy) = PoolProblem(op, average: false);
        g.Validate(name, average: false);
        var y = new float[batch * g.OutputSize];
        var argmax = new int[y.Length];
        MaxPool.Forward(y, argmax, x, batch, g);
        var dx = new float[x.Length];
        MaxPool.Backward(dx, dy, argmax, batch, g, accumulate: false);
        foreach (string suffix in new[] { "", "_f64" })
        {
            Assert.Equal(Ints(op.GetProperty("indices" + suffix)), argmax);
            Check(Floats(op.GetProperty("y" + suffix)), y, $"{name} y{suffix}");
            Check(Floats(op.GetProperty("dx" + suffix)), dx, $"{name} dx{suffix}");
        }
    }

    private void AvgPoolCase(string name, JsonElement op)
    {
        (int batch, PoolGeometry g, float[] x, float[] dy) = PoolProblem(op, average: true);
        g.Validate(name, average: true);
        var y = new float[batch * g.OutputSize];
        AvgPool.Forward(y, x, batch, g);
        var dx = new float[x.Length];
        AvgPool.Backward(dx, dy, batch, g, accumulate: false);
        foreach (string suffix in new[] { "", "_f64" })
        {
            Check(Floats(op.GetProperty("y" + suffix)), y, $"{name} y{suffix}");
            Check(Floats(op.GetProperty("dx" + suffix)), dx, $"{name} dx{suffix}");
        }
    }

    private void GlobalAvgPoolCase(string name, JsonElement op)
    {
        int batch = op.GetProperty("batch").GetInt32(), channels = op.GetProperty("channels").GetInt32();
        int positions = Ints(op.GetProperty("spatial")).Aggregate(1, (a, d) => a * d);
        Assert.Equal(Ints(op.GetProperty("out_shape")), new[] { channels });
        float[] x = Floats(op.GetProperty("x")), dy = Floats(op.GetProperty("dy"));
        var y = new float[batch * channels];
        GlobalAvgPool.Forward(y, x, batch, channels, positions);
        var dx = new float[x.Length];
        GlobalAvgPool.Backward(dx, dy, batch, channels, positions, accumulate: false);
        foreach (string suffix in new[] { "", "_f64" })
        {
            Check(Floats(op.GetProperty("y" + suffix)), y, $"{name} y{suffix}");
            Check(Floats(op.GetProperty("dx" + suffix)), dx, $"{name} dx{suffix}");
        }
    }

    /// <summary>
    /// A pool case's geometry, input and output gradient: 1d sizes are numbers (through <see cref="PoolGeometry.OneDimensional"/>),
    /// 2d ones [height, width]; an average pool's case has no dilation.
    /// </summary>
    private static (int Batch, PoolGeometry G, float[] X, float[] Dy) PoolProblem(JsonElement op, bool average)
    {
        int batch = op.GetProperty("batch").GetInt32(), channels = op.GetProperty("channels").GetInt32();
        JsonElement spatial = op.GetProperty("spatial"), kernel = op.GetProperty("kernel"), stride = op.GetProperty("stride"), padding = op.GetProperty("padding");
        Assert.Equal(!average, op.TryGetProperty("dilation", out JsonElement dilation));
        PoolGeometry g = spatial.ValueKind == JsonValueKind.Number
            ? PoolGeometry.OneDimensional(channels, spatial.GetInt32(), kernel.GetInt32(), stride.GetInt32(), padding.GetInt32(), average ? 1 : dilation.GetInt32())
            : new PoolGeometry(
                channels, spatial[0].GetInt32(), spatial[1].GetInt32(), kernel[0].GetInt32(), kernel[1].GetInt32(), stride[0].GetInt32(), stride[1].GetInt32(),
                padding[0].GetInt32(), padding[1].GetInt32(), average ? 1 : dilation[0].GetInt32(), average ? 1 : dilation[1].GetInt32());
        int[] outShape = spatial.ValueKind == JsonValueKind.Number ? [channels, g.OutWidth] : [channels, g.OutHeight, g.OutWidth];
        Assert.Equal(Ints(op.GetProperty("out_shape")), outShape);
        return (batch, g, Floats(op.GetProperty("x")), Floats(op.GetProperty("dy")));
    }

    /// <summary>A convolution's y, dx, dweight and dbias (when it has a bias) against PyTorch's float32 and float64 results.</summary>
    private void CheckParameterized(string name, JsonElement op, float[] y, float[] dx, float[] dw, float[] db)
    {
        foreach (string suffix in new[] { "", "_f64" })
        {
            Check(Floats(op.GetProperty("y" + suffix)), y, $"{name} y{suffix}");
            Check(Floats(op.GetProperty("dx" + suffix)), dx, $"{name} dx{suffix}");
            Check(Floats(op.GetProperty("dweight" + suffix)), dw, $"{name} dweight{suffix}");
            if (db.Length > 0)
            {
                Check(Floats(op.GetProperty("dbias" + suffix)), db, $"{name} dbias{suffix}");
            }
        }
    }

    [Theory]
    [InlineData("cnn", 1)]
    [InlineData("cnn", 4)]
    [InlineData("image_cnn", 1)]
    [InlineData("image_cnn", 3)]
    [InlineData("pooled_cnn", 1)]
    [InlineData("pooled_cnn", 3)]
    public void A_cnn_s_logits_loss_and_gradients_match_pytorch(string name, int threads)
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty(name);
        using Device device = Device.Cpu(threads);
        using IClassifierNetwork network = Create(name, device, fixture);
        float[] x = Floats(fixture.GetProperty("x"));
        int[] labels = Ints(fixture.GetProperty("labels"));
        int batch = fixture.GetProperty("batch").GetInt32();

        var logits = new float[batch * network.OutputSize];
        network.Predict(x, logits);
        Check(Floats(fixture.GetProperty("logits")), logits, $"{name} logits");
        Check(Floats(fixture.GetProperty("logits_f64")), logits, $"{name} logits vs float64");

        float loss = network.ComputeGradients(x, labels);
        Check([(float)fixture.GetProperty("loss_value").GetDouble()], [loss], $"{name} loss");
        Check([(float)fixture.GetProperty("loss_value_f64").GetDouble()], [loss], $"{name} loss vs float64");
        foreach ((string suffix, string property) in new[] { ("", "grads"), (" vs float64", "grads_f64") })
        {
            foreach (JsonElement tensor in fixture.GetProperty(property).EnumerateArray())
            {
                Layer layer = network.Layers.Single(l => l.Name == tensor.GetProperty("path").GetString());
                ReadOnlySpan<float> gradient = tensor.GetProperty("name").GetString() == "bias" ? layer.BiasGradient : layer.WeightGradient;
                Check(Floats(tensor.GetProperty("values")), gradient.ToArray(), $"{name} d{Describe(tensor)}{suffix}");
            }
        }

        Assert.Equal(loss, (float)network.Evaluate(x, labels).Loss, 5e-6);
    }

    [Theory]
    [InlineData("cnn", "sgd", 1)]
    [InlineData("cnn", "adam", 1)]
    [InlineData("cnn", "adam", 4)]
    [InlineData("image_cnn", "sgd", 1)]
    [InlineData("image_cnn", "adam", 3)]
    [InlineData("pooled_cnn", "sgd", 3)]
    [InlineData("pooled_cnn", "adam", 1)]
    public void A_cnn_s_parameters_after_optimizer_steps_match_pytorch(string name, string optimizerName, int threads)
    {
        using JsonDocument json = Load();
        JsonElement fixture = json.RootElement.GetProperty(name);
        JsonElement run = fixture.GetProperty(optimizerName);
        using Device device = Device.Cpu(threads);
        using IClassifierNetwork network = Create(name, device, fixture);
        float[] x = Floats(fixture.GetProperty("x"));
        int[] labels = Ints(fixture.GetProperty("labels"));
        Optimizer optimizer = optimizerName == "sgd"
            ? new Sgd((float)run.GetProperty("lr").GetDouble(), (float)run.GetProperty("momentum").GetDouble())
            : new Adam((float)run.GetProperty("lr").GetDouble(), (float)run.GetProperty("betas")[0].GetDouble(), (float)run.GetProperty("betas")[1].GetDouble(), (float)run.GetProperty("eps").GetDouble());
        JsonElement[] steps = run.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(2, steps.Length);
        for (int step = 0; step < steps.Length; step++)
        {
            string what = $"{name} {optimizerName} step {step + 1}";
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
        using IClassifierNetwork loaded = Create("cnn", device, fixture);
        Assert.Equal(Concatenate(fixture.GetProperty("params")), loaded.Parameters.ToArray());
    }

    [Fact]
    public void The_pooled_networks_layers_and_parameter_layout_are_pytorch_s()
    {
        using JsonDocument json = Load();
        using Device device = Device.Cpu(1);
        using var image = new ImageCnnNet(device);
        Assert.Equal(
            ["Conv1: Conv2d (3, 9, 8) -> (6, 9, 8), kernel 3x3, stride 1x1, padding 1x1, dilation 1x1, groups 1, Relu",
             "Pool1: MaxPool2d (6, 9, 8) -> (6, 4, 4), kernel 2x2, stride 2x2, padding 0x0, dilation 1x1",
             "Conv2: Conv2d (6, 4, 4) -> (8, 4, 3), kernel 3x2, stride 1x1, padding 1x0, dilation 1x1, groups 2, Relu",
             "Pool2: AvgPool2d (8, 4, 3) -> (8, 5, 4), kernel 2x2, stride 1x1, padding 1x1",
             "Gap: GlobalAvgPool 160 -> (8)",
             "Logits: Dense 8 -> 5, Identity"],
            image.Layers.Select(l => l.ToString()));
        using var pooled = new PooledCnnNet(device);
        Assert.Equal(
            ["Conv1: Conv1d (2, 30) -> (6, 30), kernel 3, stride 1, padding 1, dilation 1, groups 1, Tanh",
             "Pool1: MaxPool1d (6, 30) -> (6, 15), kernel 3, stride 2, padding 1, dilation 1",
             "Conv2: Conv1d (6, 15) -> (6, 11), kernel 3, stride 1, padding 0, dilation 2, groups 1, Tanh",
             "Pool2: AvgPool1d (6, 11) -> (6, 5), kernel 2, stride 2, padding 0",
             "Flat: Flatten (30)",
             "Logits: Dense 30 -> 4, Identity"],
            pooled.Layers.Select(l => l.ToString()));
        foreach ((string name, IClassifierNetwork network) in new (string, IClassifierNetwork)[] { ("image_cnn", image), ("pooled_cnn", pooled) })
        {
            JsonElement fixture = json.RootElement.GetProperty(name);
            Assert.Equal(Concatenate(fixture.GetProperty("params")).Length, network.ParameterCount);
            foreach (JsonElement tensor in fixture.GetProperty("params").EnumerateArray())
            {
                Layer layer = network.Layers.Single(l => l.Name == tensor.GetProperty("path").GetString());
                int[] shape = Ints(tensor.GetProperty("shape"));
                if (layer.Convolution2d is { } g && tensor.GetProperty("name").GetString() == "weight")
                {
                    Assert.Equal(new[] { g.OutChannels, g.GroupInChannels, g.KernelHeight, g.KernelWidth }, shape);
                }
            }
        }
    }

    /// <summary>The generated network the fixture <paramref name="name"/> describes, its parameters loaded through the layers' views over a NaN-filled buffer.</summary>
    private static IClassifierNetwork Create(string name, Device device, JsonElement fixture)
    {
        IClassifierNetwork network = name switch
        {
            "cnn" => new CnnNet(device),
            "image_cnn" => new ImageCnnNet(device),
            "pooled_cnn" => new PooledCnnNet(device),
            _ => throw new ArgumentException($"no network for fixture '{name}'", nameof(name)),
        };
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
