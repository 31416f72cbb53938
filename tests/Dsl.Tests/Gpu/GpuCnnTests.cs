using Dsl.Graphs;
using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// Convolutional networks on ILGPU's CPU simulator against the CPU backend, from the same initial parameters: the
/// two-dimensional image CNN (Conv2d, grouped Conv2d, MaxPool2d, AvgPool2d, global average pooling), the pooled Conv1d
/// network (MaxPool1d, a dilated Conv1d without bias, AvgPool1d, Tanh), the MNIST-1D CNN (the W2 workload, the
/// declaration of examples/Mnist1d's <c>--model cnn</c>), and a built network whose convolutions keep z (GELU, SiLU) and
/// whose convolution and pools add to gradients others wrote (residual branches). Outputs, the loss and every gradient,
/// then four Adam steps' losses and the parameters, and the evaluation after them.
/// </summary>
/// <remarks>
/// Tolerance as for the other graph networks: the GPU's direct convolutions sum in another order than the CPU's GEMMs,
/// so a step differs by float rounding; outputs, gradients and losses within 1e-4 and parameters within 2e-4 of the
/// larger of 1 and the largest CPU magnitude.
/// </remarks>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuCnnTests(GpuSimulatorFixture fixture)
{
    public static TheoryData<string> Networks => ["ImageCnn", "PooledCnn", "Mnist1dCnn", "ResidualConv"];

    [Theory]
    [MemberData(nameof(Networks))]
    public void A_cnn_predicts_differentiates_and_trains_on_the_gpu_as_on_the_cpu(string name)
    {
        using IClassifierNetwork cpu = Create(name, fixture.Cpu);
        using IClassifierNetwork gpu = Create(name, fixture.Simulator);
        Assert.True(gpu.Device.IsGpu);
        Assert.Equal(cpu.Parameters.ToArray(), gpu.Parameters.ToArray());

        const int Batch = 13;
        var random = new Random(name.Length);
        float[] inputs = TestData.Uniform(random, Batch * cpu.InputSize, -1, 1);
        int[] labels = [.. Enumerable.Range(0, Batch).Select(_ => random.Next(cpu.OutputSize))];

        var cpuOutputs = new float[Batch * cpu.OutputSize];
        var gpuOutputs = new float[cpuOutputs.Length];
        cpu.Predict(inputs, cpuOutputs);
        gpu.Predict(inputs, gpuOutputs);
        AssertClose(name + " outputs", cpuOutputs, gpuOutputs, 1e-4f);

        Assert.Equal(cpu.ComputeGradients(inputs, labels), gpu.ComputeGradients(inputs, labels), 1e-4f);
        float[] gradients = cpu.Gradients.ToArray();
        Assert.Contains(gradients, g => g != 0f);
        AssertClose(name + " gradients", gradients, gpu.Gradients.ToArray(), 1e-4f);

        var cpuOptimizer = new Adam(0.01f);
        var gpuOptimizer = new Adam(0.01f);
        for (int step = 0; step < 4; step++)
        {
            Assert.Equal(cpu.TrainStep(inputs, labels, cpuOptimizer), gpu.TrainStep(inputs, labels, gpuOptimizer), 1e-4f);
        }

        AssertClose(name + " parameters", cpu.Parameters.ToArray(), gpu.Parameters.ToArray(), 2e-4f);
        Assert.Equal(cpu.Evaluate(inputs, labels).Loss, gpu.Evaluate(inputs, labels).Loss, 1e-4);
    }

    private static IClassifierNetwork Create(string name, Device device) => name switch
    {
        "ImageCnn" => new ImageCnnNet(device, 3),
        "PooledCnn" => new PooledCnnNet(device, 4),
        "Mnist1dCnn" => new CnnNet(device, 5),
        "ResidualConv" => new Classifier(ResidualConv(device)),
        _ => throw new ArgumentException($"no network '{name}'", nameof(name)),
    };

    /// <summary>
    /// (2, 7, 6) -> Conv2d(4, 3x3, padding 1) GELU -> + Conv2d(4, 3x3, padding 1, groups 2, no bias) SiLU -> MaxPool2d(2)
    /// -> + 0.5 AvgPool2d(3, stride 1, padding 1) -> + MaxPool2d(3, stride 1, padding 1) -> flatten (36) -> Dense(3): each
    /// branch's first op adds its input's gradient to the skip's.
    /// </summary>
    private static GraphNetwork ResidualConv(Device device)
    {
        var builder = new GraphBuilder("ResidualConv", [2, 7, 6]);
        builder.Conv2d("Stem", 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, Init.TorchDefault, Fan.In, 0.01, Activation.Gelu, 0f, new Dsl.Ops.Gelu());
        builder.BeginResidual();
        builder.Conv2d("Branch", 4, 3, 3, 1, 1, 1, 1, 1, 1, 2, false, Init.TorchDefault, Fan.In, 0.01, Activation.Silu, 0f, new Dsl.Ops.Silu());
        builder.EndResidual(1f);
        builder.MaxPool("Pool", true, 2, 2, 2, 2, 0, 0, 1, 1);
        builder.BeginResidual();
        builder.AvgPool("Smooth", true, 3, 3, 1, 1, 1, 1);
        builder.EndResidual(0.5f);
        builder.BeginResidual();
        builder.MaxPool("Peak", true, 3, 3, 1, 1, 1, 1, 1, 1);
        builder.EndResidual(1f);
        builder.Flatten("Flat");
        builder.Dense("Head", 3, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        GraphNetwork network = builder.Build(device, Loss.SoftmaxCrossEntropy, 6, (4 * 2 * 9) + 4 + (4 * 2 * 9) + (36 * 3) + 3);
        Assert.Equal(3, network.Plan.Split('\n').Count(line => line.Contains("adds to", StringComparison.Ordinal)));
        return network;
    }

    /// <summary>Elementwise |a - b| within <paramref name="tolerance"/> times the larger of 1 and the largest |expected|.</summary>
    private static void AssertClose(string what, float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = Math.Max(1f, expected.Length == 0 ? 0f : expected.Max(MathF.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{what}[{i}]: CPU {expected[i]}, GPU {actual[i]}");
        }
    }

    /// <summary>A built graph network seen as the generated classifiers are.</summary>
    private sealed class Classifier(GraphNetwork network) : IClassifierNetwork
    {
        public Device Device => network.Device;

        public int ParameterCount => network.ParameterCount;

        public int InputSize => network.InputSize;

        public int OutputSize => network.OutputSize;

        public ReadOnlySpan<int> InputShape => network.InputShape;

        public ReadOnlySpan<int> OutputShape => network.OutputShape;

        public IReadOnlyList<Layer> Layers => network.Layers;

        public Span<float> Parameters => network.Parameters;

        public ReadOnlySpan<float> Gradients => network.Gradients;

        public float LastLoss => network.LastLoss;

        public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs) => network.Predict(inputs, outputs);

        public void ResetParameters(ulong seed) => network.ResetParameters(seed);

        public void TrainStep(DeviceDataSet data, int start, int count, Optimizer optimizer) => network.TrainStep(data, start, count, optimizer);

        public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Optimizer optimizer) => network.TrainStep(inputs, labels, optimizer);

        public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels) => network.ComputeGradients(inputs, labels);

        public Evaluation Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize = 1000) => network.Evaluate(inputs, labels, batchSize);

        public void Dispose() => network.Dispose();
    }
}
