using Dsl.Gpu;
using Dsl.Ops;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// <see cref="GpuReduction"/> (sum, mean and integer count into one device element) and <see cref="GpuBiasGradient"/>
/// (column sums) on ILGPU's CPU simulator against float64 sums and the CPU <see cref="BiasGradient"/>, at odd sizes,
/// and their kernels compiled to PTX for sm_90 without external calls.
/// </summary>
/// <remarks>
/// Tolerances: float accumulation of n terms in any order is within about n 2^-24 of the sum of magnitudes; the
/// reduction's tree and four-way strided order keeps it far lower, so sums are held to (log2 n + n / groupSize + 2)
/// 2^-24 times the sum of magnitudes, bias gradients to (batch / 4 + 16) 2^-24 times it (4 row slices on the simulator).
/// </remarks>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuReductionTests
{
    private const double Unit = 1.0 / (1 << 24);
    private readonly GpuAccelerator _gpu;
    private readonly AcceleratorStream _stream;

    public GpuReductionTests(GpuSimulatorFixture simulator)
    {
        _gpu = simulator.Gpu;
        _stream = _gpu.Accelerator.DefaultStream;
    }


    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(1000)]
    [InlineData(100003)]
    public void SumAndMean_MatchFloat64(int count)
    {
        var random = new Random(count);
        float[] values = TestData.Uniform(random, count, -1, 3);
        using var buffer = _stream.Upload(values);
        using var sum = _gpu.Accelerator.Allocate1D<float>(1);
        using var mean = _gpu.Accelerator.Allocate1D<float>(2);
        mean.View.MemSetToZero(_stream);
        var reduction = new GpuReduction(_gpu);

        reduction.Sum(_stream, buffer.View, count, sum.View);
        reduction.Mean(_stream, buffer.View, count, mean.View);

        double expected = values.Sum(v => (double)v);
        double magnitude = values.Sum(v => Math.Abs((double)v));
        double tolerance = (Math.Log2(count) + ((double)count / reduction.GroupSize) + 2) * Unit * magnitude;
        float actualSum = _stream.Download<float>(sum.View)[0];
        float[] actualMean = _stream.Download<float>(mean.View);
        Assert.Equal(expected, actualSum, tolerance);
        Assert.Equal(expected / count, actualMean[0], tolerance / count);
        Assert.Equal(0f, actualMean[1]); // only element 0 is written

        // One group, fixed order: the same bits again.
        reduction.Sum(_stream, buffer.View, count, sum.View);
        Assert.Equal(actualSum, _stream.Download<float>(sum.View)[0]);
    }

    [Fact]
    public void Sum_OfAPrefix_IgnoresTheRest_AndOfNothingIsZero()
    {
        float[] values = [1f, 2f, 3f, 1000f];
        using var buffer = _stream.Upload(values);
        using var result = _gpu.Accelerator.Allocate1D<float>(1);
        var reduction = new GpuReduction(_gpu);

        reduction.Sum(_stream, buffer.View, 3, result.View);
        Assert.Equal(6f, _stream.Download<float>(result.View)[0]);
        reduction.Sum(_stream, buffer.View, 0, result.View);
        Assert.Equal(0f, _stream.Download<float>(result.View)[0]);
        reduction.Mean(_stream, buffer.View, 2, result.View);
        Assert.Equal(1.5f, _stream.Download<float>(result.View)[0]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(33)]
    [InlineData(100003)]
    public void IntegerSum_CountsExactly(int count)
    {
        var random = new Random(count);
        int[] flags = [.. Enumerable.Range(0, count).Select(_ => random.Next(2))];
        using var buffer = _stream.Upload(flags);
        using var result = _gpu.Accelerator.Allocate1D<int>(1);

        new GpuReduction(_gpu).Sum(_stream, buffer.View, count, result.View);

        Assert.Equal(flags.Sum(), _stream.Download<int>(result.View)[0]);
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        var reduction = new GpuReduction(_gpu);
        using var values = _gpu.Accelerator.Allocate1D<float>(4);
        using var result = _gpu.Accelerator.Allocate1D<float>(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => reduction.Sum(_stream, values.View, 5, result.View));
        Assert.Throws<ArgumentOutOfRangeException>(() => reduction.Sum(_stream, values.View, -1, result.View));
        Assert.Throws<ArgumentOutOfRangeException>(() => reduction.Mean(_stream, values.View, 0, result.View));
        Assert.Throws<ArgumentException>(() => reduction.Sum(_stream, values.View, 4, ArrayView<float>.Empty));
        using GpuAccelerator other = GpuAccelerator.CpuSimulator();
        Assert.Throws<ArgumentException>(() => reduction.Sum(other.Accelerator.DefaultStream, values.View, 4, result.View));
        Assert.Throws<ArgumentException>(() => new GpuBiasGradient(_gpu).Compute(other.Accelerator.DefaultStream, result.View, values.View, 4, 1));
    }

    [Fact]
    public void GroupSize_IsWholeWarpsAndAtMostThirtyTwoOfThem()
    {
        int groupSize = new GpuReduction(_gpu).GroupSize;
        Assert.Equal(0, groupSize % _gpu.WarpSize);
        Assert.InRange(groupSize, _gpu.WarpSize, 32 * _gpu.WarpSize);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 33)]
    [InlineData(33, 70)]
    [InlineData(100, 31)]
    [InlineData(513, 3)]
    [InlineData(3, 65)]
    public void BiasGradient_MatchesCpuOpAndFloat64(int batch, int units)
    {
        var random = new Random(batch * 1000 + units);
        float[] dz = TestData.Uniform(random, batch * units, -1, 1);
        using var dzBuffer = _stream.Upload(dz);
        using var dBias = _gpu.Accelerator.Allocate1D<float>(units);

        new GpuBiasGradient(_gpu).Compute(_stream, dBias.View, dzBuffer.View.SubView(0, dz.Length), batch, units);
        float[] actual = _stream.Download<float>(dBias.View);

        var cpu = new float[units];
        BiasGradient.Compute(cpu, dz, batch, units);
        (double[] expected, double[] magnitude) = Float64Reference.ColumnSums(dz, batch, units);
        for (int j = 0; j < units; j++)
        {
            double tolerance = ((batch / 4.0) + 16) * Unit * magnitude[j]; // at least 4 row slices per column
            Assert.Equal(expected[j], actual[j], tolerance);
            Assert.Equal(cpu[j], actual[j], tolerance + (batch * Unit * magnitude[j]));
        }
    }

    [Fact]
    public void BiasGradient_OfAnEmptyBatchIsZero_AndOverwrites()
    {
        using var dBias = _stream.Upload(new[] { 5f, 6f, 7f });
        new GpuBiasGradient(_gpu).Compute(_stream, dBias.View, ArrayView<float>.Empty, 0, 3);
        Assert.Equal([0f, 0f, 0f], _stream.Download<float>(dBias.View));
    }

    [Fact]
    public void BiasGradient_MismatchedLengths_Throw()
    {
        var bias = new GpuBiasGradient(_gpu);
        using var six = _gpu.Accelerator.Allocate1D<float>(6);
        using var three = _gpu.Accelerator.Allocate1D<float>(3);
        Assert.Throws<ArgumentException>(() => bias.Compute(_stream, three.View, six.View, 3, 3));
        Assert.Throws<ArgumentException>(() => bias.Compute(_stream, six.View, six.View, 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => bias.Compute(_stream, three.View, six.View, -2, 3));
    }

    public static TheoryData<string> Kernels() => ["sum", "count", "bias"];

    [Theory]
    [MemberData(nameof(Kernels))]
    public void ReductionKernel_CompilesToPtxWithoutExternalCalls(string kernel)
    {
        Delegate method = kernel switch
        {
            "sum" => GpuReduction.SumKernel,
            "count" => GpuReduction.CountKernel,
            "bias" => (Action<ArrayView<float>, ArrayView<float>, int, int, NoUpdate>)GpuBiasGradient.ColumnSumKernel,
            _ => throw new ArgumentOutOfRangeException(nameof(kernel)),
        };

        string ptx = GpuPtxAssert.CompilesWithoutExternalCalls(method, explicitlyGrouped: true);

        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
    }
}
