using Dsl.Graphs;
using Dsl.IO;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Graphs;

/// <summary>
/// Parameter files and checkpoints of graph networks: round trips with and without running statistics, the named tensors,
/// a file of format version 2, and the refusals.
/// </summary>
public sealed class GraphParameterFileTests
{
    [Fact]
    public void A_residual_network_saves_and_loads_its_parameters_and_predicts_the_same()
    {
        using GraphNetwork trained = Residual(seed: 1, batchNorm: false);
        using GraphNetwork fresh = Residual(seed: 2, batchNorm: false);
        float[] inputs = [.. Enumerable.Range(0, 5 * 7).Select(i => MathF.Sin(i))];
        Assert.NotEqual(Predict(trained, inputs), Predict(fresh, inputs));

        var file = new MemoryStream();
        ParameterFile.Save(new Wrapper(trained), file);
        Assert.Equal(4u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(file.ToArray().AsSpan(8)));
        file.Position = 0;
        ParameterFile.Load(new Wrapper(fresh), file);
        Assert.Equal(Predict(trained, inputs), Predict(fresh, inputs));
    }

    [Fact]
    public void Another_graph_s_file_is_refused_by_name_with_both_architectures()
    {
        using GraphNetwork source = Residual(seed: 1, batchNorm: false);
        var builder = new GraphBuilder("Other", [7]);
        builder.Dense("Hidden", 9, true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        builder.RmsNorm("Norm", 1e-5f, affine: true);
        builder.Dense("Logits", 3, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        using GraphNetwork other = builder.Build(Device.Cpu(1), Loss.SoftmaxCrossEntropy, 1, (7 * 9) + 9 + 9 + (9 * 3) + 3);
        float[] before = other.Parameters.ToArray();
        var file = new MemoryStream();
        ParameterFile.Save(new Wrapper(source), file);
        file.Position = 0;
        ParameterFileException error = Assert.Throws<ParameterFileException>(() => ParameterFile.Load(new Wrapper(other), file));
        Assert.Equal(ParameterFileProblem.NetworkMismatch, error.Problem);
        Assert.Contains("Body.Norm LayerNorm (9)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Norm RmsNorm (9)", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, other.Parameters.ToArray());
    }

    [Fact]
    public void A_file_names_every_tensor_as_pytorch_s_state_dict_does()
    {
        using GraphNetwork network = Residual(seed: 1, batchNorm: true);
        var file = new MemoryStream();
        ParameterFile.Save(new Wrapper(network), file);
        string text = System.Text.Encoding.UTF8.GetString(file.ToArray());
        foreach (string name in (string[])["Hidden.weight", "Hidden.bias", "Norm.weight", "Norm.bias", "Norm.running_mean", "Norm.running_var", "Body.Norm.weight", "Body.Norm.bias", "Body.Up.weight", "Logits.bias"])
        {
            Assert.Contains(name, text, StringComparison.Ordinal);
        }

        Assert.Contains("Body", network.Layers.Where(layer => layer.Kind == LayerKind.Add).Select(layer => layer.Name));
    }

    [Fact]
    public void A_batch_norm_s_running_statistics_survive_a_parameter_file_and_a_checkpoint()
    {
        using GraphNetwork trained = Residual(seed: 1, batchNorm: true);
        float[] inputs = [.. Enumerable.Range(0, 6 * 7).Select(i => MathF.Sin(i) * 2)];
        int[] labels = [0, 1, 2, 0, 1, 2];
        var adam = new Adam(0.01f);
        for (int step = 0; step < 4; step++)
        {
            trained.TrainStep(inputs, labels, adam);
        }

        Layer norm = trained.Layers.Single(layer => layer.Kind == LayerKind.BatchNorm);
        Assert.NotEqual(0f, norm.RunningMean[0]); // moved by the steps

        using GraphNetwork fresh = Residual(seed: 2, batchNorm: true);
        var file = new MemoryStream();
        ParameterFile.Save(new Wrapper(trained), file);
        file.Position = 0;
        ParameterFile.Load(new Wrapper(fresh), file);
        Assert.Equal(trained.State.ToArray(), fresh.State.ToArray());
        Assert.Equal(Predict(trained, inputs), Predict(fresh, inputs));

        // A checkpoint carries them too, and training resumes on the same path.
        using GraphNetwork resumed = Residual(seed: 3, batchNorm: true);
        var resumedAdam = new Adam(0.01f);
        var checkpoint = new MemoryStream();
        TrainingCheckpoint.Save(new Wrapper(trained), adam, checkpoint);
        checkpoint.Position = 0;
        TrainingCheckpoint.Load(new Wrapper(resumed), resumedAdam, checkpoint);
        Assert.Equal(trained.TrainStep(inputs, labels, adam), resumed.TrainStep(inputs, labels, resumedAdam));
        Assert.Equal(trained.State.ToArray(), resumed.State.ToArray());
        Assert.Equal(trained.Parameters.ToArray(), resumed.Parameters.ToArray());
    }

    [Fact]
    public void A_file_of_format_version_2_still_loads_and_a_batch_norm_network_refuses_it()
    {
        // tests/fixtures/parameter-files/residual.v2.dslparam: Residual(batchNorm: false)'s parameters p[i] = sin(i) / 2
        // in format version 2, whose layer table has no residual adds.
        string path = Path.Combine(AppContext.BaseDirectory, "fixtures", "parameter-files", "residual.v2.dslparam");
        using GraphNetwork network = Residual(seed: 5, batchNorm: false);
        ParameterFile.Load(new Wrapper(network), path);
        float[] expected = [.. Enumerable.Range(0, network.ParameterCount).Select(i => MathF.Sin(i) / 2)];
        Assert.Equal(expected, network.Parameters.ToArray());

        using GraphNetwork withNorm = Residual(seed: 5, batchNorm: true);
        float[] before = withNorm.Parameters.ToArray();
        ParameterFileException error = Assert.Throws<ParameterFileException>(() => ParameterFile.Load(new Wrapper(withNorm), path));
        Assert.Equal(ParameterFileProblem.NetworkMismatch, error.Problem);
        Assert.Contains("format version 2, which holds no running statistics", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Norm'", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, withNorm.Parameters.ToArray());
    }

    [Fact]
    public void A_file_of_format_version_3_still_loads_with_its_running_statistics()
    {
        // tests/fixtures/parameter-files/residual-batchnorm.v3.dslparam: Residual(batchNorm: true) in format version 3,
        // parameters p[i] = sin(i) / 2, running mean cos(i) / 4 and running variance 1 + i / 10 in float32.
        string path = Path.Combine(AppContext.BaseDirectory, "fixtures", "parameter-files", "residual-batchnorm.v3.dslparam");
        Assert.Equal(3u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(path).AsSpan(8)));
        using GraphNetwork network = Residual(seed: 5, batchNorm: true);
        ParameterFile.Load(new Wrapper(network), path);
        float[] expected = [.. Enumerable.Range(0, network.ParameterCount).Select(i => MathF.Sin(i) / 2)];
        Assert.Equal(expected, network.Parameters.ToArray());
        Layer norm = network.Layers.Single(layer => layer.Kind == LayerKind.BatchNorm);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => MathF.Cos(i) / 4), norm.RunningMean.ToArray());
        Assert.Equal(Enumerable.Range(0, 9).Select(i => 1 + (i / 10f)), norm.RunningVariance.ToArray());
    }

    [Fact]
    public void A_cnn_with_pools_saves_and_loads_its_parameters_and_predicts_the_same()
    {
        using Device device = Device.Cpu(1);
        using var trained = new Dsl.Tests.Networks.ImageCnnNet(device, seed: 1);
        using var fresh = new Dsl.Tests.Networks.ImageCnnNet(device, seed: 2);
        float[] inputs = [.. Enumerable.Range(0, 4 * trained.InputSize).Select(i => MathF.Sin(0.37f * i))];
        int[] labels = [0, 3, 1, 4];
        var adam = new Adam(0.01f);
        for (int step = 0; step < 3; step++)
        {
            trained.TrainStep(inputs, labels, adam);
        }

        Assert.NotEqual(Predict(trained, inputs), Predict(fresh, inputs));
        var file = new MemoryStream();
        ParameterFile.Save(trained, file);
        string text = System.Text.Encoding.UTF8.GetString(file.ToArray());
        foreach (string name in (string[])["Conv1.weight", "Conv1.bias", "Conv2.weight", "Conv2.bias", "Logits.weight", "Logits.bias"])
        {
            Assert.Contains(name, text, StringComparison.Ordinal);
        }

        file.Position = 0;
        ParameterFile.Load(fresh, file);
        Assert.Equal(trained.Parameters.ToArray(), fresh.Parameters.ToArray());
        Assert.Equal(Predict(trained, inputs), Predict(fresh, inputs));
    }

    [Fact]
    public void A_cnn_s_file_is_refused_by_a_network_that_differs_only_in_padding_with_both_geometries()
    {
        using Device device = Device.Cpu(1);
        using var source = new Dsl.Tests.Networks.ImageCnnNet(device, seed: 1);

        // ImageCnnNet with Conv1's padding 0 instead of 1: the same parameter count, another network.
        var builder = new GraphBuilder("ImageCnnNet", [3, 9, 8]);
        builder.Conv2d("Conv1", 6, 3, 3, 1, 1, 0, 0, 1, 1, 1, true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        builder.MaxPool("Pool1", twoDimensional: true, 2, 2, 2, 2, 0, 0, 1, 1);
        builder.Conv2d("Conv2", 8, 3, 2, 1, 1, 1, 0, 1, 1, 2, true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        builder.AvgPool("Pool2", twoDimensional: true, 2, 2, 1, 1, 1, 1);
        builder.GlobalAvgPool("Gap");
        builder.Dense("Logits", 5, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        using GraphNetwork other = builder.Build(device, Loss.SoftmaxCrossEntropy, 1, source.ParameterCount);
        float[] before = other.Parameters.ToArray();

        var file = new MemoryStream();
        ParameterFile.Save(source, file);
        file.Position = 0;
        ParameterFileException error = Assert.Throws<ParameterFileException>(() => ParameterFile.Load(new Wrapper(other), file));
        Assert.Equal(ParameterFileProblem.NetworkMismatch, error.Problem);
        Assert.Contains("Conv1 Conv2d (3, 9, 8) -> 6 channels, kernel 3x3, stride 1x1, padding 1x1, dilation 1x1, groups 1 Relu", error.Message, StringComparison.Ordinal);
        Assert.Contains("Conv1 Conv2d (3, 9, 8) -> 6 channels, kernel 3x3, stride 1x1, padding 0x0, dilation 1x1, groups 1 Relu", error.Message, StringComparison.Ordinal);
        Assert.Contains("Pool1 MaxPool2d (6, 9, 8), kernel 2x2, stride 2x2, padding 0x0, dilation 1x1", error.Message, StringComparison.Ordinal);
        Assert.Contains("Pool1 MaxPool2d (6, 7, 6), kernel 2x2, stride 2x2, padding 0x0, dilation 1x1", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, other.Parameters.ToArray());
    }

    private static GraphNetwork Residual(ulong seed, bool batchNorm)
    {
        var builder = new GraphBuilder("Residual", [7]);
        builder.Dense("Hidden", 9, true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        if (batchNorm)
        {
            builder.BatchNorm("Norm", 1e-5f, 0.1f, affine: true);
        }

        builder.EnterBlock("Body");
        builder.BeginResidual();
        builder.LayerNorm("Norm", 1e-5f, affine: true);
        builder.Dense("Up", 9, true, Init.He, Fan.In, 0.01, Activation.Gelu, 0f, new Dsl.Ops.Gelu());
        builder.EndResidual(1f);
        builder.ExitBlock();
        builder.Dense("Logits", 3, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        int parameters = (7 * 9) + 9 + (batchNorm ? 18 : 0) + 18 + (9 * 9) + 9 + (9 * 3) + 3;
        return builder.Build(Device.Cpu(1), Loss.SoftmaxCrossEntropy, seed, parameters);
    }

    private static float[] Predict(GraphNetwork network, float[] inputs) => Predict(new Wrapper(network), inputs);

    private static float[] Predict(INetwork network, float[] inputs)
    {
        var outputs = new float[inputs.Length / network.InputSize * network.OutputSize];
        network.Predict(inputs, outputs);
        return outputs;
    }

    /// <summary>A graph network seen through INetwork, as a generated class presents it.</summary>
    private sealed class Wrapper(GraphNetwork graph) : IClassifierNetwork
    {
        public Device Device => graph.Device;

        public int ParameterCount => graph.ParameterCount;

        public int InputSize => graph.InputSize;

        public int OutputSize => graph.OutputSize;

        public ReadOnlySpan<int> InputShape => graph.InputShape;

        public ReadOnlySpan<int> OutputShape => graph.OutputShape;

        public IReadOnlyList<Layer> Layers => graph.Layers;

        public Span<float> Parameters => graph.Parameters;

        public ReadOnlySpan<float> Gradients => graph.Gradients;

        public float LastLoss => graph.LastLoss;

        public void CopyParametersTo(Span<float> destination) => graph.CopyParametersTo(destination);

        public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs) => graph.Predict(inputs, outputs);

        public void ResetParameters(ulong seed) => graph.ResetParameters(seed);

        public void TrainStep(DeviceDataSet data, int start, int count, Optimizer optimizer) => graph.TrainStep(data, start, count, optimizer);

        public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Optimizer optimizer) => graph.TrainStep(inputs, labels, optimizer);

        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels) => graph.ComputeGradients(inputs, labels);

        public Evaluation Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize = 1000) => graph.Evaluate(inputs, labels, batchSize);

        public void Dispose() => graph.Dispose();
    }
}
