using Dsl.Gpu;
using Dsl.Training;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The device <c>Optimizer.Step</c> on ILGPU's CPU simulator: five steps of each optimizer against the host
/// optimizer on the same data, the checks and binding rules (length, place, <see cref="Optimizer.Reset"/>,
/// <see cref="Optimizer.StepCount"/>), and the update kernels compiled to PTX for sm_90 without external calls.
/// </summary>
/// <remarks>
/// Tolerance 1e-6 (1 + |p|) per parameter after five steps: the host fuses every a * b + c, the kernel (as .NET code on
/// the simulator) rounds the product and the sum separately, a few ulp per step.
/// </remarks>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuOptimizerTests
{
    private const int Steps = 5;
    private readonly GpuAccelerator _gpu;
    private readonly AcceleratorStream _stream;

    public GpuOptimizerTests(GpuSimulatorFixture simulator)
    {
        _gpu = simulator.Gpu;
        _stream = _gpu.Accelerator.DefaultStream;
    }


    public static TheoryData<string, int> Variants()
    {
        var data = new TheoryData<string, int>();
        foreach (string variant in new[] { "sgd", "sgd-momentum", "sgd-decay", "sgd-nesterov-decay", "adam", "adam-decay", "adamw", "adamw-strong" })
        {
            foreach (int length in new[] { 1, 33, 100 })
            {
                data.Add(variant, length);
            }
        }

        return data;
    }

    private static Optimizer Create(string variant) => variant switch
    {
        "sgd" => new Sgd(0.1f),
        "sgd-momentum" => new Sgd(0.05f, momentum: 0.9f),
        "sgd-decay" => new Sgd(0.1f, weightDecay: 0.01f),
        "sgd-nesterov-decay" => new Sgd(0.03f, 0.9f, true, 0.05f),
        "adam" => new Adam(),
        "adam-decay" => new Adam(0.01f, weightDecay: 0.1f),
        "adamw" => new AdamW(),
        "adamw-strong" => new AdamW(0.05f, 0.8f, 0.99f, 1e-6f, 0.5f),
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, null),
    };

    private static float[] Filled(int length, float value) => [.. Enumerable.Repeat(value, length)];

    [Theory]
    [MemberData(nameof(Variants))]
    public void FiveSteps_MatchTheHostOptimizer(string variant, int length)
    {
        Optimizer host = Create(variant);
        Optimizer device = Create(variant);
        var random = new Random(length * 17 + variant.Length);
        float[] parameters = TestData.Uniform(random, length, -1, 1);
        using var deviceParameters = _stream.Upload(parameters);
        using var deviceGradients = _gpu.Accelerator.Allocate1D<float>(length);

        for (int t = 1; t <= Steps; t++)
        {
            float[] gradients = TestData.Uniform(random, length, -2, 2);
            deviceGradients.View.CopyFromCPU(_stream, gradients);
            if (t == 4)
            {
                // A schedule: the rate is read at every step.
                host.LearningRate *= 0.5f;
                device.LearningRate *= 0.5f;
            }

            host.Step(parameters, gradients);
            device.Step(_gpu, _stream, deviceParameters.View, deviceGradients.View);

            Assert.Equal(t, device.StepCount);
            float[] actual = _stream.Download<float>(deviceParameters.View);
            for (int i = 0; i < length; i++)
            {
                Assert.True(
                    Math.Abs(actual[i] - parameters[i]) <= 1e-6 * (1 + Math.Abs(parameters[i])),
                    $"{variant}, step {t}, parameter {i}: host {parameters[i]:R}, device {actual[i]:R}");
            }
        }
    }

    [Fact]
    public void MismatchedGradientLength_IsRefusedBeforeAnyChange_AndBindsNothing()
    {
        var optimizer = new AdamW();
        using var parameters = _stream.Upload(Filled(8, 2f));
        using var gradients = _stream.Upload(Filled(7, 1f));

        Assert.Throws<ArgumentException>(() => optimizer.Step(_gpu, _stream, parameters.View, gradients.View));

        Assert.All(_stream.Download<float>(parameters.View), p => Assert.Equal(2f, p));
        Assert.Equal(0, optimizer.StepCount);
        optimizer.Step(Filled(5, 1f), Filled(5, 1f)); // still unbound: the host may take it
    }

    [Fact]
    public void StateBoundToAnotherLength_IsRefusedBeforeAnyChange()
    {
        var optimizer = new Sgd(0.1f, momentum: 0.9f);
        using var ten = _stream.Upload(Filled(10, 0f));
        using var tenGradients = _stream.Upload(Filled(10, 1f));
        using var eleven = _stream.Upload(Filled(11, 3f));
        using var elevenGradients = _stream.Upload(Filled(11, 1f));
        optimizer.Step(_gpu, _stream, ten.View, tenGradients.View);

        var exception = Assert.Throws<InvalidOperationException>(() => optimizer.Step(_gpu, _stream, eleven.View, elevenGradients.View));

        Assert.Contains("10", exception.Message, StringComparison.Ordinal);
        Assert.Contains("11", exception.Message, StringComparison.Ordinal);
        Assert.All(_stream.Download<float>(eleven.View), p => Assert.Equal(3f, p));
        Assert.Equal(1, optimizer.StepCount);
        Assert.Throws<InvalidOperationException>(() => optimizer.CheckCompatible(_gpu, 11));
        optimizer.CheckCompatible(_gpu, 10);
    }

    [Fact]
    public void StateIsNotMovedBetweenPlaces_UntilReset()
    {
        var optimizer = new Adam(0.1f);
        float[] hostParameters = Filled(4, 1f);
        using var parameters = _stream.Upload(Filled(4, 1f));
        using var gradients = _stream.Upload(Filled(4, 1f));
        optimizer.Step(_gpu, _stream, parameters.View, gradients.View);

        // Host after device.
        var toHost = Assert.Throws<InvalidOperationException>(() => optimizer.Step(hostParameters, Filled(4, 1f)));
        Assert.Contains("Reset()", toHost.Message, StringComparison.Ordinal);
        optimizer.CheckCompatible(4); // the public check is about the length only
        Assert.Throws<InvalidOperationException>(() => optimizer.CheckCompatible(null, 4));
        Assert.All(hostParameters, p => Assert.Equal(1f, p));

        // Another device.
        using (GpuAccelerator other = GpuAccelerator.CpuSimulator())
        {
            using var otherParameters = other.Accelerator.Allocate1D<float>(4);
            using var otherGradients = other.Accelerator.Allocate1D<float>(4);
            Assert.Throws<InvalidOperationException>(() => optimizer.Step(other, other.Accelerator.DefaultStream, otherParameters.View, otherGradients.View));
            Assert.Throws<ArgumentException>(() => optimizer.Step(_gpu, other.Accelerator.DefaultStream, parameters.View, gradients.View)); // stream of another accelerator
        }

        Assert.Equal(1, optimizer.StepCount);

        // Device after host, once reset and rebound on the host.
        optimizer.Reset();
        Assert.Equal(0, optimizer.StepCount);
        optimizer.Step(hostParameters, Filled(4, 1f));
        float[] before = _stream.Download<float>(parameters.View);
        Assert.Throws<InvalidOperationException>(() => optimizer.Step(_gpu, _stream, parameters.View, gradients.View));
        Assert.Throws<InvalidOperationException>(() => optimizer.CheckCompatible(_gpu, 4));
        Assert.Equal(before, _stream.Download<float>(parameters.View));
        Assert.Equal(1, optimizer.StepCount);
    }

    [Fact]
    public void Reset_FreesDeviceState_AndTheNextStepStartsAfresh()
    {
        var optimizer = new Sgd(0.1f, momentum: 0.9f);
        using var first = _stream.Upload(Filled(10, 0f));
        using var firstGradients = _stream.Upload(Filled(10, 1f));
        optimizer.Step(_gpu, _stream, first.View, firstGradients.View);
        optimizer.Step(_gpu, _stream, first.View, firstGradients.View);
        optimizer.Reset();
        Assert.Equal(0, optimizer.StepCount);

        using var parameters = _stream.Upload(Filled(11, 0f));
        using var gradients = _stream.Upload(Filled(11, 1f));
        optimizer.Step(_gpu, _stream, parameters.View, gradients.View);
        optimizer.Step(_gpu, _stream, parameters.View, gradients.View);

        // Fresh momentum, as the host test: b1 = 1, b2 = 1.9, p = -0.1 - 0.19.
        Assert.All(_stream.Download<float>(parameters.View), p => Assert.Equal(-0.29f, p, 1e-6f));
        Assert.Equal(2, optimizer.StepCount);
    }

    [Fact]
    public void EmptyBuffer_CountsTheStepAndLaunchesNothing()
    {
        var optimizer = new Adam();
        optimizer.Step(_gpu, _stream, ArrayView<float>.Empty, ArrayView<float>.Empty);
        Assert.Equal(1, optimizer.StepCount);
        optimizer.Reset();
    }

    [Fact]
    public void AdamW_DecaysWithZeroGradient_AdamDoesNotWithoutPenalty()
    {
        using var decayed = _stream.Upload([2f]);
        using var kept = _stream.Upload([2f]);
        using var zero = _stream.Upload([0f]);
        new AdamW(0.1f, weightDecay: 0.5f).Step(_gpu, _stream, decayed.View, zero.View);
        new Adam(0.1f).Step(_gpu, _stream, kept.View, zero.View);
        Assert.Equal(2f * (1f - 0.05f), _stream.Download<float>(decayed.View)[0], 1e-6f);
        Assert.Equal(2f, _stream.Download<float>(kept.View)[0]);
    }

    /// <summary>
    /// The update fused into a dense layer's gradient kernels (what the generated layer-by-layer step does) against the
    /// same gradients computed without it followed by the standalone update pass: on the simulator both run the same
    /// update code once per parameter, so parameters, gradients and optimizer state agree bit for bit over three steps.
    /// A weight updated twice, or not at all, would differ.
    /// </summary>
    [Theory]
    [InlineData("sgd-nesterov-decay")]
    [InlineData("adam-decay")]
    [InlineData("adamw-strong")]
    public void UpdateFusedIntoTheGradientKernels_EqualsTheStandalonePass(string variant)
    {
        const int batch = 19, fanIn = 13, units = 70; // two column tiles of the bias reduction, partial GEMM tiles
        const int weightCount = units * fanIn;
        const int total = weightCount + units;    // W (units, fanIn) then b (units), as a generated network lays them out
        var random = new Random(variant.Length);
        float[] initial = TestData.Uniform(random, total, -1, 1);
        var layer = new GpuDense<LaunchWidths, GpuRelu, GpuIdentity>(_gpu, default, default);
        var biasGradient = new GpuBiasGradient(_gpu);
        Optimizer fusedOptimizer = Create(variant);
        Optimizer standaloneOptimizer = Create(variant);
        using var fusedParameters = _stream.Upload(initial);
        using var fusedGradients = _gpu.Accelerator.Allocate1D<float>(total);
        using var standaloneParameters = _stream.Upload(initial);
        using var standaloneGradients = _gpu.Accelerator.Allocate1D<float>(total);
        using var x = _gpu.Accelerator.Allocate1D<float>(batch * fanIn);
        using var dz = _gpu.Accelerator.Allocate1D<float>(batch * units);

        for (int step = 1; step <= 3; step++)
        {
            x.View.CopyFromCPU(_stream, TestData.Uniform(random, batch * fanIn, -1, 1));
            dz.View.CopyFromCPU(_stream, TestData.Uniform(random, batch * units, -1, 1));

            GpuParameterUpdate update = fusedOptimizer.BeginDeviceStep(_gpu, _stream, fusedParameters.View);
            layer.BackwardWeights(_stream, fusedGradients.View.SubView(0, weightCount), dz.View, x.View, batch, fanIn, units, update.At(0));
            biasGradient.Compute(_stream, fusedGradients.View.SubView(weightCount, units), dz.View, batch, units, update.At(weightCount));

            layer.BackwardWeights(_stream, standaloneGradients.View.SubView(0, weightCount), dz.View, x.View, batch, fanIn, units);
            biasGradient.Compute(_stream, standaloneGradients.View.SubView(weightCount, units), dz.View, batch, units);
            standaloneOptimizer.Step(_gpu, _stream, standaloneParameters.View, standaloneGradients.View);

            Assert.Equal(step, fusedOptimizer.StepCount);
            Assert.Equal(_stream.Download<float>(standaloneGradients.View), _stream.Download<float>(fusedGradients.View));
            float[] expected = _stream.Download<float>(standaloneParameters.View);
            Assert.Equal(expected, _stream.Download<float>(fusedParameters.View));
            Assert.NotEqual(initial, expected); // the update did something
        }
    }

    [Fact]
    public void BeginDeviceStep_ChecksBindsAndCounts_LikeStep()
    {
        var optimizer = new Sgd(0.1f, momentum: 0.9f);
        using var ten = _stream.Upload(Filled(10, 0f));
        using var eleven = _stream.Upload(Filled(11, 3f));

        GpuParameterUpdate update = optimizer.BeginDeviceStep(_gpu, _stream, ten.View);

        Assert.False(update.IsNone);
        Assert.True(GpuParameterUpdate.None.IsNone);
        Assert.Equal(1, optimizer.StepCount);
        Assert.Throws<InvalidOperationException>(() => optimizer.BeginDeviceStep(_gpu, _stream, eleven.View));
        Assert.Throws<InvalidOperationException>(() => optimizer.Step(Filled(10, 0f), Filled(10, 1f)));
        using (GpuAccelerator other = GpuAccelerator.CpuSimulator())
        {
            using var otherParameters = other.Accelerator.Allocate1D<float>(10);
            Assert.Throws<InvalidOperationException>(() => optimizer.BeginDeviceStep(other, other.Accelerator.DefaultStream, otherParameters.View));
            Assert.Throws<ArgumentException>(() => optimizer.BeginDeviceStep(_gpu, other.Accelerator.DefaultStream, ten.View));
        }

        Assert.Equal(1, optimizer.StepCount);
        Assert.Throws<NotSupportedException>(() => new HostOnlyOptimizer().BeginDeviceStep(_gpu, _stream, ten.View));

        // A kernel given an update whose buffer does not hold its range refuses to launch.
        var layer = new GpuDense<LaunchWidths, GpuRelu, GpuIdentity>(_gpu, default, default);
        using var dWeight = _gpu.Accelerator.Allocate1D<float>(3 * 4);
        using var dz = _gpu.Accelerator.Allocate1D<float>(2 * 4);
        using var x = _gpu.Accelerator.Allocate1D<float>(2 * 3);
        Assert.Throws<ArgumentException>(() => layer.BackwardWeights(_stream, dWeight.View, dz.View, x.View, 2, 3, 4, update.At(0))); // 12 weights, 10 parameters
        Assert.Throws<ArgumentException>(() => new GpuBiasGradient(_gpu).Compute(_stream, dWeight.View.SubView(0, 4), dz.View, 2, 4, update.At(7)));
        layer.BackwardWeights(_stream, dWeight.View.SubView(0, 6), dz.View.SubView(0, 4), x.View, 2, 3, 2, update.At(4)); // [4, 10): fits
    }

    [Fact]
    public void A_refused_device_step_compiles_nothing()
    {
        using GpuAccelerator fresh = GpuAccelerator.CpuSimulator(); // an empty kernel cache
        AcceleratorStream stream = fresh.Accelerator.DefaultStream;
        using var parameters = fresh.Accelerator.Allocate1D<float>(4);
        Assert.Throws<NotSupportedException>(() => new HostOnlyOptimizer().Step(fresh, stream, parameters.View, parameters.View));
        var boundElsewhere = new Sgd(0.1f);
        boundElsewhere.Step(Filled(4, 1f), Filled(4, 1f));
        Assert.Throws<InvalidOperationException>(() => boundElsewhere.Step(fresh, stream, parameters.View, parameters.View));
        Assert.Throws<ArgumentException>(() => new Sgd(0.1f).Step(fresh, _stream, parameters.View, parameters.View)); // another accelerator's stream
        Assert.Equal(0, fresh.LoadedKernelCount);
    }

    /// <summary>An optimizer with no GPU implementation (the base class's default).</summary>
    private sealed class HostOnlyOptimizer() : Optimizer(0.1f)
    {
        protected override void AllocateState(int length)
        {
        }

        protected override void ReleaseState()
        {
        }

        protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients) => parameters.Clear();
    }

    [Fact]
    public void UpdateKernel_CompilesToPtxWithoutExternalCalls()
    {
        Action<Index1D, ArrayView<float>, AdamUpdate> adam = GpuOptimizerKernels.UpdateKernel;
        Action<Index1D, ArrayView<float>, SgdUpdate> sgd = GpuOptimizerKernels.UpdateKernel;
        string ptx = GpuPtxAssert.CompilesWithoutExternalCalls(adam, explicitlyGrouped: false);
        GpuPtxAssert.CompilesWithoutExternalCalls(sgd, explicitlyGrouped: false);

        // Adam's denominator: a correctly rounded square root, not a call.
        Assert.Contains("sqrt.rn.f32", ptx, StringComparison.Ordinal);
    }
}
