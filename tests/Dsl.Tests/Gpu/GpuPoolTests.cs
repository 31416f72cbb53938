using Dsl.Gpu;
using Dsl.Ops;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The pooling kernels on ILGPU's CPU simulator against the CPU ops on odd shapes, one- and two-dimensional, strided,
/// padded, dilated (max pools) and overlapping, dx added to and overwritten. The max and average pools visit and add
/// in the CPU ops' orders, so y, the argmax and dx must be the CPU's bit for bit, ties, NaN and windows all in the
/// padding included; the global average pool's forward sums in another order (within 1e-6 relative), its dx is exact.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuPoolTests(GpuSimulatorFixture fixture)
{
    /// <summary>
    /// Batch and max pool geometry per case: channels, height, width, kernel (h, w), stride (h, w), padding (h, w),
    /// dilation (h, w); one-dimensional ones through <see cref="PoolGeometry.OneDimensional"/> (channels, length,
    /// kernel, stride, padding, dilation).
    /// </summary>
    private static readonly Dictionary<string, (int Batch, PoolGeometry G)> MaxGeometries = new()
    {
        ["max2d_2x2"] = (2, new(3, 9, 8, 2, 2, 2, 2, 0, 0, 1, 1)),
        ["max2d_3x3_stride2_padding1"] = (3, new(2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1)),
        ["max2d_overlapping"] = (2, new(3, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1)),
        ["max2d_dilated_stride3"] = (2, new(2, 11, 9, 3, 2, 1, 3, 2, 1, 2, 2)),
        ["max1d_3_stride2_padding1"] = (3, PoolGeometry.OneDimensional(6, 30, 3, 2, 1, 1)),
        ["max1d_dilated_odd"] = (2, PoolGeometry.OneDimensional(4, 21, 3, 2, 2, 2)),
        ["max1d_windows_all_padding"] = (3, PoolGeometry.OneDimensional(2, 1, 2, 1, 2, 3)),
    };

    /// <summary>Batch and average pool geometry per case, as <see cref="MaxGeometries"/> (dilation 1).</summary>
    private static readonly Dictionary<string, (int Batch, PoolGeometry G)> AverageGeometries = new()
    {
        ["avg2d_2x2_stride1_padding1"] = (2, new(8, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1)),
        ["avg2d_3x3_stride2_padding1"] = (3, new(2, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1)),
        ["avg2d_rectangular_stride3"] = (2, new(3, 11, 10, 3, 2, 3, 2, 1, 0, 1, 1)),
        ["avg1d_2"] = (3, PoolGeometry.OneDimensional(6, 11, 2, 2, 0, 1)),
        ["avg1d_5_stride3_padding2"] = (2, PoolGeometry.OneDimensional(4, 17, 5, 3, 2, 1)),
    };

    public static TheoryData<string, string, bool> MaxCases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (string name in MaxGeometries.Keys)
        {
            data.Add(name, "uniform", true);
            data.Add(name, "ties", false);
        }

        data.Add("max2d_overlapping", "nan", false);
        data.Add("max1d_3_stride2_padding1", "nan", true);
        return data;
    }

    public static TheoryData<string, bool> AverageCases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in AverageGeometries.Keys)
        {
            data.Add(name, true);
            data.Add(name, false);
        }

        return data;
    }

    /// <param name="values">uniform: floats in [-2, 2); ties: integers in [-2, 2], so windows hold equal maxima; nan: uniform with some NaNs and infinities.</param>
    [Theory]
    [MemberData(nameof(MaxCases))]
    public void Max_pool_kernels_give_the_cpu_op_s_bits(string name, string values, bool accumulate)
    {
        (int batch, PoolGeometry g) = MaxGeometries[name];
        var random = new Random(name.Length + values.Length);
        float[] x = TestData.Uniform(random, batch * g.InputSize, -2, 2);
        if (values == "ties")
        {
            x = [.. x.Select(v => MathF.Round(v))];
        }
        else if (values == "nan")
        {
            for (int i = 0; i < x.Length; i += 7)
            {
                x[i] = (i / 7 % 3) switch { 0 => float.NaN, 1 => float.NegativeInfinity, _ => float.PositiveInfinity };
            }
        }

        float[] dy = TestData.Uniform(random, batch * g.OutputSize, -2, 2);
        float[] dxStart = TestData.Uniform(random, batch * g.InputSize, -1, 1);
        var y = new float[batch * g.OutputSize];
        var argmax = new int[y.Length];
        MaxPool.Forward(y, argmax, x, batch, g);
        float[] dx = [.. dxStart];
        MaxPool.Backward(dx, dy, argmax, batch, g, accumulate);
        if (name == "max1d_windows_all_padding")
        {
            Assert.All(argmax, index => Assert.Equal(-1, index));
        }

        var pool = new GpuMaxPool(fixture.Gpu);
        using var gx = Upload(x);
        using var gdy = Upload(dy);
        using var gy = new DeviceBuffer<float>(fixture.Gpu, y.Length);
        using var gargmax = new DeviceBuffer<int>(fixture.Gpu, argmax.Length);
        using var gdx = Upload(dxStart);
        pool.Forward(Stream, gy.View, gargmax.View, gx.View, batch, g);
        pool.Backward(Stream, gdx.View, gdy.View, gargmax.View, batch, g, accumulate);

        Assert.Equal(y, Download(gy));
        var gpuArgmax = new int[argmax.Length];
        gargmax.Download(Stream, gpuArgmax);
        Assert.Equal(argmax, gpuArgmax);
        Assert.Equal(dx, Download(gdx));
    }

    [Theory]
    [MemberData(nameof(AverageCases))]
    public void Average_pool_kernels_give_the_cpu_op_s_bits(string name, bool accumulate)
    {
        (int batch, PoolGeometry g) = AverageGeometries[name];
        var random = new Random(name.Length * (accumulate ? 2 : 3));
        float[] x = TestData.Uniform(random, batch * g.InputSize, -2, 2);
        float[] dy = TestData.Uniform(random, batch * g.OutputSize, -2, 2);
        float[] dxStart = TestData.Uniform(random, batch * g.InputSize, -1, 1);
        var y = new float[batch * g.OutputSize];
        AvgPool.Forward(y, x, batch, g);
        float[] dx = [.. dxStart];
        AvgPool.Backward(dx, dy, batch, g, accumulate);

        var pool = new GpuAvgPool(fixture.Gpu);
        using var gx = Upload(x);
        using var gdy = Upload(dy);
        using var gy = new DeviceBuffer<float>(fixture.Gpu, y.Length);
        using var gdx = Upload(dxStart);
        pool.Forward(Stream, gy.View, gx.View, batch, g);
        pool.Backward(Stream, gdx.View, gdy.View, batch, g, accumulate);

        Assert.Equal(y, Download(gy));
        Assert.Equal(dx, Download(gdx));
    }

    [Theory]
    [InlineData(3, 8, 20, true)]
    [InlineData(5, 25, 5, false)]
    [InlineData(2, 3, 1, true)]
    [InlineData(4, 7, 33, false)]
    public void Global_average_pool_kernels_match_the_cpu_op(int batch, int channels, int positions, bool accumulate)
    {
        var random = new Random(batch * channels * positions);
        float[] x = TestData.Uniform(random, batch * channels * positions, -2, 2);
        float[] dy = TestData.Uniform(random, batch * channels, -2, 2);
        float[] dxStart = TestData.Uniform(random, x.Length, -1, 1);
        var y = new float[batch * channels];
        GlobalAvgPool.Forward(y, x, batch, channels, positions);
        float[] dx = [.. dxStart];
        GlobalAvgPool.Backward(dx, dy, batch, channels, positions, accumulate);

        var pool = new GpuGlobalAvgPool(fixture.Gpu);
        using var gx = Upload(x);
        using var gdy = Upload(dy);
        using var gy = new DeviceBuffer<float>(fixture.Gpu, y.Length);
        using var gdx = Upload(dxStart);
        pool.Forward(Stream, gy.View, gx.View, batch, channels, positions);
        pool.Backward(Stream, gdx.View, gdy.View, batch, channels, positions, accumulate);

        float[] gpuY = Download(gy);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(MathF.Abs(y[i] - gpuY[i]) <= 1e-6f * Math.Max(1f, MathF.Abs(y[i])), $"y[{i}]: CPU {y[i]}, GPU {gpuY[i]}");
        }

        Assert.Equal(dx, Download(gdx));
    }

    [Fact]
    public void Short_views_and_invalid_geometries_are_refused()
    {
        (int batch, PoolGeometry g) = MaxGeometries["max2d_2x2"];
        using var x = new DeviceBuffer<float>(fixture.Gpu, batch * g.InputSize);
        using var y = new DeviceBuffer<float>(fixture.Gpu, batch * g.OutputSize);
        using var argmax = new DeviceBuffer<int>(fixture.Gpu, batch * g.OutputSize);
        var max = new GpuMaxPool(fixture.Gpu);
        var average = new GpuAvgPool(fixture.Gpu);
        var global = new GpuGlobalAvgPool(fixture.Gpu);
        Assert.Throws<ArgumentException>(() => max.Forward(Stream, y.View, argmax.Slice(0, argmax.Length - 1), x.View, batch, g));
        Assert.Throws<ArgumentException>(() => max.Backward(Stream, x.Slice(0, x.Length - 1), y.View, argmax.View, batch, g, accumulate: false));
        Assert.Throws<ArgumentException>(() => average.Forward(Stream, y.View, x.Slice(0, 3), batch, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => max.Forward(Stream, y.View, argmax.View, x.View, -1, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => average.Forward(Stream, y.View, x.View, batch, g with { DilationWidth = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => max.Forward(Stream, y.View, argmax.View, x.View, batch, g with { PaddingHeight = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => global.Forward(Stream, y.View, x.View, batch, 3, 0));
        Assert.Throws<ArgumentException>(() => global.Backward(Stream, x.View, y.Slice(0, 1), batch, g.Channels, g.InPositions, accumulate: true));
    }

    private AcceleratorStream Stream => fixture.Gpu.Accelerator.DefaultStream;

    private DeviceBuffer<float> Upload(float[] values)
    {
        var buffer = new DeviceBuffer<float>(fixture.Gpu, values.Length);
        buffer.Upload(Stream, values);
        return buffer;
    }

    private float[] Download(DeviceBuffer<float> buffer)
    {
        var values = new float[buffer.Length];
        buffer.Download(Stream, values);
        return values;
    }
}
