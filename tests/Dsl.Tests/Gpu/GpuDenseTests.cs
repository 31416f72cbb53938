using Dsl.Cpu;
using Dsl.Gpu;
using Dsl.Ops;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// <see cref="GpuDense{TWidths, TActivation, TPreviousActivation}"/> on ILGPU's CPU simulator: forward (bias and
/// activation fused, pre-activation kept), weight gradient and input gradient (previous activation's
/// derivative fused), each against a naive float64 reference and against the CPU <see cref="Dense"/>, for
/// every activation at odd sizes; the epilogues' kernels compiled to PTX.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuDenseTests
{
    private const float LeakySlope = 0.01f;

    private readonly GpuAccelerator _gpu;

    public GpuDenseTests(GpuSimulatorFixture simulator) => _gpu = simulator.Gpu;


    public static TheoryData<string, int, int, int, bool> Cases()
    {
        // Single-tile shapes for every activation (the GEMM's tiling is covered by GpuGemmTests; the
        // simulator is slow per tile), and multi-tile ones for two activations, one reading z, one y.
        var cases = new TheoryData<string, int, int, int, bool>();
        int[][] shapes = [[1, 1, 1], [7, 3, 5], [33, 17, 9]];
        foreach (string activation in GpuActivationPairs.Names)
        {
            foreach (int[] shape in shapes)
            {
                cases.Add(activation, shape[0], shape[1], shape[2], shape[0] % 2 == 1);
            }
        }

        cases.Add("Gelu", 70, 65, 33, true);
        cases.Add("Sigmoid", 65, 7, 70, false);
        return cases;
    }

    public static TheoryData<string> Names => new(GpuActivationPairs.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_MatchTheFloat64ReferenceAndTheCpuDense(string activation, int batch, int fanIn, int units, bool hasBias)
        => GpuActivationPairs.Visit(activation, LeakySlope, new ForwardAndBackward(_gpu, batch, fanIn, units, hasBias));

    [Theory]
    [MemberData(nameof(Names))]
    public void Epilogues_CompileToPtxWithoutExternalCalls(string activation)
        => GpuActivationPairs.Visit(activation, LeakySlope, new CompileEpilogues());

    [Fact]
    public void WeightGradientKernels_CompileToPtxWithoutExternalCalls_EachWithOnlyItsOwnRule()
    {
        string none = GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<WeightGradientEpilogue<NoUpdate>>(Transpose.Yes, Transpose.No), explicitlyGrouped: true);
        string sgd = GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<WeightGradientEpilogue<SgdUpdate>>(Transpose.Yes, Transpose.No), explicitlyGrouped: true);
        string adam = GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<WeightGradientEpilogue<AdamUpdate>>(Transpose.Yes, Transpose.No, wide: true), explicitlyGrouped: true);

        // Adam's square root appears in its kernel only: each rule is compiled on its own.
        Assert.DoesNotContain("sqrt", none, StringComparison.Ordinal);
        Assert.DoesNotContain("sqrt", sgd, StringComparison.Ordinal);
        Assert.Contains("sqrt.rn.f32", adam, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_WithoutBiasOrPreActivation_WritesOnlyTheOutput()
    {
        const int Batch = 7, FanIn = 5, Units = 3;
        var random = new Random(11);
        float[] x = RandomValues(random, Batch * FanIn);
        float[] weight = RandomValues(random, Units * FanIn);
        Accelerator accelerator = _gpu.Accelerator;
        using var xBuffer = accelerator.Allocate1D(x);
        using var weightBuffer = accelerator.Allocate1D(weight);
        using var output = accelerator.Allocate1D<float>(Batch * Units);

        var layer = new GpuDense<LaunchWidths, GpuRelu, GpuIdentity>(_gpu, new GpuRelu(), new GpuIdentity());
        layer.Forward(accelerator.DefaultStream, output.View, ArrayView<float>.Empty, xBuffer.View, weightBuffer.View, ArrayView<float>.Empty, Batch, FanIn, Units);
        accelerator.Synchronize();

        float[] y = output.GetAsArray1D();
        for (int b = 0; b < Batch; b++)
        {
            for (int o = 0; o < Units; o++)
            {
                double z = 0;
                for (int i = 0; i < FanIn; i++)
                {
                    z += (double)x[(b * FanIn) + i] * weight[(o * FanIn) + i];
                }

                Assert.Equal(Math.Max(z, 0), y[(b * Units) + o], 1e-5);
            }
        }
    }

    [Fact]
    public void Layers_OfTheSameTypes_ShareTheirKernels()
    {
        using var gpu = GpuAccelerator.CpuSimulator(); // an empty kernel cache
        Accelerator accelerator = gpu.Accelerator;
        using var buffer = accelerator.Allocate1D<float>(64);
        var first = new GpuDense<LaunchWidths, GpuTanh, GpuSigmoid>(gpu, new GpuTanh(), new GpuSigmoid());
        var second = new GpuDense<LaunchWidths, GpuTanh, GpuSigmoid>(gpu, new GpuTanh(), new GpuSigmoid());
        Assert.Equal(0, gpu.LoadedKernelCount); // kernels compile on their first launch
        first.Forward(accelerator.DefaultStream, buffer.View, default, buffer.View, buffer.View, default, 2, 3, 4);
        Assert.Equal(1, gpu.LoadedKernelCount);
        second.Forward(accelerator.DefaultStream, buffer.View, default, buffer.View, buffer.View, default, 3, 5, 2); // other widths: the same kernel
        Assert.Equal(1, gpu.LoadedKernelCount);
        new GpuDense<Widths3x5, GpuTanh, GpuSigmoid>(gpu, new GpuTanh(), new GpuSigmoid())
            .Forward(accelerator.DefaultStream, buffer.View, default, buffer.View, buffer.View, default, 2, 3, 5); // constant widths: its own
        Assert.Equal(2, gpu.LoadedKernelCount);
        accelerator.Synchronize();

        Assert.False(second.NeedsPreActivation);
        Assert.True(new GpuDense<LaunchWidths, GpuGelu, GpuIdentity>(gpu, new GpuGelu(), new GpuIdentity()).NeedsPreActivation);
    }

    /// <summary>Widths compiled into a layer's kernels: fanIn 3, units 5.</summary>
    private readonly struct Widths3x5 : IDenseWidths
    {
        public bool AreConstant => true;
        public int FanIn => 3;
        public int Units => 5;
    }

    [Fact]
    public void ConstantWidths_RefuseCallsWithOtherWidths()
    {
        Accelerator accelerator = _gpu.Accelerator;
        using var large = accelerator.Allocate1D<float>(100);
        AcceleratorStream stream = accelerator.DefaultStream;
        var layer = new GpuDense<Widths3x5, GpuRelu, GpuIdentity>(_gpu, new GpuRelu(), new GpuIdentity());

        var forward = Assert.Throws<ArgumentException>(() => layer.Forward(stream, large.View, default, large.View, large.View, default, 4, 3, 6));
        Assert.Contains("compiled for fanIn = 3, units = 5", forward.Message, StringComparison.Ordinal);
        Assert.Contains("passes fanIn = 3, units = 6", forward.Message, StringComparison.Ordinal);
        Assert.Equal("units", forward.ParamName);
        Assert.Equal("fanIn", Assert.Throws<ArgumentException>(() => layer.BackwardInput(stream, large.View, large.View, large.View, default, large.View, 4, 2, 5)).ParamName);
        Assert.Equal("fanIn", Assert.Throws<ArgumentException>(() => layer.BackwardWeights(stream, large.View, large.View, large.View, 4, 4, 5)).ParamName);
    }

    [Fact]
    public void ShortViews_AreRejected()
    {
        Accelerator accelerator = _gpu.Accelerator;
        using var small = accelerator.Allocate1D<float>(10);
        using var large = accelerator.Allocate1D<float>(100);
        AcceleratorStream stream = accelerator.DefaultStream;
        var layer = new GpuDense<LaunchWidths, GpuSilu, GpuGelu>(_gpu, new GpuSilu(), new GpuGelu());

        // (batch, units) = (4, 5) needs 20 floats of output, pre-activation and 5 of bias.
        var output = Assert.Throws<ArgumentException>(() => layer.Forward(stream, small.View, large.View, large.View, large.View, large.View, 4, 3, 5));
        Assert.Equal("output", output.ParamName);
        var preActivation = Assert.Throws<ArgumentException>(() => layer.Forward(stream, large.View, small.View, large.View, large.View, large.View, 4, 3, 5));
        Assert.Equal("preActivation", preActivation.ParamName);
        var bias = Assert.Throws<ArgumentException>(() => layer.Forward(stream, large.View, large.View, large.View, large.View, small.View.SubView(0, 4), 4, 3, 5));
        Assert.Equal("bias", bias.ParamName);

        var dWeight = Assert.Throws<ArgumentException>(() => layer.BackwardWeights(stream, small.View, large.View, large.View, 4, 3, 5));
        Assert.Equal("dWeight", dWeight.ParamName);

        // GELU's derivative reads the pre-activation, so the previous layer's z is required.
        var previousPreActivation = Assert.Throws<ArgumentException>(() =>
            layer.BackwardInput(stream, large.View, large.View, large.View, ArrayView<float>.Empty, large.View, 4, 3, 5));
        Assert.Equal("previousPreActivation", previousPreActivation.ParamName);
    }

    private static float[] RandomValues(Random random, int count, double scale = 1) => TestData.Uniform(random, count, -scale, scale);

    /// <summary>All three passes of one layer whose activation also stands in for the previous layer's.</summary>
    private sealed class ForwardAndBackward(GpuAccelerator gpu, int batch, int fanIn, int units, bool hasBias) : IGpuActivationPairVisitor
    {
        public void Visit<TGpu, TCpu>(TGpu gpuActivation, TCpu cpuActivation)
            where TGpu : struct, IGpuActivation
            where TCpu : struct, IActivation
        {
            var random = new Random((batch * 31) + (fanIn * 7) + units);
            float[] x = RandomValues(random, batch * fanIn);
            float[] weight = RandomValues(random, units * fanIn);
            float[] bias = hasBias ? RandomValues(random, units) : [];
            float[] dPreActivation = RandomValues(random, batch * units);
            float[] previousPreActivation = RandomValues(random, batch * fanIn, scale: 3);
            float[] previousOutput = [.. previousPreActivation.Select(cpuActivation.Forward)];

            Accelerator accelerator = gpu.Accelerator;
            AcceleratorStream stream = accelerator.DefaultStream;
            using var xBuffer = accelerator.Allocate1D(x);
            using var weightBuffer = accelerator.Allocate1D(weight);
            using var biasBuffer = accelerator.Allocate1D(hasBias ? bias : [0f]);
            using var outputBuffer = accelerator.Allocate1D<float>(batch * units);
            using var preActivationBuffer = accelerator.Allocate1D<float>(batch * units);
            using var dPreActivationBuffer = accelerator.Allocate1D(dPreActivation);
            using var dWeightBuffer = accelerator.Allocate1D<float>(units * fanIn);
            using var previousPreActivationBuffer = accelerator.Allocate1D(previousPreActivation);
            using var previousOutputBuffer = accelerator.Allocate1D(previousOutput);
            using var dPreviousBuffer = accelerator.Allocate1D<float>(batch * fanIn);

            var layer = new GpuDense<LaunchWidths, TGpu, TGpu>(gpu, gpuActivation, gpuActivation);
            layer.Forward(stream, outputBuffer.View, preActivationBuffer.View, xBuffer.View, weightBuffer.View,
                hasBias ? biasBuffer.View : ArrayView<float>.Empty, batch, fanIn, units);
            layer.BackwardWeights(stream, dWeightBuffer.View, dPreActivationBuffer.View, xBuffer.View, batch, fanIn, units);
            // Activations whose derivative reads only y get no pre-activation view, as a network would pass them.
            ArrayView<float> previousZ = gpuActivation.NeedsPreActivation ? previousPreActivationBuffer.View : ArrayView<float>.Empty;
            layer.BackwardInput(stream, dPreviousBuffer.View, dPreActivationBuffer.View, weightBuffer.View, previousZ, previousOutputBuffer.View, batch, fanIn, units);
            stream.Synchronize();

            // Forward: z and y against float64 and against the CPU Dense.
            float[] output = outputBuffer.GetAsArray1D();
            float[] preActivation = preActivationBuffer.GetAsArray1D();
            float[] cpuOutput = new float[batch * units];
            float[] cpuPreActivation = new float[batch * units];
            Dense.Forward(cpuOutput, cpuPreActivation, x, weight, bias, batch, fanIn, units, cpuActivation, workers: null);
            for (int b = 0; b < batch; b++)
            {
                for (int o = 0; o < units; o++)
                {
                    double z = hasBias ? bias[o] : 0;
                    for (int i = 0; i < fanIn; i++)
                    {
                        z += (double)x[(b * fanIn) + i] * weight[(o * fanIn) + i];
                    }

                    int index = (b * units) + o;
                    double tolerance = 1e-5 * Math.Sqrt(fanIn + 1) * (1 + Math.Abs(z));
                    Assert.Equal(z, preActivation[index], tolerance);
                    Assert.Equal(cpuActivation.Forward((float)z), output[index], tolerance);
                    Assert.Equal(cpuPreActivation[index], preActivation[index], tolerance);
                    Assert.Equal(cpuOutput[index], output[index], tolerance);
                }
            }

            // dW = dz^T x.
            float[] dWeight = dWeightBuffer.GetAsArray1D();
            float[] cpuDWeight = new float[units * fanIn];
            Dense.BackwardWeights(cpuDWeight, [], dPreActivation, x, batch, fanIn, units, workers: null);
            for (int o = 0; o < units; o++)
            {
                for (int i = 0; i < fanIn; i++)
                {
                    double sum = 0;
                    for (int b = 0; b < batch; b++)
                    {
                        sum += (double)dPreActivation[(b * units) + o] * x[(b * fanIn) + i];
                    }

                    int index = (o * fanIn) + i;
                    double tolerance = 1e-5 * Math.Sqrt(batch) * (1 + Math.Abs(sum));
                    Assert.Equal(sum, dWeight[index], tolerance);
                    Assert.Equal(cpuDWeight[index], dWeight[index], tolerance);
                }
            }

            // dzPrev = (dz W) * phiPrev'(zPrev, yPrev).
            float[] dPrevious = dPreviousBuffer.GetAsArray1D();
            float[] cpuDPrevious = new float[batch * fanIn];
            Dense.BackwardInput(cpuDPrevious, dPreActivation, weight, previousPreActivation, previousOutput, batch, fanIn, units, cpuActivation, workers: null);
            for (int b = 0; b < batch; b++)
            {
                for (int i = 0; i < fanIn; i++)
                {
                    double sum = 0;
                    for (int o = 0; o < units; o++)
                    {
                        sum += (double)dPreActivation[(b * units) + o] * weight[(o * fanIn) + i];
                    }

                    int index = (b * fanIn) + i;
                    double expected = sum * cpuActivation.Derivative(previousPreActivation[index], previousOutput[index]);
                    double tolerance = 1e-5 * Math.Sqrt(units + 1) * (1 + Math.Abs(sum));
                    Assert.Equal(expected, dPrevious[index], tolerance);
                    Assert.Equal(cpuDPrevious[index], dPrevious[index], tolerance);
                }
            }
        }
    }

    /// <summary>The forward's and the input gradient's GEMMs with this activation's epilogues, as the layer loads them.</summary>
    private sealed class CompileEpilogues : IGpuActivationPairVisitor
    {
        public void Visit<TGpu, TCpu>(TGpu gpuActivation, TCpu cpuActivation)
            where TGpu : struct, IGpuActivation
            where TCpu : struct, IActivation
        {
            GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<BiasActivationEpilogue<TGpu>>(Transpose.No, Transpose.Yes), explicitlyGrouped: true);
            GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<DerivativeEpilogue<TGpu>>(Transpose.No, Transpose.No), explicitlyGrouped: true);
        }
    }
}
