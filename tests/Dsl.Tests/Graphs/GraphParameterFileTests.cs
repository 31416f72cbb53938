using Dsl.Graphs;
using Dsl.IO;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Graphs;

/// <summary>Parameter files and checkpoints of graph networks: a round trip without state, a refusal with a batch norm.</summary>
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
        Assert.Equal(2u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(file.ToArray().AsSpan(8))); // not dense alone: version 2
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
    public void A_network_with_a_batch_norm_is_refused_by_parameter_files_and_checkpoints_and_left_unchanged()
    {
        using GraphNetwork network = Residual(seed: 1, batchNorm: true);
        float[] before = network.Parameters.ToArray();
        var wrapper = new Wrapper(network);
        NotSupportedException save = Assert.Throws<NotSupportedException>(() => ParameterFile.Save(wrapper, new MemoryStream()));
        Assert.Contains("'Norm' is a batch norm", save.Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => ParameterFile.Load(wrapper, new MemoryStream(new byte[64])));
        Assert.Throws<NotSupportedException>(() => TrainingCheckpoint.Save(wrapper, new Adam(), new MemoryStream()));
        Assert.Throws<NotSupportedException>(() => TrainingCheckpoint.Load(wrapper, new Adam(), new MemoryStream(new byte[64])));
        Assert.Equal(before, network.Parameters.ToArray());
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

    private static float[] Predict(GraphNetwork network, float[] inputs)
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
