using System.Reflection;
using Dsl.Gpu;
using Dsl.Graphs;
using Dsl.Tests.Graphs;
using Dsl.Tests.Networks;
using Dsl.Training;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// Graph networks (residuals, norms, dropout, standalone activations) on ILGPU's CPU simulator against the CPU backend:
/// each op's kernels against the CPU op on odd shapes, whole networks' outputs, gradients and Adam steps from the same
/// parameters, batch norms' running statistics, the CPU's dropout masks bit for bit, and every new kernel compiled to PTX
/// without external calls.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuGraphTests(GpuSimulatorFixture fixture)
{
    public static TheoryData<string> Graphs => ["ResidualMlp", "PreNormStack", "RmsSiluTanh", "Regression", "Nested"];

    [Theory]
    [MemberData(nameof(Graphs))]
    public void A_graph_predicts_differentiates_and_trains_on_the_gpu_as_on_the_cpu(string name)
    {
        (GraphNetworkTests.GraphSpec spec, Loss loss) = GraphNetworkTests.GraphSpec.Named(name);
        using GraphNetwork cpu = spec.Build(fixture.Cpu, loss, seed: 3);
        using GraphNetwork gpu = spec.Build(fixture.Simulator, loss, seed: 3);
        Assert.False(gpu.IsFused);
        GraphNetworkTests.Problem problem = GraphNetworkTests.Problem.Draw(spec, loss, batch: 11, dataSeed: 4);
        AssertSameTraining(name, cpu, gpu, problem, new Adam(0.01f), new Adam(0.01f));
    }

    [Fact]
    public void Dropout_draws_the_cpu_s_masks_on_the_gpu()
    {
        GraphNetworkTests.GraphSpec spec = GraphNetworkTests.GraphSpec.Dropouts(0.5f, 0.25f);
        using GraphNetwork cpu = spec.Build(fixture.Cpu, Loss.SoftmaxCrossEntropy, seed: 13);
        using GraphNetwork gpu = spec.Build(fixture.Simulator, Loss.SoftmaxCrossEntropy, seed: 13);
        GraphNetworkTests.Problem problem = GraphNetworkTests.Problem.Draw(spec, Loss.SoftmaxCrossEntropy, batch: 11, dataSeed: 14);
        AssertSameTraining("Dropouts", cpu, gpu, problem, new Sgd(0.1f), new Sgd(0.1f));
    }

    [Fact]
    public void A_generated_residual_network_with_dropout_trains_on_the_gpu_as_on_the_cpu()
    {
        using var cpu = new PlanNet(fixture.Cpu, seed: 5);
        using var gpu = new PlanNet(fixture.Simulator, seed: 5);
        (float[] inputs, int[] labels) = TestData.Classification(9, cpu.InputSize, seed: 6);
        labels = [.. labels.Select(label => label % cpu.OutputSize)];
        var cpuOptimizer = new AdamW(0.01f);
        var gpuOptimizer = new AdamW(0.01f);
        for (int step = 0; step < 4; step++)
        {
            Assert.Equal(cpu.TrainStep(inputs, labels, cpuOptimizer), gpu.TrainStep(inputs, labels, gpuOptimizer), 1e-4f);
        }

        AssertClose("PlanNet parameters", cpu.Parameters.ToArray(), gpu.Parameters.ToArray(), 1e-4f);
        Assert.Equal(cpu.Evaluate(inputs, labels).Loss, gpu.Evaluate(inputs, labels).Loss, 1e-4);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_batch_norm_trains_on_the_gpu_as_on_the_cpu_with_its_running_statistics(bool affine)
    {
        using GraphNetwork cpu = BatchNormed(fixture.Cpu, affine);
        using GraphNetwork gpu = BatchNormed(fixture.Simulator, affine);
        (float[] inputs, int[] labels) = TestData.Classification(13, cpu.InputSize, seed: 21);
        labels = [.. labels.Select(label => label % cpu.OutputSize)];
        var cpuOptimizer = new Adam(0.01f);
        var gpuOptimizer = new Adam(0.01f);
        for (int step = 0; step < 4; step++)
        {
            Assert.Equal(cpu.TrainStep(inputs, labels, cpuOptimizer), gpu.TrainStep(inputs, labels, gpuOptimizer), 1e-4f);
        }

        AssertClose("parameters", cpu.Parameters.ToArray(), gpu.Parameters.ToArray(), 1e-4f);
        float[] running = cpu.State.ToArray();
        Assert.NotEqual(0f, running[0]); // moved by the steps
        AssertClose("running statistics", running, gpu.State.ToArray(), 1e-5f);
        Layer norm = gpu.Layers.Single(layer => layer.Kind == LayerKind.BatchNorm);
        AssertClose("running mean", cpu.Layers.Single(layer => layer.Kind == LayerKind.BatchNorm).RunningMean.ToArray(), norm.RunningMean.ToArray(), 1e-5f);

        // Evaluation normalises by the running statistics on both.
        Assert.Equal(cpu.Evaluate(inputs, labels).Loss, gpu.Evaluate(inputs, labels).Loss, 1e-4);

        // A host write to the running statistics reaches the device before its next use.
        cpu.State.Fill(0.5f);
        gpu.State.Fill(0.5f);
        Assert.Equal(cpu.Evaluate(inputs, labels).Loss, gpu.Evaluate(inputs, labels).Loss, 1e-4);

        // A training batch of one is refused, as on the CPU, before anything changes.
        float[] before = gpu.Parameters.ToArray();
        Assert.Throws<ShapeMismatchException>(() => gpu.TrainStep(inputs.AsSpan(0, gpu.InputSize), labels.AsSpan(0, 1), gpuOptimizer));
        Assert.Equal(before, gpu.Parameters.ToArray());
    }

    private static GraphNetwork BatchNormed(Device device, bool affine)
    {
        var builder = new GraphBuilder("Normed", [5]);
        builder.Dense("Hidden", 7, true, Init.He, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        builder.BatchNorm("Norm", 1e-5f, 0.1f, affine);
        builder.EnterBlock("Body");
        builder.BeginResidual();
        builder.Dense("Up", 7, true, Init.He, Fan.In, 0.01, Activation.Tanh, 0f, new Dsl.Ops.Tanh());
        builder.EndResidual(1f);
        builder.ExitBlock();
        builder.Dense("Head", 3, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        return builder.Build(device, Loss.SoftmaxCrossEntropy, 1, (5 * 7) + 7 + (affine ? 14 : 0) + (7 * 7) + 7 + (7 * 3) + 3);
    }

    [Theory]
    [InlineData(7, 13, true, false)]
    [InlineData(5, 33, false, true)]
    public void Layer_norm_kernels_match_the_cpu_op(int rows, int features, bool affine, bool accumulate)
    {
        var random = new Random(rows * features);
        float[] x = Draw(random, rows * features);
        float[] dy = Draw(random, rows * features);
        float[] gain = affine ? Draw(random, features) : [];
        float[] bias = affine ? Draw(random, features) : [];
        float[] dxStart = Draw(random, rows * features);

        var y = new float[rows * features];
        var mean = new float[rows];
        var rstd = new float[rows];
        Dsl.Ops.LayerNorm.Forward(y, mean, rstd, x, gain, bias, rows, features, 1e-5f);
        float[] dx = [.. dxStart];
        var dGain = new float[gain.Length];
        var dBias = new float[bias.Length];
        Dsl.Ops.LayerNorm.Backward(dx, dGain, dBias, dy, x, mean, rstd, gain, new float[2 * features], rows, features, accumulate);

        AcceleratorStream stream = fixture.Gpu.Accelerator.DefaultStream;
        using var gx = Upload(x);
        using var gdy = Upload(dy);
        using var ggain = Upload(gain);
        using var gbias = Upload(bias);
        using var gy = new DeviceBuffer<float>(fixture.Gpu, rows * features);
        using var gmean = new DeviceBuffer<float>(fixture.Gpu, rows);
        using var grstd = new DeviceBuffer<float>(fixture.Gpu, rows);
        using var gdx = Upload(dxStart);
        using var gdGain = new DeviceBuffer<float>(fixture.Gpu, gain.Length);
        using var gdBias = new DeviceBuffer<float>(fixture.Gpu, bias.Length);
        var norm = new GpuLayerNorm(fixture.Gpu);
        norm.Forward(stream, gy.View, gmean.View, grstd.View, gx.View, ggain.View, gbias.View, rows, features, 1e-5f);
        norm.Backward(stream, gdx.View, gdGain.View, gdBias.View, gdy.View, gx.View, gmean.View, grstd.View, ggain.View, rows, features, accumulate);

        AssertClose("y", y, Download(gy), 1e-5f);
        AssertClose("rstd", rstd, Download(grstd), 1e-5f);
        AssertClose("dx", dx, Download(gdx), 1e-5f);
        AssertClose("dGain", dGain, Download(gdGain), 1e-5f);
        AssertClose("dBias", dBias, Download(gdBias), 1e-5f);
    }

    [Theory]
    [InlineData(7, 13, true, true)]
    [InlineData(9, 5, false, false)]
    public void Rms_norm_kernels_match_the_cpu_op(int rows, int features, bool affine, bool accumulate)
    {
        var random = new Random(rows + features);
        float[] x = Draw(random, rows * features);
        float[] dy = Draw(random, rows * features);
        float[] gain = affine ? Draw(random, features) : [];
        float[] dxStart = Draw(random, rows * features);
        var y = new float[rows * features];
        var rrms = new float[rows];
        Dsl.Ops.RmsNorm.Forward(y, rrms, x, gain, rows, features, 1e-6f);
        float[] dx = [.. dxStart];
        var dGain = new float[gain.Length];
        Dsl.Ops.RmsNorm.Backward(dx, dGain, dy, x, rrms, gain, new float[features], rows, features, accumulate);

        AcceleratorStream stream = fixture.Gpu.Accelerator.DefaultStream;
        using var gx = Upload(x);
        using var gdy = Upload(dy);
        using var ggain = Upload(gain);
        using var gy = new DeviceBuffer<float>(fixture.Gpu, rows * features);
        using var grrms = new DeviceBuffer<float>(fixture.Gpu, rows);
        using var gdx = Upload(dxStart);
        using var gdGain = new DeviceBuffer<float>(fixture.Gpu, gain.Length);
        var norm = new GpuRmsNorm(fixture.Gpu);
        norm.Forward(stream, gy.View, grrms.View, gx.View, ggain.View, rows, features, 1e-6f);
        norm.Backward(stream, gdx.View, gdGain.View, gdy.View, gx.View, grrms.View, ggain.View, rows, features, accumulate);

        AssertClose("y", y, Download(gy), 1e-5f);
        AssertClose("dx", dx, Download(gdx), 1e-5f);
        AssertClose("dGain", dGain, Download(gdGain), 1e-5f);
    }

    [Theory]
    [InlineData(0.5f, 3L)]
    [InlineData(0.1f, 12345L)]
    public void Dropout_kernels_apply_the_cpu_s_mask_bit_for_bit(float probability, long step)
    {
        const int Rows = 9;
        const int Features = 37;
        const ulong Seed = 0xABCDEF;
        var random = new Random(7);
        float[] x = Draw(random, Rows * Features);
        float[] dStart = Draw(random, Rows * Features);
        var y = new float[x.Length];
        Dsl.Ops.Dropout.Forward(y, x, Rows, Features, 0, probability, Seed, step);
        float[] dx = [.. dStart];
        Dsl.Ops.Dropout.Backward(dx, x, Rows, Features, 0, probability, Seed, step, accumulate: true);

        AcceleratorStream stream = fixture.Gpu.Accelerator.DefaultStream;
        using var gx = Upload(x);
        using var gy = new DeviceBuffer<float>(fixture.Gpu, x.Length);
        using var gdx = Upload(dStart);
        var dropout = new GpuDropout(fixture.Gpu);
        dropout.Forward(stream, gy.View, gx.View, x.Length, probability, Seed, step);
        dropout.Backward(stream, gdx.View, gx.View, x.Length, probability, Seed, step, accumulate: true);

        Assert.Equal(y, Download(gy));
        Assert.Equal(dx, Download(gdx));
        Assert.Contains(0f, y);
    }

    [Fact]
    public void Residual_add_kernels_match_the_cpu_op()
    {
        var random = new Random(11);
        float[] skip = Draw(random, 53);
        float[] branch = Draw(random, 53);
        float[] dy = Draw(random, 53);
        float[] dSkipStart = Draw(random, 53);
        var y = new float[53];
        Dsl.Ops.ResidualAdd.Forward(y, skip, branch, 0.5f);
        float[] dSkip = [.. dSkipStart];
        var dBranch = new float[53];
        Dsl.Ops.ResidualAdd.Backward(dSkip, dBranch, dy, 0.5f, accumulateSkip: true);

        AcceleratorStream stream = fixture.Gpu.Accelerator.DefaultStream;
        using var gskip = Upload(skip);
        using var gbranch = Upload(branch);
        using var gdy = Upload(dy);
        using var gy = new DeviceBuffer<float>(fixture.Gpu, 53);
        using var gdSkip = Upload(dSkipStart);
        using var gdBranch = new DeviceBuffer<float>(fixture.Gpu, 53);
        var add = new GpuResidualAdd(fixture.Gpu);
        add.Forward(stream, gy.View, gskip.View, gbranch.View, 0.5f, 53);
        add.Backward(stream, gdSkip.View, gdBranch.View, gdy.View, 0.5f, accumulateSkip: true, 53);

        AssertClose("y", y, Download(gy), 1e-6f);
        AssertClose("dSkip", dSkip, Download(gdSkip), 1e-6f);
        AssertClose("dBranch", dBranch, Download(gdBranch), 1e-6f);
    }

    public static TheoryData<Type, string> Kernels => new()
    {
        { typeof(GpuBatchNorm), "TrainingKernel" },
        { typeof(GpuBatchNorm), "EvaluationKernel" },
        { typeof(GpuBatchNorm), "BackwardKernel" },
        { typeof(GpuBatchNorm), "RunningKernel" },
        { typeof(GpuLayerNorm), "ForwardKernel" },
        { typeof(GpuLayerNorm), "BackwardRowsKernel" },
        { typeof(GpuLayerNorm), "BackwardFeaturesKernel" },
        { typeof(GpuRmsNorm), "ForwardKernel" },
        { typeof(GpuRmsNorm), "BackwardRowsKernel" },
        { typeof(GpuRmsNorm), "BackwardFeaturesKernel" },
        { typeof(GpuDropout), "ApplyKernel" },
        { typeof(GpuResidualAdd), "ForwardKernel" },
        { typeof(GpuResidualAdd), "BackwardKernel" },
        { typeof(GpuScale), "Kernel" },
        { typeof(GpuActivationForward<GpuGelu>), "Kernel" },
        { typeof(GpuActivationForward<GpuSilu>), "Kernel" },
        { typeof(GpuActivationForward<GpuRelu>), "Kernel" },
        { typeof(GpuActivationForward<GpuTanh>), "Kernel" },
        { typeof(GpuConvolution), "ForwardKernel" },
        { typeof(GpuConvolution), "WeightGradientKernel" },
        { typeof(GpuConvolution), "BiasGradientKernel" },
        { typeof(GpuConvolution), "InputGradientKernel" },
        { typeof(GpuMaxPool), "ForwardKernel" },
        { typeof(GpuMaxPool), "BackwardKernel" },
        { typeof(GpuAvgPool), "ForwardKernel" },
        { typeof(GpuAvgPool), "BackwardKernel" },
        { typeof(GpuGlobalAvgPool), "ForwardKernel" },
        { typeof(GpuGlobalAvgPool), "BackwardKernel" },
    };

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Graph_kernels_compile_to_ptx_without_external_calls(Type owner, string kernel)
    {
        MethodInfo method = owner.GetMethod(kernel, BindingFlags.NonPublic | BindingFlags.Static)!;
        GpuPtxAssert.CompilesWithoutExternalCalls(method, explicitlyGrouped: false);
    }

    /// <summary>Outputs, gradients, then four optimizer steps' losses and the parameters, from the same initial parameters.</summary>
    private static void AssertSameTraining(string name, GraphNetwork cpu, GraphNetwork gpu, GraphNetworkTests.Problem problem, Optimizer cpuOptimizer, Optimizer gpuOptimizer)
    {
        Assert.Equal(cpu.Parameters.ToArray(), gpu.Parameters.ToArray());
        var cpuOutputs = new float[problem.Batch * cpu.OutputSize];
        var gpuOutputs = new float[cpuOutputs.Length];
        cpu.Predict(problem.InputsFloat, cpuOutputs);
        gpu.Predict(problem.InputsFloat, gpuOutputs);
        AssertClose(name + " outputs", cpuOutputs, gpuOutputs, 1e-4f);

        Assert.Equal(problem.ComputeGradients(cpu), problem.ComputeGradients(gpu), 1e-4f);
        AssertClose(name + " gradients", cpu.Gradients.ToArray(), gpu.Gradients.ToArray(), 1e-4f);
        for (int step = 0; step < 4; step++)
        {
            Assert.Equal(Train(cpu, problem, cpuOptimizer), Train(gpu, problem, gpuOptimizer), 1e-4f);
        }

        AssertClose(name + " parameters", cpu.Parameters.ToArray(), gpu.Parameters.ToArray(), 1e-4f);
        Assert.Equal(problem.Evaluate(cpu), problem.Evaluate(gpu), 1e-4);
    }

    private static float Train(GraphNetwork network, GraphNetworkTests.Problem problem, Optimizer optimizer)
        => problem.Loss == Loss.SoftmaxCrossEntropy
            ? network.TrainStep(problem.InputsFloat, problem.Labels, optimizer)
            : network.TrainStep(problem.InputsFloat, problem.TargetsFloat, optimizer);

    /// <summary>Elementwise |a - b| within <paramref name="tolerance"/> times the larger of 1 and the largest |a|.</summary>
    private static void AssertClose(string what, float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = Math.Max(1f, expected.Length == 0 ? 0f : expected.Max(MathF.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{what}[{i}]: CPU {expected[i]}, GPU {actual[i]}");
        }
    }

    private static float[] Draw(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 4) - 2))];

    private DeviceBuffer<float> Upload(float[] values)
    {
        var buffer = new DeviceBuffer<float>(fixture.Gpu, values.Length);
        buffer.Upload(fixture.Gpu.Accelerator.DefaultStream, values);
        return buffer;
    }

    private float[] Download(DeviceBuffer<float> buffer)
    {
        var values = new float[buffer.Length];
        buffer.Download(fixture.Gpu.Accelerator.DefaultStream, values);
        return values;
    }
}
