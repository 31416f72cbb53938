using System.Reflection;
using Dsl.Gpu;
using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The generated GPU path, run on ILGPU's CPU simulator: every test network trains ten steps on the GPU
/// path, layer by layer and fully fused, and must agree with the CPU backend. Also the host/device
/// bookkeeping (parameters written on the host reach the device, gradients come back when read), device-
/// resident data sets, and input checks that leave the state untouched.
/// </summary>
/// <remarks>
/// Tolerance: the GPU kernels sum in another order than the CPU GEMM (tiles; tiles then slots in the fused kernel),
/// and the PTX assembler may contract a * b + c differently, so single steps differ by float32 rounding
/// (about 1e-6 relative). Over ten Adam steps (whose normalised update amplifies tiny gradient differences
/// where a gradient is near zero) we require every parameter within 2e-4 of the CPU's, relative to the
/// largest parameter of the network, and every loss within 1e-4 relative.
/// </remarks>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuNetworkTests
{
    private readonly Device _gpu;
    private readonly Device _cpu;

    public GpuNetworkTests(GpuSimulatorFixture fixture)
    {
        _gpu = fixture.Simulator;
        _cpu = fixture.Cpu;
    }

    public static TheoryData<string, string> Networks()
    {
        var data = new TheoryData<string, string>();
        foreach (string network in new[] { "NetA", "NetB", "NetC", "InitZoo", "ActivatedLogits", "Logistic", "Mnist1dMlp" })
        {
            data.Add(network, "0");
            data.Add(network, "1");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Ten_training_steps_agree_with_the_cpu_backend(string name, string fused)
    {
        INetwork cpu = Create(name, _cpu);
        INetwork gpu = FusedSequence.With(fused, () => Create(name, _gpu));
        Assert.Equal(cpu.Parameters.ToArray(), gpu.Parameters.ToArray());

        const int batch = 37; // several tiles of the fused kernel, the last one partial
        float[] inputs = TrainTenStepsOnBoth(cpu, gpu, new Adam(0.01f), new Adam(0.01f), new Random(name.Length + (fused == "1" ? 100 : 0)), batch);

        float[] cpuOut = new float[batch * cpu.OutputSize];
        float[] gpuOut = new float[batch * cpu.OutputSize];
        cpu.Predict(inputs, cpuOut);
        gpu.Predict(inputs, gpuOut);
        AssertClose(cpuOut, gpuOut, 1e-4, "predictions");
        gpu.Dispose();
    }

    public static TheoryData<string> Optimizers() => ["sgd", "sgd-nesterov-decay", "adam-decay", "adamw"];

    /// <summary>
    /// Layer by layer the optimizer's update runs inside the weight-gradient GEMMs and bias reductions; ten steps with
    /// each optimizer kind agree with the CPU backend (its host optimizer) as in the Adam test above.
    /// </summary>
    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Layered_steps_with_the_update_fused_agree_with_the_cpu_backend(string optimizer)
    {
        INetwork cpu = Create("NetB", _cpu);
        INetwork gpu = FusedSequence.With("0", () => Create("NetB", _gpu));
        Optimizer gpuOptimizer = CreateOptimizer(optimizer);
        TrainTenStepsOnBoth(cpu, gpu, CreateOptimizer(optimizer), gpuOptimizer, new Random(optimizer.Length), batch: 23);
        Assert.Equal(10, gpuOptimizer.StepCount);
        gpu.Dispose();
    }

    /// <summary>
    /// The layer-by-layer sequence with every GEMM on the 128 x 128 kernel (DSL_GPU_GEMM_TILE=wide; on the simulator
    /// the default is the 64 x 64 one): ten Adam steps agree with the CPU backend as above, every epilogue included.
    /// </summary>
    [Theory]
    [InlineData("Mnist1dMlp")]
    [InlineData("ActivatedLogits")]
    public void Layered_steps_on_the_wide_gemm_agree_with_the_cpu_backend(string name)
    {
        INetwork cpu = Create(name, _cpu);
        string? saved = Environment.GetEnvironmentVariable(GemmTileSelection.EnvironmentVariable);
        INetwork gpu;
        try
        {
            Environment.SetEnvironmentVariable(GemmTileSelection.EnvironmentVariable, "wide");
            gpu = FusedSequence.With("0", () => Create(name, _gpu));
        }
        finally
        {
            Environment.SetEnvironmentVariable(GemmTileSelection.EnvironmentVariable, saved);
        }

        TrainTenStepsOnBoth(cpu, gpu, new Adam(0.01f), new Adam(0.01f), new Random(name.Length + 500), batch: 37);
        gpu.Dispose();

        // The wide kernel ran: a ReLU forward instantiation of it is loaded (no GEMM test uses that epilogue), specialised
        // on one of the network's generated width structs.
        Assert.Contains(_gpu.Gpu!.LoadedKernels, kernel =>
            kernel.IsGenericMethod
            && kernel.GetGenericMethodDefinition() == typeof(GpuGemm).GetMethod(nameof(GpuGemm.WideKernel), BindingFlags.NonPublic | BindingFlags.Static)
            && kernel.GetGenericArguments()[3] == typeof(BiasActivationEpilogue<GpuRelu>)
            && ConstantWidths(kernel.GetGenericArguments()[2], typeof(DenseForwardSizes<>)) is not null);
    }

    /// <summary>
    /// Every layer-by-layer GEMM a generated network launches is specialised on that layer's widths as constants: after
    /// a step, each loaded dense GEMM's sizes type is the forward, input-gradient or weight-gradient sizes of a width
    /// struct nested in the network, and those structs hold exactly the declared layers' (fanIn, units).
    /// </summary>
    [Fact]
    public void Layered_gemms_are_specialised_on_each_layers_widths_as_constants()
    {
        using Device gpu = Device.GpuSimulator(); // its own kernel cache: only this network's kernels
        var random = new Random(23);
        using var model = FusedSequence.With("0", () => new Mnist1dMlp(gpu, 1));
        model.TrainStep(RandomFloats(random, 5 * 40), RandomLabels(random, 5, 10), new Sgd(0.1f));
        model.Predict(RandomFloats(random, 3 * 40), new float[3 * 10]);

        var seen = new HashSet<(Type Role, int FanIn, int Units)>();
        foreach (MethodInfo kernel in gpu.Gpu!.LoadedKernels.Where(k => k.IsGenericMethod && k.DeclaringType == typeof(GpuGemm)))
        {
            Type sizes = kernel.GetGenericArguments()[2];
            Type role = sizes.GetGenericTypeDefinition();
            var widths = ConstantWidths(sizes, role);
            Assert.NotNull(widths);
            Assert.Equal(typeof(Mnist1dMlp), widths!.Value.Type.DeclaringType!.DeclaringType);
            seen.Add((role, widths.Value.Widths.FanIn, widths.Value.Widths.Units));

            // The kernel as CUDA gets it (the network's private width struct, the real epilogue): it compiles, and only
            // the batch is read from the launch.
            string ptx = GpuPtxAssert.CompilesWithoutExternalCalls(kernel, explicitlyGrouped: true);
            Assert.Equal([role == typeof(DenseWeightGradientSizes<>) ? "K" : "M"], GpuGemmTests.LaunchFieldsRead(ptx));
        }

        // 40-100-100-10: three forwards and three weight gradients; input gradients for the two layers after the first.
        var expected = new HashSet<(Type, int, int)>
        {
            (typeof(DenseForwardSizes<>), 40, 100), (typeof(DenseForwardSizes<>), 100, 100), (typeof(DenseForwardSizes<>), 100, 10),
            (typeof(DenseWeightGradientSizes<>), 40, 100), (typeof(DenseWeightGradientSizes<>), 100, 100), (typeof(DenseWeightGradientSizes<>), 100, 10),
            (typeof(DenseInputGradientSizes<>), 100, 100), (typeof(DenseInputGradientSizes<>), 100, 10),
        };
        Assert.Equal(expected, seen);
    }

    /// <summary>The constant widths struct inside <paramref name="sizes"/> when it is <paramref name="role"/> of one, else null.</summary>
    private static (Type Type, IDenseWidths Widths)? ConstantWidths(Type sizes, Type role)
    {
        if (!sizes.IsGenericType || sizes.GetGenericTypeDefinition() != role)
        {
            return null;
        }

        Type widthsType = sizes.GetGenericArguments()[0];
        var widths = (IDenseWidths)Activator.CreateInstance(widthsType)!;
        return widths.AreConstant ? (widthsType, widths) : null;
    }

    /// <summary>
    /// No kernel of either sequence uses atomics or an order that depends on scheduling, so two networks trained
    /// on the same data end with the same bits (37 rows: several fused tiles and GEMM tiles).
    /// </summary>
    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    public void Training_on_the_gpu_repeats_bit_for_bit(string fused)
    {
        var random = new Random(11);
        float[] x = RandomFloats(random, 37 * 7);
        int[] y = RandomLabels(random, 37, 5);
        float[][] results = new float[2][];
        for (int run = 0; run < 2; run++)
        {
            using NetA model = FusedSequence.With(fused, () => new NetA(_gpu, 1));
            var adam = new Adam(0.01f);
            for (int step = 0; step < 3; step++)
            {
                model.TrainStep(x, y, adam);
            }

            results[run] = model.Parameters.ToArray();
        }

        Assert.Equal(results[0], results[1]);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    public void A_training_step_launches_no_separate_update(string fused)
    {
        using Device simulator = Device.GpuSimulator(); // its own accelerator: an empty kernel cache
        GpuAccelerator accelerator = simulator.Gpu!;
        var random = new Random(8);
        float[] x = RandomFloats(random, 9 * 7);
        int[] y = RandomLabels(random, 9, 5);
        var adam = new Adam(0.01f);

        using (NetA model = FusedSequence.With(fused, () => new NetA(simulator, 1)))
        {
            Assert.Equal(fused == "1", accelerator.HasLoaded(FusedTrainKernel));
            model.TrainStep(x, y, adam);
            model.TrainStep(x, y, new Sgd(0.1f, momentum: 0.9f));
        }

        Assert.Equal(1, adam.StepCount);
        Action<ILGPU.Index1D, ILGPU.ArrayView<float>, AdamUpdate> adamUpdate = GpuOptimizerKernels.UpdateKernel;
        Action<ILGPU.Index1D, ILGPU.ArrayView<float>, SgdUpdate> sgdUpdate = GpuOptimizerKernels.UpdateKernel;
        Assert.False(accelerator.HasLoaded(adamUpdate));
        Assert.False(accelerator.HasLoaded(sgdUpdate));

        // The kernel is there for Optimizer.Step's own callers.
        using var parameters = accelerator.Accelerator.Allocate1D<float>(3);
        adam.Reset();
        adam.Step(accelerator, accelerator.Accelerator.DefaultStream, parameters.View, parameters.View);
        Assert.True(accelerator.HasLoaded(adamUpdate));
    }

    private static readonly Delegate FusedTrainKernel =
        (Action<ILGPU.Runtime.SpecializedValue<FusedMlpPlan>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<int>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int, int>)FusedMlp.TrainKernel;

    private static Optimizer CreateOptimizer(string name) => name switch
    {
        "sgd" => new Sgd(0.1f),
        "sgd-nesterov-decay" => new Sgd(0.05f, 0.9f, nesterov: true, weightDecay: 0.01f),
        "adam-decay" => new Adam(0.01f, weightDecay: 0.05f),
        "adamw" => new AdamW(0.01f, weightDecay: 0.1f),
        _ => throw new ArgumentException(name),
    };

    [Fact]
    public void Both_gpu_sequences_are_available_and_chosen_by_the_variable()
    {
        // The fused kernel takes small networks; DSL_GPU_FUSED=0 forces the layer-by-layer kernels.
        var layered = FusedSequence.With("0", () => new Mnist1dMlp(_gpu));
        var fused = FusedSequence.With("1", () => new Mnist1dMlp(_gpu));
        var random = new Random(9);
        float[] x = RandomFloats(random, 5 * 40);
        int[] y = RandomLabels(random, 5, 10);
        float layeredLoss = layered.ComputeGradients(x, y);
        float fusedLoss = fused.ComputeGradients(x, y);
        Assert.Equal(layeredLoss, fusedLoss, 1e-5f);
        AssertClose(layered.Gradients.ToArray(), fused.Gradients.ToArray(), 1e-5, "gradients, layered vs fused");
    }

    [Fact]
    public void Evaluate_on_the_gpu_matches_the_cpu()
    {
        var cpu = new NetA(_cpu);
        var gpu = new NetA(_gpu);
        var random = new Random(4);
        float[] x = RandomFloats(random, 53 * 7);
        int[] y = RandomLabels(random, 53, 5);
        Evaluation expected = cpu.Evaluate(x, y, batchSize: 20);
        Evaluation actual = gpu.Evaluate(x, y, batchSize: 20);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Accuracy, actual.Accuracy);
        Assert.Equal(expected.Loss, actual.Loss, 1e-5);

        var cpuRegression = new NetC(_cpu);
        var gpuRegression = new NetC(_gpu);
        float[] xr = RandomFloats(random, 21 * 5);
        float[] t = RandomFloats(random, 21 * 3);
        Assert.Equal(cpuRegression.Evaluate(xr, t, 8).Loss, gpuRegression.Evaluate(xr, t, 8).Loss, 1e-5);
    }

    [Fact]
    public void Parameters_written_on_the_host_reach_the_device()
    {
        var cpu = new NetA(_cpu);
        var gpu = new NetA(_gpu);
        var random = new Random(5);
        float[] x = RandomFloats(random, 9 * 7);
        int[] y = RandomLabels(random, 9, 5);
        gpu.TrainStep(x, y, new Sgd(0.1f)); // the device copy is now the newer one

        // Copy the GPU's trained parameters into the CPU model, then overwrite one weight through a layer view on both.
        gpu.Parameters.CopyTo(cpu.Parameters);
        cpu.Second.Weight[3] = 0.5f;
        gpu.Second.Weight[3] = 0.5f;
        float[] expected = new float[9 * 5];
        float[] actual = new float[9 * 5];
        cpu.Predict(x, expected);
        gpu.Predict(x, actual);
        AssertClose(expected, actual, 1e-5, "predictions after a host write");

        gpu.ResetParameters(3);
        cpu.ResetParameters(3);
        gpu.Predict(x, actual);
        cpu.Predict(x, expected);
        AssertClose(expected, actual, 1e-5, "predictions after ResetParameters");
    }

    [Fact]
    public void Device_resident_steps_equal_host_steps_and_the_loss_is_read_on_demand()
    {
        var random = new Random(6);
        float[] x = RandomFloats(random, 40 * 7);
        int[] y = RandomLabels(random, 40, 5);
        using DeviceDataSet data = DeviceDataSet.ForClassification(_gpu, x, y, inputSize: 7, classes: 5);
        var resident = new NetA(_gpu);
        var host = new NetA(_gpu);
        Assert.True(float.IsNaN(resident.LastLoss));
        var residentOptimizer = new Sgd(0.05f, momentum: 0.9f);
        var hostOptimizer = new Sgd(0.05f, momentum: 0.9f);
        for (int step = 0; step < 4; step++)
        {
            int start = step * 10;
            resident.TrainStep(data, start, 10, residentOptimizer);
            float hostLoss = host.TrainStep(x.AsSpan(start * 7, 70), y.AsSpan(start, 10), hostOptimizer);
            Assert.Equal(hostLoss, resident.LastLoss); // the same kernels on the same rows: the same bits
        }

        Assert.Equal(host.Parameters.ToArray(), resident.Parameters.ToArray()); // deterministic kernels: the same bits

        // Evaluating or predicting in between does not change what LastLoss reports.
        float last = resident.LastLoss;
        resident.Evaluate(x, y, batchSize: 25);
        resident.Predict(x.AsSpan(0, 7 * 3), new float[5 * 3]);
        Assert.Equal(last, resident.LastLoss);

        // On the CPU backend the same call trains on the host arrays.
        using DeviceDataSet cpuData = DeviceDataSet.ForClassification(_cpu, x, y, 7, 5);
        var cpu = new NetA(_cpu);
        cpu.TrainStep(cpuData, 0, 10, new Sgd(0.05f));
        Assert.False(float.IsNaN(cpu.LastLoss));
    }

    [Fact]
    public void Bad_device_resident_requests_are_refused_before_anything_changes()
    {
        var random = new Random(7);
        float[] x = RandomFloats(random, 12 * 7);
        int[] y = RandomLabels(random, 12, 5);
        y[3] = 5;
        Assert.Throws<LabelOutOfRangeException>(() => DeviceDataSet.ForClassification(_gpu, x, y, 7, 5));
        y[3] = 0;

        using DeviceDataSet data = DeviceDataSet.ForClassification(_gpu, x, y, 7, 5);
        using DeviceDataSet onCpu = DeviceDataSet.ForClassification(_cpu, x, y, 7, 5);
        using DeviceDataSet regression = DeviceDataSet.ForRegression(_gpu, x, RandomFloats(random, 12 * 5), 7, 5);
        using DeviceDataSet wide = DeviceDataSet.ForClassification(_gpu, RandomFloats(random, 12 * 8), y, 8, 5);
        var model = new NetA(_gpu);
        var optimizer = new Sgd(0.1f, momentum: 0.5f);
        float[] before = model.Parameters.ToArray();

        Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(data, 8, 5, optimizer));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainStep(data, -1, 2, optimizer));
        Assert.Throws<EmptyBatchException>(() => model.TrainStep(data, 0, 0, optimizer));
        Assert.Throws<ArgumentException>(() => model.TrainStep(onCpu, 0, 4, optimizer));
        Assert.Throws<ArgumentException>(() => model.TrainStep(regression, 0, 4, optimizer));
        Assert.Throws<ShapeMismatchException>(() => model.TrainStep(wide, 0, 4, optimizer));
        Assert.Throws<ShapeMismatchException>(() => model.TrainStep(x.AsSpan(0, 13), y, optimizer));

        Assert.Equal(before, model.Parameters.ToArray());
        Assert.Equal(0, optimizer.StepCount);
    }

    /// <summary>
    /// Ten training steps of both networks on the same random batch (inputs drawn once, labels or targets per step):
    /// every loss within 1e-4 relative, then parameters and the last gradients within 2e-4 of the largest magnitude.
    /// Returns the inputs.
    /// </summary>
    private static float[] TrainTenStepsOnBoth(INetwork cpu, INetwork gpu, Optimizer cpuOptimizer, Optimizer gpuOptimizer, Random random, int batch)
    {
        float[] inputs = RandomFloats(random, batch * cpu.InputSize);
        for (int step = 0; step < 10; step++)
        {
            float cpuLoss;
            float gpuLoss;
            if (cpu is IClassifierNetwork cpuClassifier)
            {
                int[] labels = RandomLabels(random, batch, cpu.OutputSize);
                cpuLoss = cpuClassifier.TrainStep(inputs, labels, cpuOptimizer);
                gpuLoss = ((IClassifierNetwork)gpu).TrainStep(inputs, labels, gpuOptimizer);
            }
            else
            {
                float[] targets = RandomFloats(random, batch * cpu.OutputSize);
                cpuLoss = ((IRegressionNetwork)cpu).TrainStep(inputs, targets, cpuOptimizer);
                gpuLoss = ((IRegressionNetwork)gpu).TrainStep(inputs, targets, gpuOptimizer);
            }

            Assert.True(Math.Abs(cpuLoss - gpuLoss) <= 1e-4 * Math.Max(1, Math.Abs(cpuLoss)), $"step {step}: loss cpu {cpuLoss} gpu {gpuLoss}");
        }

        AssertClose(cpu.Parameters.ToArray(), gpu.Parameters.ToArray(), 2e-4, "parameters after 10 steps");
        AssertClose(cpu.Gradients.ToArray(), gpu.Gradients.ToArray(), 2e-4, "gradients of the 10th step");
        return inputs;
    }

    private static INetwork Create(string name, Device device) => name switch
    {
        "NetA" => new NetA(device, 1),
        "NetB" => new NetB(device, 2),
        "NetC" => new NetC(device, 3),
        "InitZoo" => new InitZoo(device, 4),
        "ActivatedLogits" => new ActivatedLogits(device, 5),
        "Logistic" => new Logistic(device, 6),
        "Mnist1dMlp" => new Mnist1dMlp(device, 7),
        _ => throw new ArgumentException(name),
    };

    private static float[] RandomFloats(Random random, int count)
        => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();

    private static int[] RandomLabels(Random random, int count, int classes)
        => Enumerable.Range(0, count).Select(_ => random.Next(classes)).ToArray();

    private static void AssertClose(float[] expected, float[] actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-6, expected.Max(v => Math.Abs((double)v)));
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)expected[i] - actual[i]) / scale;
            Assert.True(error <= relative, $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (error {error:E2} of the largest magnitude {scale:G4})");
        }
    }
}
