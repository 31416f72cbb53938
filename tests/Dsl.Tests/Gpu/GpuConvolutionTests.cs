using Dsl.Gpu;
using Dsl.Ops;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// The convolution kernels on ILGPU's CPU simulator against the CPU op (<see cref="Conv2d"/>, im2col and the packed
/// GEMM) on odd shapes: odd lengths, heights and widths, strides 1-3, padding 0-2, dilation 1-2 on either axis, groups 1
/// and more, Conv1d as height 1 and Conv2d, with and without bias, dx added to and overwritten. The two sum in different
/// orders, so z, dW, db and dx agree to float rounding: within 2e-5 of the larger of 1 and the largest CPU magnitude.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuConvolutionTests(GpuSimulatorFixture fixture)
{
    private const float Tolerance = 2e-5f;

    /// <summary>
    /// Batch and geometry per case. Conv2d: in channels, height, width, out channels, kernel (h, w), stride (h, w),
    /// padding (h, w), dilation (h, w), groups. Conv1d: in channels, length, out channels, kernel, stride, padding,
    /// dilation, groups, as the height-1 geometry.
    /// </summary>
    private static readonly Dictionary<string, (int Batch, Conv2dGeometry G)> Geometries = new()
    {
        ["conv2d_3x3_padded"] = (2, new(3, 7, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1)),
        ["conv2d_strided_rectangular"] = (3, new(2, 11, 9, 5, 3, 2, 2, 3, 1, 0, 1, 1, 1)),
        ["conv2d_dilated_height"] = (2, new(3, 9, 11, 4, 3, 3, 1, 2, 2, 1, 2, 1, 1)),
        ["conv2d_groups_dilated_width"] = (2, new(6, 7, 5, 9, 3, 3, 3, 1, 1, 2, 1, 2, 3)),
        ["conv2d_depthwise_strided"] = (3, new(4, 9, 7, 4, 2, 3, 2, 2, 0, 1, 1, 1, 4)),
        ["conv2d_groups_dilated_both"] = (2, new(4, 9, 11, 6, 2, 3, 2, 1, 1, 2, 2, 2, 2)),
        ["conv2d_stride3_padding2"] = (2, new(3, 5, 7, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1)),
        ["conv2d_image_cnn_second"] = (3, new(6, 4, 4, 8, 3, 2, 1, 1, 1, 0, 1, 1, 2)),
        ["conv1d_mnist1d_first"] = (5, new Conv1dGeometry(1, 40, 25, 5, 2, 1, 1, 1).AsConv2d()),
        ["conv1d_odd_stride3_padding2"] = (3, new Conv1dGeometry(4, 23, 6, 3, 3, 2, 1, 2).AsConv2d()),
        ["conv1d_dilated_groups"] = (2, new Conv1dGeometry(6, 17, 9, 3, 1, 2, 2, 3).AsConv2d()),
        ["conv1d_stride2_dilation2"] = (4, new Conv1dGeometry(3, 19, 5, 4, 2, 0, 2, 1).AsConv2d()),
    };

    /// <summary>Each geometry twice: with bias and dx added to, and without bias and dx overwritten.</summary>
    public static TheoryData<string, bool, bool> Cases()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (string name in Geometries.Keys)
        {
            data.Add(name, true, true);
            data.Add(name, false, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Convolution_kernels_match_the_cpu_op(string name, bool bias, bool accumulate)
    {
        (int batch, Conv2dGeometry g) = Geometries[name];
        var random = new Random(name.Length * (bias ? 3 : 5));
        float[] x = TestData.Uniform(random, batch * g.InputSize, -2, 2);
        float[] w = TestData.Uniform(random, g.WeightLength, -1, 1);
        float[] b = bias ? TestData.Uniform(random, g.OutChannels, -1, 1) : [];
        float[] dz = TestData.Uniform(random, batch * g.OutputSize, -2, 2);
        float[] dxStart = TestData.Uniform(random, batch * g.InputSize, -1, 1);

        var columns = new float[batch * g.OutPositions * g.ColumnWidth];
        var channelMajor = new float[batch * g.OutputSize];
        var z = new float[batch * g.OutputSize];
        Conv2d.Forward(z, columns, channelMajor, x, w, b, batch, g, workers: null);
        float[] dx = [.. dxStart];
        var dw = new float[g.WeightLength];
        var db = new float[b.Length];
        Conv2d.Backward(dx, dw, db, dz, columns, channelMajor, w, batch, g, accumulate, workers: null);

        var convolution = new GpuConvolution(fixture.Gpu);
        AcceleratorStream stream = Stream;
        using var gx = Upload(x);
        using var gw = Upload(w);
        using var gb = Upload(b);
        using var gdz = Upload(dz);
        using var gz = new DeviceBuffer<float>(fixture.Gpu, z.Length);
        using var gdx = Upload(dxStart);
        using var gdw = Upload(TestData.Uniform(random, g.WeightLength, -1, 1)); // overwritten
        using var gdb = Upload(TestData.Uniform(random, b.Length, -1, 1));
        convolution.Forward(stream, gz.View, gx.View, gw.View, gb.View, batch, g);
        convolution.Backward(stream, gdx.View, gdw.View, gdb.View, gdz.View, gx.View, gw.View, batch, g, accumulate);

        AssertClose(name + " z", z, Download(gz));
        AssertClose(name + " dW", dw, Download(gdw));
        AssertClose(name + " db", db, Download(gdb));
        AssertClose(name + " dx", dx, Download(gdx));
    }

    [Fact]
    public void Without_an_input_gradient_only_the_parameters_gradients_are_written()
    {
        (int batch, Conv2dGeometry g) = Geometries["conv2d_groups_dilated_width"];
        var random = new Random(17);
        float[] x = TestData.Uniform(random, batch * g.InputSize, -2, 2);
        float[] w = TestData.Uniform(random, g.WeightLength, -1, 1);
        float[] dz = TestData.Uniform(random, batch * g.OutputSize, -2, 2);
        var columns = new float[batch * g.OutPositions * g.ColumnWidth];
        Conv2d.Columns(columns, x, batch, g);
        var dw = new float[g.WeightLength];
        var db = new float[g.OutChannels];
        Conv2d.Backward(default, dw, db, dz, columns, new float[batch * g.OutputSize], w, batch, g, accumulate: false, workers: null);

        using var gx = Upload(x);
        using var gw = Upload(w);
        using var gdz = Upload(dz);
        using var gdw = new DeviceBuffer<float>(fixture.Gpu, dw.Length);
        using var gdb = new DeviceBuffer<float>(fixture.Gpu, db.Length);
        new GpuConvolution(fixture.Gpu).Backward(Stream, default, gdw.View, gdb.View, gdz.View, gx.View, gw.View, batch, g, accumulate: false);
        AssertClose("dW", dw, Download(gdw));
        AssertClose("db", db, Download(gdb));
    }

    [Fact]
    public void Short_views_and_invalid_geometries_are_refused()
    {
        (int batch, Conv2dGeometry g) = Geometries["conv2d_3x3_padded"];
        var convolution = new GpuConvolution(fixture.Gpu);
        using var x = new DeviceBuffer<float>(fixture.Gpu, batch * g.InputSize);
        using var w = new DeviceBuffer<float>(fixture.Gpu, g.WeightLength);
        using var z = new DeviceBuffer<float>(fixture.Gpu, batch * g.OutputSize);
        using var shortBias = new DeviceBuffer<float>(fixture.Gpu, g.OutChannels - 1);
        Assert.Throws<ArgumentException>(() => convolution.Forward(Stream, z.Slice(0, z.Length - 1), x.View, w.View, default, batch, g));
        Assert.Throws<ArgumentException>(() => convolution.Forward(Stream, z.View, x.View, w.View, shortBias.View, batch, g));
        Assert.Throws<ArgumentException>(() => convolution.Backward(Stream, x.Slice(0, 1), w.View, default, z.View, x.View, w.View, batch, g, accumulate: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => convolution.Forward(Stream, z.View, x.View, w.View, default, -1, g));
        Assert.Throws<ArgumentOutOfRangeException>(() => convolution.Forward(Stream, z.View, x.View, w.View, default, batch, g with { Groups = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => convolution.Forward(Stream, z.View, x.View, w.View, default, int.MaxValue / g.InputSize + 1, g));
    }

    private AcceleratorStream Stream => fixture.Gpu.Accelerator.DefaultStream;

    /// <summary>Elementwise |a - b| within <see cref="Tolerance"/> times the larger of 1 and the largest |expected|.</summary>
    internal static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = Math.Max(1f, expected.Length == 0 ? 0f : expected.Max(MathF.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= Tolerance * scale, $"{what}[{i}]: CPU {expected[i]}, GPU {actual[i]} (scale {scale})");
        }
    }

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
