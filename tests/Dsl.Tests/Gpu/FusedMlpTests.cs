using Dsl;
using Dsl.Gpu;
using Dsl.Ops;
using Dsl.Tests.Networks;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The fully fused forward/loss/backward kernel and its slot reduction on ILGPU's CPU simulator (32-thread warps, real
/// barriers) against a float64 reference of the same network, with one group per tile and with groups walking several
/// tiles; its determinism and its fused optimizer update; its activation switch against the CPU backend's; its plan
/// and eligibility rules at the boundaries; and its PTX for sm_90.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class FusedMlpTests
{
    private const float LeakySlope = 0.1f;

    private readonly GpuAccelerator _gpu;
    private readonly FusedMlpLauncher _launcher;

    public FusedMlpTests(GpuSimulatorFixture simulator)
    {
        _gpu = simulator.Gpu;
        _launcher = FusedMlp.Load(_gpu, rowsPerTile: null); // whatever DSL_GPU_FUSED_TILE_ROWS says
    }

    public static TheoryData<Activation, Loss> ActivationsAndLosses()
    {
        var data = new TheoryData<Activation, Loss>();
        foreach (Activation activation in Enum.GetValues<Activation>())
        {
            data.Add(activation, Loss.SoftmaxCrossEntropy);
            data.Add(activation, Loss.MeanSquaredError);
        }

        return data;
    }

    /// <summary>
    /// Network 5 -> 9 (bias) -> 7 (no bias) -> 3 (bias), every layer with <paramref name="activation"/> (so the output
    /// layer's derivative after the loss is covered too), for a batch of one row, one partial tile and three tiles
    /// (16 + 16 + 5); the three tiles also with two slots (group 0 walks tiles 0 and 2) and with one, the smaller
    /// batches with a workspace of more slots than tiles (the extra slots stay unused).
    /// </summary>
    [Theory]
    [MemberData(nameof(ActivationsAndLosses))]
    public void Gradients_and_row_losses_match_the_float64_reference(Activation activation, Loss loss)
    {
        int[] units = [9, 7, 3];
        bool[] bias = [true, false, true];
        FusedLayer[] layers = Describe(5, units, bias, [activation, activation, activation], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, loss);
        Assert.Equal(parameterCount, plan.ParameterCount);

        foreach (int batch in new[] { 1, 7, 37 })
        {
            var random = new Random(1000 + batch);
            double[] parameters = RandomParameters(random, layers, parameterCount);
            double[] inputs = Uniform(random, batch * 5, 2.0);
            int[] labels = [.. Enumerable.Range(0, batch).Select(_ => random.Next(3))];
            double[] targets = Uniform(random, batch * 3, 1.0);

            (double[] referenceGradients, double[] referenceLosses) = Reference.ForwardBackward(layers, loss, parameters, inputs, labels, targets, batch);
            int tiles = (batch + FusedMlp.TileRows - 1) / FusedMlp.TileRows;
            foreach (int slots in tiles == 3 ? new[] { 3, 2, 1 } : [tiles, tiles + 2])
            {
                (float[] gradients, float[] rowLosses) = RunTraining(plan, parameters, inputs, labels, targets, batch, launches: 1, slots);
                AssertMatches(referenceGradients, referenceLosses, gradients, rowLosses, $"{activation}, {loss}, batch {batch}, {slots} slots");
            }
        }
    }

    /// <summary>
    /// Tiles of fewer rows than <see cref="FusedMlp.TileRows"/> (what a GPU with many multiprocessors gets for a small
    /// batch): 1, 3 and 5 rows per tile against the float64 reference, training and predicting, with one group per tile
    /// and (5 rows) with groups walking several tiles.
    /// </summary>
    [Theory]
    [InlineData(1, 11)]
    [InlineData(3, 11)]
    [InlineData(5, 37)]
    public void Smaller_tiles_match_the_float64_reference(int rowsPerTile, int batch)
    {
        FusedLayer[] layers = Describe(5, [9, 7, 3], [true, false, true], [Activation.Silu, Activation.Relu, Activation.Identity], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, Loss.SoftmaxCrossEntropy);
        FusedMlpLauncher launcher = FusedMlp.Load(_gpu, rowsPerTile);
        Assert.Equal(rowsPerTile, launcher.RowsPerTile(batch));
        var random = new Random(rowsPerTile * 100 + batch);
        double[] parameters = RandomParameters(random, layers, parameterCount);
        double[] inputs = Uniform(random, batch * 5, 2.0);
        int[] labels = [.. Enumerable.Range(0, batch).Select(_ => random.Next(3))];
        double[] targets = Uniform(random, batch * 3, 1.0);
        (double[] referenceGradients, double[] referenceLosses) = Reference.ForwardBackward(layers, Loss.SoftmaxCrossEntropy, parameters, inputs, labels, targets, batch);

        int tiles = (batch + rowsPerTile - 1) / rowsPerTile;
        foreach (int slots in new[] { tiles, 2 })
        {
            (float[] gradients, float[] rowLosses) = RunTraining(plan, parameters, inputs, labels, targets, batch, launches: 1, slots, launcher);
            AssertMatches(referenceGradients, referenceLosses, gradients, rowLosses, $"{rowsPerTile} rows per tile, batch {batch}, {slots} slots");
        }

        AssertPredictMatchesReference(launcher, plan, layers, parameters, inputs, batch, $"{rowsPerTile} rows per tile");
    }

    /// <summary>
    /// Rows per tile: enough tiles for every multiprocessor, at most 16 rows (an H100 has 132: W1's batch of 100 gets
    /// 1 row per tile, 1000 rows 8, 10000 rows 16); the simulator counts as one multiprocessor. The workspace covers
    /// every batch up to its capacity with one slot per tile, including the smaller batches' extra tiles.
    /// </summary>
    [Fact]
    public void Rows_per_tile_follow_the_batch_and_the_multiprocessors()
    {
        Assert.Equal(1, FusedMlp.RowsPerTile(100, 132));
        Assert.Equal(1, FusedMlp.RowsPerTile(132, 132));
        Assert.Equal(2, FusedMlp.RowsPerTile(133, 132));
        Assert.Equal(8, FusedMlp.RowsPerTile(1000, 132));
        Assert.Equal(16, FusedMlp.RowsPerTile(10000, 132));
        Assert.Equal(16, FusedMlp.RowsPerTile(37, 1));
        Assert.Equal(1, FusedMlp.RowsPerTile(0, 132));
        Assert.Equal(16, _launcher.RowsPerTile(100)); // the simulator

        Assert.Null(FusedMlpSelection.ParseTileRows(null));
        Assert.Null(FusedMlpSelection.ParseTileRows(" "));
        Assert.Equal(4, FusedMlpSelection.ParseTileRows(" 4 "));
        Assert.Equal(16, FusedMlpSelection.ParseTileRows("16"));
        foreach (string bad in new[] { "0", "17", "-1", "four", "2.5" })
        {
            var error = Assert.Throws<ArgumentException>(() => FusedMlpSelection.ParseTileRows(bad));
            Assert.Contains(FusedMlpSelection.TileRowsVariable, error.Message, StringComparison.Ordinal);
        }

        FusedLayer[] layers = Describe(5, [9, 3], [true, true], [Activation.Relu, Activation.Identity], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, Loss.SoftmaxCrossEntropy);
        Assert.Equal(3L * parameterCount, _launcher.WorkspaceLength(plan, 37)); // 16 rows per tile: 3 tiles
        Assert.Equal(37L * parameterCount, FusedMlp.Load(_gpu, 1).WorkspaceLength(plan, 37));
        Assert.Equal((long)FusedMlp.MaxWorkspaceFloats / parameterCount * parameterCount, FusedMlp.WorkspaceLengthForSlots(plan, long.MaxValue / 2));

        // Every batch up to the capacity finds a slot for each of its tiles, on GPUs of several sizes and with the rows fixed.
        foreach (int multiprocessors in new[] { 1, 8, 114, 132 })
        {
            foreach (int? fixedRows in new int?[] { null, 3 })
            {
                FusedMlpLauncher launcher = FusedMlp.Load(_gpu, fixedRows, multiprocessors);
                foreach (int capacity in new[] { 1, 37, 100, 133, 200, 1000, 2200, 5000 })
                {
                    long slots = launcher.WorkspaceLength(plan, capacity) / parameterCount;
                    for (int batch = 1; batch <= capacity; batch++)
                    {
                        int rows = launcher.RowsPerTile(batch);
                        Assert.True((batch + rows - 1) / rows <= slots, $"{multiprocessors} multiprocessors, rows {fixedRows}, capacity {capacity}: batch {batch} has more tiles than {slots} slots");
                    }
                }
            }
        }
    }

    /// <summary>
    /// The predict kernel honours its rows per tile: one group launched with tiles of 1 row writes row 0 only (one
    /// that took 16 rows per tile would write the first 16).
    /// </summary>
    [Fact]
    public void The_predict_kernel_covers_exactly_its_tile()
    {
        FusedLayer[] layers = Describe(5, [9, 3], [true, true], [Activation.Relu, Activation.Identity], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, Loss.SoftmaxCrossEntropy);
        const int batch = 11;
        var random = new Random(31);
        Accelerator accelerator = _gpu.Accelerator;
        using MemoryBuffer1D<float, Stride1D.Dense> parameters = accelerator.Allocate1D(ToFloat(RandomParameters(random, layers, parameterCount)));
        using MemoryBuffer1D<float, Stride1D.Dense> inputs = accelerator.Allocate1D(ToFloat(Uniform(random, batch * 5, 2.0)));
        using MemoryBuffer1D<float, Stride1D.Dense> outputs = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, batch * 3).ToArray());
        var predict = accelerator.LoadKernel<SpecializedValue<FusedMlpPlan>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(FusedMlp.PredictKernel);
        predict(accelerator.DefaultStream, new KernelConfig(1, FusedMlp.GroupSize), SpecializedValue.New(plan), parameters.View, inputs.View, outputs.View, batch, 1);
        accelerator.Synchronize();

        float[] written = outputs.GetAsArray1D();
        Assert.All(written[..3], value => Assert.True(float.IsFinite(value)));
        Assert.All(written[3..], value => Assert.True(float.IsNaN(value)));
    }

    /// <summary>
    /// The fused kernel against the CPU backend itself (its float32 ComputeGradients) on the generated test
    /// networks: the same offsets, the same loss scaling. Launched twice (two tiles each) to check that nothing
    /// accumulates across launches.
    /// </summary>
    [Theory]
    [InlineData("NetA")]
    [InlineData("NetB")]
    [InlineData("NetC")]
    [InlineData("InitZoo")]
    [InlineData("ActivatedLogits")]
    [InlineData("Mnist1dMlp")]
    public void Gradients_and_loss_match_the_cpu_backend(string name)
    {
        using Device device = Device.Cpu(1);
        INetwork network = GradientCheckTests.Create(name, device, seed: 3);
        Assert.True(FusedMlp.Fits(network));
        bool classifier = network is IClassifierNetwork;
        FusedMlpPlan plan = FusedMlpPlan.Create(network, classifier ? Loss.SoftmaxCrossEntropy : Loss.MeanSquaredError);

        const int batch = 21;
        var random = new Random(5);
        float[] inputs = TestData.Uniform(random, batch * network.InputSize, -2, 2);
        int[] labels = [.. Enumerable.Range(0, batch).Select(_ => random.Next(network.OutputSize))];
        float[] targets = TestData.Uniform(random, batch * network.OutputSize, 0, 1);
        float cpuLoss = network is IClassifierNetwork c ? c.ComputeGradients(inputs, labels) : ((IRegressionNetwork)network).ComputeGradients(inputs, targets);
        float[] cpuGradients = network.Gradients.ToArray();

        (float[] gradients, float[] rowLosses) = RunTraining(
            plan,
            TestData.Widen(network.Parameters.ToArray()),
            TestData.Widen(inputs),
            labels,
            TestData.Widen(targets),
            batch,
            launches: 2);

        // Both are float32 with different summation orders (and FMA contraction on the CPU): relative 1e-4 of
        // the largest gradient, 1e-5 of the loss.
        double fusedLoss = rowLosses.Select(v => (double)v).Average();
        Assert.True(Math.Abs(fusedLoss - cpuLoss) <= 1e-5 * Math.Max(1, Math.Abs(cpuLoss)), $"{name}: fused loss {fusedLoss}, CPU {cpuLoss}");
        double largest = cpuGradients.Max(v => Math.Abs((double)v));
        for (int i = 0; i < cpuGradients.Length; i++)
        {
            double tolerance = (1e-4 * largest) + (1e-4 * Math.Abs(cpuGradients[i]));
            Assert.True(Math.Abs(gradients[i] - cpuGradients[i]) <= tolerance, $"{name}: gradient[{i}] fused {gradients[i]}, CPU {cpuGradients[i]}");
        }
    }

    [Fact]
    public void Predict_writes_the_forward_outputs()
    {
        int[] units = [9, 7, 3];
        FusedLayer[] layers = Describe(5, units, [true, false, true], [Activation.Gelu, Activation.Tanh, Activation.Identity], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, Loss.SoftmaxCrossEntropy);
        const int batch = 37;
        var random = new Random(17);
        double[] parameters = RandomParameters(random, layers, parameterCount);
        double[] inputs = Uniform(random, batch * 5, 2.0);
        AssertPredictMatchesReference(_launcher, plan, layers, parameters, inputs, batch, "default launcher");
    }

    /// <summary>Runs <paramref name="launcher"/>'s Predict and compares every output with the float64 forward.</summary>
    private void AssertPredictMatchesReference(FusedMlpLauncher launcher, FusedMlpPlan plan, FusedLayer[] layers, double[] parameters, double[] inputs, int batch, string context)
    {
        Accelerator accelerator = _gpu.Accelerator;
        using MemoryBuffer1D<float, Stride1D.Dense> parameterBuffer = accelerator.Allocate1D(ToFloat(parameters));
        using MemoryBuffer1D<float, Stride1D.Dense> inputBuffer = accelerator.Allocate1D(ToFloat(inputs));
        using MemoryBuffer1D<float, Stride1D.Dense> outputBuffer = accelerator.Allocate1D<float>(batch * plan.OutputWidth);
        launcher.Predict(accelerator.DefaultStream, plan, parameterBuffer.View, inputBuffer.View, outputBuffer.View, batch);
        accelerator.Synchronize();
        float[] outputs = outputBuffer.GetAsArray1D();

        double[] reference = Reference.Forward(layers, parameters, inputs, batch, out _)[^1];
        for (int i = 0; i < reference.Length; i++)
        {
            // float32 forward of a few small layers: a few ulp of the activations' scale.
            Assert.True(Math.Abs(outputs[i] - reference[i]) <= 1e-5 * (1 + Math.Abs(reference[i])), $"{context}: output[{i}] = {outputs[i]}, reference {reference[i]}");
        }
    }

    [Fact]
    public void A_label_outside_the_classes_gives_a_nan_row_loss_and_leaves_other_rows_finite()
    {
        FusedLayer[] layers = Describe(5, [4], [true], [Activation.Identity], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, Loss.SoftmaxCrossEntropy);
        var random = new Random(2);
        (_, float[] rowLosses) = RunTraining(plan, RandomParameters(random, layers, parameterCount), Uniform(random, 3 * 5, 1.0), [1, 4, 0], new double[3 * 4], 3, launches: 1);
        Assert.True(float.IsFinite(rowLosses[0]));
        Assert.True(float.IsNaN(rowLosses[1]));
        Assert.True(float.IsFinite(rowLosses[2]));
    }

    [Theory]
    [InlineData(Activation.Identity)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.LeakyRelu)]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Sigmoid)]
    public void Scalar_activations_match_the_cpu_activations(Activation activation)
    {
        // Same schemes as Dsl.Ops, but without fused multiply-adds: a few float32 ulp apart (relative 4e-7
        // of the larger of the value and 1e-30, or 2e-7 absolute for GELU/SiLU cancellations near z = 0).
        for (float z = -20f; z <= 20f; z += 0.0137f)
        {
            float expected = CpuForward(activation, z);
            float actual = FusedMlp.Activate((int)activation, LeakySlope, z);
            Assert.True(Close(actual, expected), $"{activation}({z:R}) = {actual:R}, CPU {expected:R}");

            float expectedDerivative = CpuDerivative(activation, z, expected);
            float actualDerivative = FusedMlp.Derivative((int)activation, LeakySlope, z, expected);
            Assert.True(Close(actualDerivative, expectedDerivative), $"{activation}'({z:R}) = {actualDerivative:R}, CPU {expectedDerivative:R}");
        }

        static bool Close(float actual, float expected)
            => Math.Abs(actual - expected) <= Math.Max(4e-7 * Math.Max(Math.Abs(expected), 1e-30), 2e-7);
    }

    [Fact]
    public void Fits_accepts_and_rejects_at_its_boundaries()
    {
        Activation[] relu8 = [.. Enumerable.Repeat(Activation.Relu, 8)];
        Activation[] relu9 = [.. Enumerable.Repeat(Activation.Relu, 9)];

        // Layer count: 1 to 8.
        Assert.False(FusedMlp.Fits(4, [], []));
        Assert.True(FusedMlp.Fits(4, [4], [Activation.Relu]));
        Assert.True(FusedMlp.Fits(4, [4, 4, 4, 4, 4, 4, 4, 4], relu8));
        Assert.False(FusedMlp.Fits(4, [4, 4, 4, 4, 4, 4, 4, 4, 4], relu9));

        // Widths: 1 to 256 (the input too).
        Assert.False(FusedMlp.Fits(0, [4], [Activation.Relu]));
        Assert.False(FusedMlp.Fits(4, [0], [Activation.Relu]));
        Assert.True(FusedMlp.Fits(1, [256], [Activation.Relu]));
        Assert.False(FusedMlp.Fits(1, [257], [Activation.Relu]));
        Assert.False(FusedMlp.Fits(257, [1], [Activation.Relu]));

        // Shared memory: 16 rows x (input + widths + GELU/SiLU widths again) <= 8192 floats, i.e. 512 per row.
        Assert.True(FusedMlp.Fits(256, [256], [Activation.Relu]));           // 512
        Assert.True(FusedMlp.Fits(100, [200, 212], [Activation.Relu, Activation.Tanh])); // 512
        Assert.False(FusedMlp.Fits(100, [200, 213], [Activation.Relu, Activation.Tanh])); // 513
        Assert.True(FusedMlp.Fits(100, [206], [Activation.Gelu]));            // 100 + 2 x 206 = 512
        Assert.False(FusedMlp.Fits(100, [207], [Activation.Gelu]));           // 514
        Assert.False(FusedMlp.Fits(100, [207], [Activation.Silu]));
        Assert.True(FusedMlp.Fits(100, [207], [Activation.Sigmoid]));

        // Mismatched lists.
        Assert.False(FusedMlp.Fits(4, [4, 4], [Activation.Relu]));
    }

    [Fact]
    public void Create_rejects_layers_that_do_not_chain_or_do_not_fit()
    {
        FusedLayer[] chained = Describe(5, [9, 3], [true, true], [Activation.Relu, Activation.Identity], out _);
        Assert.Equal(3, FusedMlpPlan.Create(5, chained, Loss.MeanSquaredError).OutputWidth);
        Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(6, chained, Loss.MeanSquaredError));
        Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(5, [new FusedLayer(5, 9, Activation.Relu, 0f, 0, -1), new FusedLayer(8, 3, Activation.Relu, 0f, 45, -1)], Loss.MeanSquaredError));
        Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(5, [new FusedLayer(5, 3, Activation.LeakyRelu, -1f, 0, -1)], Loss.MeanSquaredError));
        Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(100, [new FusedLayer(100, 207, Activation.Gelu, 0f, 0, -1)], Loss.MeanSquaredError));
        Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(5, ReadOnlySpan<FusedLayer>.Empty, Loss.MeanSquaredError));
    }

    [Fact]
    public void Create_rejects_parameter_ranges_with_gaps_or_overlaps()
    {
        // 5 -> 9 (weights 0..44, bias 45..53) -> 3 (weights 54..80, no bias) packs the buffer exactly.
        Assert.Equal(81, FusedMlpPlan.Create(5, [new FusedLayer(5, 9, Activation.Relu, 0f, 0, 45), new FusedLayer(9, 3, Activation.Identity, 0f, 54, -1)], Loss.MeanSquaredError).ParameterCount);
        var gap = Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(5, [new FusedLayer(5, 9, Activation.Relu, 0f, 0, 45), new FusedLayer(9, 3, Activation.Identity, 0f, 55, -1)], Loss.MeanSquaredError));
        Assert.Contains("gaps", gap.Message, StringComparison.Ordinal);
        var overlap = Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(5, [new FusedLayer(5, 9, Activation.Relu, 0f, 0, 44), new FusedLayer(9, 3, Activation.Identity, 0f, 53, -1)], Loss.MeanSquaredError));
        Assert.Contains("overlap", overlap.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(5, [new FusedLayer(5, 9, Activation.Relu, 0f, 2_000_000_000, -1)], Loss.MeanSquaredError));
        Assert.Throws<ArgumentException>(() => FusedMlpPlan.Create(5, [new FusedLayer(5, 9, Activation.Relu, 0f, 0, int.MaxValue - 3)], Loss.MeanSquaredError)); // the end would wrap in int
    }

    /// <summary>
    /// No atomics: the same inputs give the same bits on every run (three runs, groups scheduled on the simulator's
    /// threads in whatever order), for one slot per tile and for fewer slots than tiles.
    /// </summary>
    [Fact]
    public void Training_is_deterministic()
    {
        FusedLayer[] layers = Describe(5, [9, 7, 3], [true, false, true], [Activation.Tanh, Activation.Relu, Activation.Identity], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, Loss.SoftmaxCrossEntropy);
        var random = new Random(17);
        const int batch = 70; // five tiles
        double[] parameters = RandomParameters(random, layers, parameterCount);
        double[] inputs = Uniform(random, batch * 5, 2.0);
        int[] labels = [.. Enumerable.Range(0, batch).Select(_ => random.Next(3))];
        foreach (int slots in new[] { 5, 2 })
        {
            (float[] first, float[] firstLosses) = RunTraining(plan, parameters, inputs, labels, new double[batch * 3], batch, launches: 1, slots);
            for (int run = 0; run < 2; run++)
            {
                (float[] again, float[] againLosses) = RunTraining(plan, parameters, inputs, labels, new double[batch * 3], batch, launches: 1, slots);
                Assert.Equal(first, again);
                Assert.Equal(firstLosses, againLosses);
            }
        }
    }

    /// <summary>
    /// The optimizer's update applied in the slot reduction equals the gradients-only step followed by the standalone
    /// update pass, bit for bit on the simulator (the same update code once per parameter), over three Adam steps.
    /// </summary>
    [Fact]
    public void The_update_fused_into_the_reduction_equals_the_standalone_update()
    {
        FusedLayer[] layers = Describe(5, [9, 3], [true, true], [Activation.Silu, Activation.Identity], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, Loss.MeanSquaredError);
        var random = new Random(23);
        const int batch = 37;
        Accelerator accelerator = _gpu.Accelerator;
        AcceleratorStream stream = accelerator.DefaultStream;
        float[] initial = ToFloat(RandomParameters(random, layers, parameterCount));
        using MemoryBuffer1D<float, Stride1D.Dense> fusedParameters = accelerator.Allocate1D(initial);
        using MemoryBuffer1D<float, Stride1D.Dense> standaloneParameters = accelerator.Allocate1D(initial);
        using MemoryBuffer1D<float, Stride1D.Dense> fusedGradients = accelerator.Allocate1D<float>(parameterCount);
        using MemoryBuffer1D<float, Stride1D.Dense> standaloneGradients = accelerator.Allocate1D<float>(parameterCount);
        using MemoryBuffer1D<float, Stride1D.Dense> workspace = accelerator.Allocate1D<float>(_launcher.WorkspaceLength(plan, batch));
        using MemoryBuffer1D<float, Stride1D.Dense> inputs = accelerator.Allocate1D(ToFloat(Uniform(random, batch * 5, 2.0)));
        using MemoryBuffer1D<float, Stride1D.Dense> targets = accelerator.Allocate1D(ToFloat(Uniform(random, batch * 3, 1.0)));
        using MemoryBuffer1D<float, Stride1D.Dense> losses = accelerator.Allocate1D<float>(batch);
        var fusedOptimizer = new Dsl.Training.Adam(0.01f);
        var standaloneOptimizer = new Dsl.Training.Adam(0.01f);
        for (int step = 0; step < 3; step++)
        {
            GpuParameterUpdate update = fusedOptimizer.BeginDeviceStep(_gpu, stream, fusedParameters.View);
            _launcher.ForwardBackward(stream, plan, fusedParameters.View, fusedGradients.View, inputs.View, targets.View, losses.View, batch, workspace.View, update);
            _launcher.ForwardBackward(stream, plan, standaloneParameters.View, standaloneGradients.View, inputs.View, targets.View, losses.View, batch, workspace.View);
            standaloneOptimizer.Step(_gpu, stream, standaloneParameters.View, standaloneGradients.View);
        }

        float[] expected = standaloneParameters.GetAsArray1D();
        Assert.NotEqual(initial, expected);
        Assert.Equal(expected, fusedParameters.GetAsArray1D());
        Assert.Equal(standaloneGradients.GetAsArray1D(), fusedGradients.GetAsArray1D());
    }

    [Fact]
    public void Launcher_rejects_the_wrong_loss_and_short_views()
    {
        FusedLayer[] layers = Describe(5, [3], [true], [Activation.Identity], out int parameterCount);
        FusedMlpPlan plan = FusedMlpPlan.Create(5, layers, Loss.SoftmaxCrossEntropy);
        Accelerator accelerator = _gpu.Accelerator;
        using MemoryBuffer1D<float, Stride1D.Dense> parameters = accelerator.Allocate1D<float>(parameterCount);
        using MemoryBuffer1D<float, Stride1D.Dense> gradients = accelerator.Allocate1D<float>(parameterCount);
        using MemoryBuffer1D<float, Stride1D.Dense> inputs = accelerator.Allocate1D<float>(4 * 5);
        using MemoryBuffer1D<int, Stride1D.Dense> labels = accelerator.Allocate1D<int>(4);
        using MemoryBuffer1D<float, Stride1D.Dense> targets = accelerator.Allocate1D<float>(4 * 3);
        using MemoryBuffer1D<float, Stride1D.Dense> losses = accelerator.Allocate1D<float>(4);
        using MemoryBuffer1D<float, Stride1D.Dense> workspace = accelerator.Allocate1D<float>(parameterCount);
        AcceleratorStream stream = accelerator.DefaultStream;
        FusedMlpLauncher launcher = _launcher;
        ArrayView<float> slot = workspace.View;

        Assert.Throws<ArgumentException>(() => launcher.ForwardBackward(stream, plan, parameters.View, gradients.View, inputs.View, targets.View, losses.View, 4, slot));
        Assert.Throws<ArgumentException>(() => launcher.ForwardBackward(stream, plan, parameters.View, gradients.View, inputs.View, labels.View, losses.View, 5, slot));
        Assert.Throws<ArgumentException>(() => launcher.ForwardBackward(stream, plan, parameters.View.SubView(0, parameterCount - 1), gradients.View, inputs.View, labels.View, losses.View, 4, slot));
        Assert.Throws<ArgumentException>(() => launcher.ForwardBackward(stream, default, parameters.View, gradients.View, inputs.View, labels.View, losses.View, 4, slot));
        Assert.Throws<ArgumentException>(() => launcher.ForwardBackward(stream, plan, parameters.View, gradients.View, inputs.View, labels.View, losses.View, 4, slot.SubView(0, parameterCount - 1)));
        var adam = new Dsl.Training.Adam();
        GpuParameterUpdate shortUpdate = adam.BeginDeviceStep(_gpu, stream, parameters.View.SubView(0, parameterCount - 1));
        Assert.Throws<ArgumentException>(() => launcher.ForwardBackward(stream, plan, parameters.View, gradients.View, inputs.View, labels.View, losses.View, 4, slot, shortUpdate));
        Assert.Throws<ArgumentOutOfRangeException>(() => launcher.ForwardBackward(stream, plan, parameters.View, gradients.View, inputs.View, labels.View, losses.View, 0, slot));
        launcher.ForwardBackward(stream, plan, parameters.View, gradients.View, inputs.View, labels.View, losses.View, 4, slot);
        accelerator.Synchronize();
    }

    [Fact]
    public void Kernels_compile_to_ptx_for_sm90_without_extern_calls()
    {
        string train = GpuPtxAssert.CompilesWithoutExternalCalls(
            (Action<SpecializedValue<FusedMlpPlan>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>)FusedMlp.TrainKernel,
            explicitlyGrouped: true);
        Assert.Contains("bar.sync", train, StringComparison.Ordinal);
        Assert.Contains("shfl.sync", train, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(red|atom)(\.global)?\.add\.f32", train); // deterministic: each slot element has one writer

        GpuPtxAssert.CompilesWithoutExternalCalls(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, NoUpdate>)FusedMlp.ReduceSlotsKernel,
            explicitlyGrouped: false);
        string adam = GpuPtxAssert.CompilesWithoutExternalCalls(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, AdamUpdate>)FusedMlp.ReduceSlotsKernel,
            explicitlyGrouped: false);
        Assert.Contains("sqrt.rn.f32", adam, StringComparison.Ordinal);

        GpuPtxAssert.CompilesWithoutExternalCalls(
            (Action<SpecializedValue<FusedMlpPlan>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>)FusedMlp.PredictKernel,
            explicitlyGrouped: true);
    }

    /// <summary>
    /// Launches the training step <paramref name="launches"/> times on the same buffers, with a workspace of
    /// <paramref name="slots"/> slots (default: one per tile), and returns the last results. The gradients and the
    /// workspace start as NaN: whatever the kernels do not overwrite shows.
    /// </summary>
    private (float[] Gradients, float[] RowLosses) RunTraining(FusedMlpPlan plan, double[] parameters, double[] inputs, int[] labels, double[] targets, int batch, int launches, int slots = 0, FusedMlpLauncher? launcher = null)
    {
        launcher ??= _launcher;
        Accelerator accelerator = _gpu.Accelerator;
        using MemoryBuffer1D<float, Stride1D.Dense> parameterBuffer = accelerator.Allocate1D(ToFloat(parameters));
        using MemoryBuffer1D<float, Stride1D.Dense> gradientBuffer = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, parameters.Length).ToArray());
        long workspaceLength = slots > 0 ? (long)slots * plan.ParameterCount : launcher.WorkspaceLength(plan, batch);
        using MemoryBuffer1D<float, Stride1D.Dense> workspace = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, (int)workspaceLength).ToArray());
        using MemoryBuffer1D<float, Stride1D.Dense> inputBuffer = accelerator.Allocate1D(ToFloat(inputs));
        using MemoryBuffer1D<int, Stride1D.Dense> labelBuffer = accelerator.Allocate1D(labels);
        using MemoryBuffer1D<float, Stride1D.Dense> targetBuffer = accelerator.Allocate1D(ToFloat(targets));
        using MemoryBuffer1D<float, Stride1D.Dense> lossBuffer = accelerator.Allocate1D<float>(batch);
        for (int launch = 0; launch < launches; launch++)
        {
            if (plan.Loss == Loss.SoftmaxCrossEntropy)
            {
                launcher.ForwardBackward(accelerator.DefaultStream, plan, parameterBuffer.View, gradientBuffer.View, inputBuffer.View, labelBuffer.View, lossBuffer.View, batch, workspace.View);
            }
            else
            {
                launcher.ForwardBackward(accelerator.DefaultStream, plan, parameterBuffer.View, gradientBuffer.View, inputBuffer.View, targetBuffer.View, lossBuffer.View, batch, workspace.View);
            }
        }

        accelerator.Synchronize();
        return (gradientBuffer.GetAsArray1D(), lossBuffer.GetAsArray1D());
    }

    private static void AssertMatches(double[] referenceGradients, double[] referenceLosses, float[] gradients, float[] rowLosses, string what)
    {
        // Row losses: float32 sums of a handful of terms plus a ~1 ulp log: relative 1e-5 (absolute 1e-6 near 0).
        for (int r = 0; r < referenceLosses.Length; r++)
        {
            double tolerance = (1e-5 * Math.Abs(referenceLosses[r])) + 1e-6;
            Assert.True(Math.Abs(rowLosses[r] - referenceLosses[r]) <= tolerance, $"{what}: row loss {r} = {rowLosses[r]}, reference {referenceLosses[r]}");
        }

        // Gradients: float32 forward and backward through three layers, summed per tile in row order, then over a
        // group's tiles and over the slots; relative 1e-4 of the element plus 2e-5 of the largest gradient.
        double largest = referenceGradients.Max(Math.Abs);
        Assert.True(largest > 1e-3, $"{what}: the gradients are all ~0 ({largest}), the check would be vacuous");
        for (int i = 0; i < referenceGradients.Length; i++)
        {
            double tolerance = (1e-4 * Math.Abs(referenceGradients[i])) + (2e-5 * largest);
            Assert.True(Math.Abs(gradients[i] - referenceGradients[i]) <= tolerance, $"{what}: gradient[{i}] = {gradients[i]}, reference {referenceGradients[i]}");
        }
    }

    /// <summary>Layers packed one after another in the parameter buffer: weight (units, fanIn), then bias (units) if any.</summary>
    private static FusedLayer[] Describe(int inputWidth, int[] units, bool[] bias, Activation[] activations, out int parameterCount)
    {
        var layers = new FusedLayer[units.Length];
        int offset = 0;
        int fanIn = inputWidth;
        for (int l = 0; l < units.Length; l++)
        {
            int weightOffset = offset;
            offset += units[l] * fanIn;
            int biasOffset = bias[l] ? offset : -1;
            offset += bias[l] ? units[l] : 0;
            layers[l] = new FusedLayer(fanIn, units[l], activations[l], activations[l] == Activation.LeakyRelu ? LeakySlope : 0f, weightOffset, biasOffset);
            fanIn = units[l];
        }

        parameterCount = offset;
        return layers;
    }

    /// <summary>Weights uniform with standard deviation ~1.5/sqrt(fanIn) so pre-activations reach both GELU regions; biases in [-0.5, 0.5].</summary>
    private static double[] RandomParameters(Random random, FusedLayer[] layers, int parameterCount)
    {
        var parameters = new double[parameterCount];
        foreach (FusedLayer layer in layers)
        {
            double scale = 1.5 * Math.Sqrt(3.0 / layer.FanIn);
            for (int i = 0; i < layer.Units * layer.FanIn; i++)
            {
                parameters[layer.WeightOffset + i] = (float)(((random.NextDouble() * 2) - 1) * scale);
            }

            for (int o = 0; layer.BiasOffset >= 0 && o < layer.Units; o++)
            {
                parameters[layer.BiasOffset + o] = (float)(random.NextDouble() - 0.5);
            }
        }

        return parameters;
    }

    /// <summary>Values uniform in [-scale, scale], already rounded to float so both sides see the same numbers.</summary>
    private static double[] Uniform(Random random, int count, double scale)
        => TestData.Widen(TestData.Uniform(random, count, -scale, scale));

    private static float[] ToFloat(double[] values) => [.. values.Select(v => (float)v)];

    private static float CpuForward(Activation activation, float z) => activation switch
    {
        Activation.Identity => default(Identity).Forward(z),
        Activation.Relu => default(Relu).Forward(z),
        Activation.LeakyRelu => new LeakyRelu(LeakySlope).Forward(z),
        Activation.Gelu => default(Gelu).Forward(z),
        Activation.Silu => default(Silu).Forward(z),
        Activation.Tanh => default(Dsl.Ops.Tanh).Forward(z),
        Activation.Sigmoid => default(Sigmoid).Forward(z),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    private static float CpuDerivative(Activation activation, float z, float y) => activation switch
    {
        Activation.Identity => default(Identity).Derivative(z, y),
        Activation.Relu => default(Relu).Derivative(z, y),
        Activation.LeakyRelu => new LeakyRelu(LeakySlope).Derivative(z, y),
        Activation.Gelu => default(Gelu).Derivative(z, y),
        Activation.Silu => default(Silu).Derivative(z, y),
        Activation.Tanh => default(Dsl.Ops.Tanh).Derivative(z, y),
        Activation.Sigmoid => default(Sigmoid).Derivative(z, y),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>A plain float64 forward and backward of a <see cref="FusedLayer"/> stack, loss per row and gradients of the batch mean.</summary>
    private static class Reference
    {
        /// <summary>Outputs of every layer (index 0: the inputs), each (batch, width); also the pre-activations.</summary>
        public static double[][] Forward(FusedLayer[] layers, double[] parameters, double[] inputs, int batch, out double[][] preActivations)
        {
            var outputs = new double[layers.Length + 1][];
            preActivations = new double[layers.Length][];
            outputs[0] = inputs;
            for (int l = 0; l < layers.Length; l++)
            {
                FusedLayer layer = layers[l];
                outputs[l + 1] = new double[batch * layer.Units];
                preActivations[l] = new double[batch * layer.Units];
                for (int r = 0; r < batch; r++)
                {
                    for (int o = 0; o < layer.Units; o++)
                    {
                        double z = layer.BiasOffset >= 0 ? parameters[layer.BiasOffset + o] : 0;
                        for (int k = 0; k < layer.FanIn; k++)
                        {
                            z += outputs[l][(r * layer.FanIn) + k] * parameters[layer.WeightOffset + (o * layer.FanIn) + k];
                        }

                        preActivations[l][(r * layer.Units) + o] = z;
                        outputs[l + 1][(r * layer.Units) + o] = Activate(layer, z);
                    }
                }
            }

            return outputs;
        }

        public static (double[] Gradients, double[] RowLosses) ForwardBackward(
            FusedLayer[] layers, Loss loss, double[] parameters, double[] inputs, int[] labels, double[] targets, int batch)
        {
            double[][] outputs = Forward(layers, parameters, inputs, batch, out double[][] preActivations);
            int width = layers[^1].Units;
            double[] y = outputs[^1];
            double[] rowLosses;
            var dy = new double[batch * width];
            if (loss == Loss.SoftmaxCrossEntropy)
            {
                rowLosses = Float64Reference.CrossEntropyLosses(y, labels, width);
                double[] probabilities = Float64Reference.SoftmaxProbabilities(y, width);
                for (int i = 0; i < dy.Length; i++)
                {
                    dy[i] = (probabilities[i] - (i % width == labels[i / width] ? 1 : 0)) / batch;
                }
            }
            else
            {
                rowLosses = Float64Reference.SquaredErrorRowMeans(y, targets, width);
                for (int i = 0; i < dy.Length; i++)
                {
                    dy[i] = 2 * (y[i] - targets[i]) / ((double)batch * width);
                }
            }

            var gradients = new double[parameters.Length];
            double[] dOutput = dy;
            for (int l = layers.Length - 1; l >= 0; l--)
            {
                FusedLayer layer = layers[l];
                var dz = new double[batch * layer.Units];
                for (int i = 0; i < dz.Length; i++)
                {
                    dz[i] = dOutput[i] * Derivative(layer, preActivations[l][i]);
                }

                var dx = new double[batch * layer.FanIn];
                for (int r = 0; r < batch; r++)
                {
                    for (int o = 0; o < layer.Units; o++)
                    {
                        double g = dz[(r * layer.Units) + o];
                        if (layer.BiasOffset >= 0)
                        {
                            gradients[layer.BiasOffset + o] += g;
                        }

                        for (int k = 0; k < layer.FanIn; k++)
                        {
                            gradients[layer.WeightOffset + (o * layer.FanIn) + k] += g * outputs[l][(r * layer.FanIn) + k];
                            dx[(r * layer.FanIn) + k] += g * parameters[layer.WeightOffset + (o * layer.FanIn) + k];
                        }
                    }
                }

                dOutput = dx;
            }

            return (gradients, rowLosses);
        }

        private static double Activate(FusedLayer layer, double z) => layer.Activation switch
        {
            Activation.Identity => z,
            Activation.Relu => Math.Max(z, 0),
            Activation.LeakyRelu => z > 0 ? z : layer.Slope * z,
            Activation.Gelu => 0.5 * z * (1 + ReferenceNetwork.Erf(z / Math.Sqrt(2))),
            Activation.Silu => z / (1 + Math.Exp(-z)),
            Activation.Tanh => Math.Tanh(z),
            Activation.Sigmoid => 1 / (1 + Math.Exp(-z)),
            _ => throw new ArgumentOutOfRangeException(nameof(layer)),
        };

        /// <summary>phi'(z) analytically (ReLUs: 0 resp. the slope at z = 0, as PyTorch).</summary>
        private static double Derivative(FusedLayer layer, double z)
        {
            switch (layer.Activation)
            {
                case Activation.Identity:
                    return 1;
                case Activation.Relu:
                    return z > 0 ? 1 : 0;
                case Activation.LeakyRelu:
                    return z > 0 ? 1 : layer.Slope;
                case Activation.Gelu:
                    return (0.5 * (1 + ReferenceNetwork.Erf(z / Math.Sqrt(2)))) + (z * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI));
                case Activation.Silu:
                    {
                        double sigma = 1 / (1 + Math.Exp(-z));
                        return sigma * (1 + (z * (1 - sigma)));
                    }

                case Activation.Tanh:
                    {
                        double t = Math.Tanh(z);
                        return 1 - (t * t);
                    }

                case Activation.Sigmoid:
                    {
                        double s = 1 / (1 + Math.Exp(-z));
                        return s * (1 - s);
                    }

                default:
                    throw new ArgumentOutOfRangeException(nameof(layer));
            }
        }
    }
}
