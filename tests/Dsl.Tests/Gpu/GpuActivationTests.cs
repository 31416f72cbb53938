using Dsl.Gpu;
using Dsl.Ops;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// Every GPU activation (<see cref="IGpuActivation"/>) against its CPU twin (<see cref="IActivation"/>):
/// forward and derivative within a few ulp, called directly and from a kernel on ILGPU's CPU simulator;
/// each derivative against a finite difference of the GPU forward; each compiled to PTX without external calls.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuActivationTests
{
    private const float LeakySlope = 0.01f;

    private readonly GpuAccelerator _gpu;

    public GpuActivationTests(GpuSimulatorFixture simulator) => _gpu = simulator.Gpu;


    public static TheoryData<string> Names => new(GpuActivationPairs.Names);

    private static readonly float[] EdgeValues =
        [0f, -0f, 1e-6f, -1e-6f, 0.625f, -0.625f, 1.25f, -1.25f, 1f, -1f, 15f, -15f, 30f, -30f, 100f, -100f, 1e30f, -1e30f, float.MaxValue, -float.MaxValue];

    /// <summary>4,000 values uniform in [-8, 8] and the edge values (region boundaries, saturation).</summary>
    private static float[] Samples()
    {
        var random = new Random(2024);
        return [.. Enumerable.Range(0, 4_000).Select(_ => (float)(random.NextDouble() * 16.0 - 8.0)), .. EdgeValues];
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardAndDerivative_MatchTheCpuActivation(string name)
        => GpuActivationPairs.Visit(name, LeakySlope, new CompareWithCpu(name, null));

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardAndDerivative_InAKernelOnTheSimulator_MatchTheCpuActivation(string name)
        => GpuActivationPairs.Visit(name, LeakySlope, new CompareWithCpu(name, _gpu));

    [Theory]
    [MemberData(nameof(Names))]
    public void Derivative_MatchesFiniteDifferenceOfTheForward(string name)
        => GpuActivationPairs.Visit(name, LeakySlope, new CompareWithFiniteDifference(name));

    [Theory]
    [MemberData(nameof(Names))]
    public void NeedsPreActivation_MatchesTheCpuActivation(string name)
        => GpuActivationPairs.Visit(name, LeakySlope, new CompareNeedsPreActivation());

    [Theory]
    [MemberData(nameof(Names))]
    public void ActivationKernel_CompilesToPtxWithoutExternalCalls(string name)
        => GpuActivationPairs.Visit(name, LeakySlope, new CompileToPtx());

    [Fact]
    public void Derivative_AtZero_FollowsPyTorch()
    {
        Assert.Equal(0f, new GpuRelu().Derivative(0f, 0f));
        Assert.Equal(LeakySlope, new GpuLeakyRelu(LeakySlope).Derivative(0f, 0f));
        Assert.Equal(0.5f, new GpuGelu().Derivative(0f, 0f));
        Assert.Equal(0.5f, new GpuSilu().Derivative(0f, 0f));
        Assert.Equal(1f, new GpuTanh().Derivative(0f, 0f));
        Assert.Equal(0.25f, new GpuSigmoid().Derivative(0f, 0.5f));
        Assert.Equal(1f, new GpuIdentity().Derivative(0f, 0f));
    }

    [Fact]
    public void Relu_PropagatesNaN_AndMapsNegativeZeroToZero()
    {
        Assert.True(float.IsNaN(new GpuRelu().Forward(float.NaN)));
        Assert.Equal(0, BitConverter.SingleToInt32Bits(new GpuRelu().Forward(-0f)));
        Assert.Equal(BitConverter.SingleToInt32Bits(new Relu().Forward(-0f)), BitConverter.SingleToInt32Bits(new GpuRelu().Forward(-0f)));
    }

    [Theory]
    [InlineData(-0.01f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void LeakyRelu_RejectsInvalidSlope(float slope)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new GpuLeakyRelu(slope));
        Assert.Equal(slope, exception.ActualValue);
    }

    [Fact]
    public void LeakyRelu_KeepsItsSlope()
    {
        var activation = new GpuLeakyRelu(0.2f);
        Assert.Equal(0.2f, activation.Slope);
        Assert.Equal(-0.4f, activation.Forward(-2f));
        Assert.Equal(0.2f, activation.Derivative(-2f, -0.4f));
        Assert.Equal(1f, activation.Derivative(3f, 3f));
    }

    [Theory]
    [InlineData("Tanh")]
    [InlineData("Sigmoid")]
    [InlineData("Gelu")]
    [InlineData("Silu")]
    public void LargeInputs_SaturateWithoutNaN(string name)
        => GpuActivationPairs.Visit(name, LeakySlope, new CheckSaturation(name));

    /// <summary>Allowed |gpu - cpu|: relative 1e-6 (a few ulp), an absolute floor, and slack for derivatives that cancel.</summary>
    private static double Tolerance(double expected, double cancellingScale) => (1e-6 * Math.Abs(expected)) + (3e-7 * cancellingScale) + 1e-40;

    private static void AssertClose(double expected, float actual, double tolerance, string what)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            Assert.Equal(expected, (double)actual);
            return;
        }

        Assert.True(Math.Abs(actual - expected) <= tolerance, $"{what}: expected {expected:R}, got {actual:R} (tolerance {tolerance:G3})");
    }

    /// <summary>
    /// y = phi(z) and d = phi'(z, y) for every z, one thread per element: the activation as the GEMM epilogues
    /// call it, compiled by ILGPU.
    /// </summary>
    internal static void ActivationKernel<TActivation>(Index1D index, ArrayView<float> z, ArrayView<float> y, ArrayView<float> derivative, TActivation activation)
        where TActivation : struct, IGpuActivation
    {
        float output = activation.Forward(z[index]);
        y[index] = output;
        derivative[index] = activation.Derivative(z[index], output);
    }

    /// <summary>
    /// GPU forward and derivative against the CPU activation's scalar forms: the derivative is fed the same y
    /// (the CPU's) on both sides, so only the derivative formula is compared. With a simulator, evaluated by
    /// <see cref="ActivationKernel{TActivation}"/> there.
    /// </summary>
    private sealed class CompareWithCpu(string name, GpuAccelerator? gpu) : IGpuActivationPairVisitor
    {
        public void Visit<TGpu, TCpu>(TGpu gpuActivation, TCpu cpuActivation)
            where TGpu : struct, IGpuActivation
            where TCpu : struct, IActivation
        {
            float[] z = Samples();
            float[] y;
            float[] derivative;
            if (gpu is null)
            {
                y = [.. z.Select(gpuActivation.Forward)];
                derivative = [.. z.Select(value => gpuActivation.Derivative(value, cpuActivation.Forward(value)))];
            }
            else
            {
                (y, derivative) = RunKernel(gpu, z, gpuActivation);
            }

            for (int i = 0; i < z.Length; i++)
            {
                float expectedY = cpuActivation.Forward(z[i]);
                AssertClose(expectedY, y[i], Tolerance(expectedY, 0), $"{name}({z[i]:R})");

                // The kernel fed its own y to the derivative; the direct path fed the CPU's.
                float yForDerivative = gpu is null ? expectedY : y[i];
                float expectedDerivative = cpuActivation.Derivative(z[i], yForDerivative);
                double cancelling = name is "Gelu" or "Silu" ? 1 : 0;
                AssertClose(expectedDerivative, derivative[i], Tolerance(expectedDerivative, cancelling), $"{name}'({z[i]:R})");
            }
        }

        private static (float[] Y, float[] Derivative) RunKernel<TGpu>(GpuAccelerator gpu, float[] z, TGpu activation)
            where TGpu : struct, IGpuActivation
        {
            Accelerator accelerator = gpu.Accelerator;
            using MemoryBuffer1D<float, Stride1D.Dense> zBuffer = accelerator.Allocate1D(z);
            using MemoryBuffer1D<float, Stride1D.Dense> yBuffer = accelerator.Allocate1D<float>(z.Length);
            using MemoryBuffer1D<float, Stride1D.Dense> dBuffer = accelerator.Allocate1D<float>(z.Length);
            Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, TGpu> kernel = ActivationKernel;
            var launch = gpu.Kernel(kernel, a => a.LoadAutoGroupedStreamKernel(kernel));
            launch((int)zBuffer.Length, zBuffer.View, yBuffer.View, dBuffer.View, activation);
            accelerator.Synchronize();
            return (yBuffer.GetAsArray1D(), dBuffer.GetAsArray1D());
        }
    }

    /// <summary>phi'(z, phi(z)) against (phi(z + h) - phi(z - h)) / 2h of the GPU forward in float64 arithmetic on float values.</summary>
    private sealed class CompareWithFiniteDifference(string name) : IGpuActivationPairVisitor
    {
        public void Visit<TGpu, TCpu>(TGpu gpuActivation, TCpu cpuActivation)
            where TGpu : struct, IGpuActivation
            where TCpu : struct, IActivation
        {
            const float H = 1f / 256; // exact, so z +- h carries no rounding for |z| <= 8 beyond float's own
            foreach (float z in Samples().Where(value => Math.Abs(value) <= 8f))
            {
                if (Math.Abs(z) < 2 * H && name is "Relu" or "LeakyRelu")
                {
                    continue; // the kink
                }

                float above = z + H;
                float below = z - H;
                double finiteDifference = ((double)gpuActivation.Forward(above) - gpuActivation.Forward(below)) / ((double)above - below);
                float derivative = gpuActivation.Derivative(z, gpuActivation.Forward(z));
                // Truncation error h^2 |phi'''| / 6 is below 1e-5 for these smooth activations; rounding of the forward 6e-8 |y| / h.
                double tolerance = 2e-5 + (3e-5 * (1 + Math.Abs(gpuActivation.Forward(z))));
                AssertClose(finiteDifference, derivative, tolerance, $"{name}'({z:R}) vs finite difference");
            }
        }
    }

    private sealed class CompareNeedsPreActivation : IGpuActivationPairVisitor
    {
        public void Visit<TGpu, TCpu>(TGpu gpuActivation, TCpu cpuActivation)
            where TGpu : struct, IGpuActivation
            where TCpu : struct, IActivation
            => Assert.Equal(cpuActivation.NeedsPreActivation, gpuActivation.NeedsPreActivation);
    }

    private sealed class CompileToPtx : IGpuActivationPairVisitor
    {
        public void Visit<TGpu, TCpu>(TGpu gpuActivation, TCpu cpuActivation)
            where TGpu : struct, IGpuActivation
            where TCpu : struct, IActivation
        {
            Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, TGpu> kernel = ActivationKernel;
            GpuPtxAssert.CompilesWithoutExternalCalls(kernel.Method, explicitlyGrouped: false);
        }
    }

    private sealed class CheckSaturation(string name) : IGpuActivationPairVisitor
    {
        public void Visit<TGpu, TCpu>(TGpu gpuActivation, TCpu cpuActivation)
            where TGpu : struct, IGpuActivation
            where TCpu : struct, IActivation
        {
            foreach (float z in new[] { 30f, -30f, 100f, -100f, 1e30f, -1e30f, float.MaxValue, -float.MaxValue })
            {
                float y = gpuActivation.Forward(z);
                float derivative = gpuActivation.Derivative(z, y);
                Assert.False(float.IsNaN(y), $"{name}({z}) is NaN");
                Assert.True(float.IsFinite(derivative), $"{name}'({z}) = {derivative}");
            }

            float low = name == "Tanh" ? -1f : 0f;
            float Saturated(float z) => name is "Gelu" or "Silu" ? gpuActivation.Forward(z) / z : gpuActivation.Forward(z);
            Assert.Equal(1f, Saturated(100f));
            Assert.Equal(1f, Saturated(float.MaxValue));
            Assert.InRange(Saturated(-100f) - low, 0f, 1e-40f);
            Assert.Equal(0f, gpuActivation.Derivative(-100f, gpuActivation.Forward(-100f)), 1e-40f);
            Assert.Equal(name is "Gelu" or "Silu" ? 1f : 0f, gpuActivation.Derivative(100f, gpuActivation.Forward(100f)));
        }
    }
}

/// <summary>A test body generic over one GPU activation and its CPU twin.</summary>
internal interface IGpuActivationPairVisitor
{
    void Visit<TGpu, TCpu>(TGpu gpuActivation, TCpu cpuActivation)
        where TGpu : struct, IGpuActivation
        where TCpu : struct, IActivation;
}

/// <summary>The GPU activations by name, each with its CPU twin, for tests generic over both.</summary>
internal static class GpuActivationPairs
{
    public static readonly string[] Names = ["Identity", "Relu", "LeakyRelu", "Gelu", "Silu", "Tanh", "Sigmoid"];

    public static void Visit(string name, float leakySlope, IGpuActivationPairVisitor visitor)
    {
        switch (name)
        {
            case "Identity": visitor.Visit(new GpuIdentity(), new Identity()); break;
            case "Relu": visitor.Visit(new GpuRelu(), new Relu()); break;
            case "LeakyRelu": visitor.Visit(new GpuLeakyRelu(leakySlope), new LeakyRelu(leakySlope)); break;
            case "Gelu": visitor.Visit(new GpuGelu(), new Gelu()); break;
            case "Silu": visitor.Visit(new GpuSilu(), new Silu()); break;
            case "Tanh": visitor.Visit(new GpuTanh(), new Tanh()); break;
            case "Sigmoid": visitor.Visit(new GpuSigmoid(), new Sigmoid()); break;
            default: throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown activation.");
        }
    }
}
