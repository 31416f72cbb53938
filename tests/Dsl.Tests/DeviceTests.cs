using Dsl;
using Xunit;

namespace Dsl.Tests;

/// <summary>Device choice: explicit CPU thread counts, parsing, and the DSL_DEVICE override of Best().</summary>
public sealed class DeviceTests
{
    [Fact]
    public void Cpu_devices_have_the_asked_thread_count()
    {
        using Device one = Device.Cpu(1);
        Assert.Null(one.Workers);
        Assert.Equal(1, one.ThreadCount);
        using Device three = Device.Cpu(3);
        Assert.Equal(3, three.ThreadCount);
        Assert.Equal("cpu (3 threads)", three.Name);
        using Device all = Device.Cpu();
        Assert.Equal(Environment.ProcessorCount, all.ThreadCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Cpu(-1));
    }

    [Theory]
    [InlineData("cpu:2", 2)]
    [InlineData("CPU:1", 1)]
    public void Parse_reads_cpu_thread_counts(string name, int threads)
    {
        using Device device = Device.Parse(name);
        Assert.Equal(threads, device.ThreadCount);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cpu:0")]
    [InlineData("cpu:-2")]
    [InlineData("cpu:x")]
    [InlineData("cuda:x")]
    [InlineData("opencl:-1")]
    [InlineData("gpu-sim:1")]
    [InlineData("")]
    public void Parse_rejects_unknown_devices_by_name(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => Device.Parse(name));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Best_honours_the_environment_override()
    {
        string? saved = Environment.GetEnvironmentVariable("DSL_DEVICE");
        try
        {
            Environment.SetEnvironmentVariable("DSL_DEVICE", "cpu:1");
            using (Device forced = Device.Best())
            {
                Assert.Equal(1, forced.ThreadCount);
            }

            Environment.SetEnvironmentVariable("DSL_DEVICE", "gpu-sim");
            using (Device simulator = Device.Best())
            {
                Assert.Equal(DeviceKind.GpuSimulator, simulator.Kind);
            }

            Environment.SetEnvironmentVariable("DSL_DEVICE", null);
            using Device best = Device.Best();
            (int cuda, int openCL) = Dsl.Gpu.GpuAccelerator.CountGpus();
            if (cuda == 0 && openCL == 0)
            {
                // No GPU here: the CPU backend with one thread per core.
                Assert.Equal(DeviceKind.Cpu, best.Kind);
                Assert.Equal(Environment.ProcessorCount, best.ThreadCount);
            }
            else
            {
                Assert.Equal(cuda > 0 ? DeviceKind.Cuda : DeviceKind.OpenCL, best.Kind);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("DSL_DEVICE", saved);
        }
    }

    [Fact]
    public void Choice_order_is_cuda_then_opencl_then_cpu_and_a_listed_gpu_that_fails_to_open_falls_through()
    {
        using (Device none = Device.Choose(0, 0))
        {
            Assert.Equal(DeviceKind.Cpu, none.Kind);
        }

        (int cuda, int openCL) = Dsl.Gpu.GpuAccelerator.CountGpus();
        if (cuda == 0 && openCL == 0)
        {
            // Pretend the probe listed GPUs: opening them fails here, so the choice falls through to the CPU.
            using Device fallback = Device.Choose(1, 1);
            Assert.Equal(DeviceKind.Cpu, fallback.Kind);
        }
    }

    [Fact]
    public void Naming_an_absent_gpu_is_a_typed_error_not_a_silent_fallback()
    {
        (int cuda, int openCL) = Dsl.Gpu.GpuAccelerator.CountGpus();
        var missingCuda = Assert.Throws<DeviceUnavailableException>(() => Device.Cuda(cuda));
        Assert.Equal($"cuda:{cuda}", missingCuda.Requested);
        Assert.Contains("cuda:" + cuda.ToString(System.Globalization.CultureInfo.InvariantCulture), missingCuda.Message, StringComparison.Ordinal);
        Assert.Throws<DeviceUnavailableException>(() => Device.OpenCL(openCL));
        Assert.Throws<DeviceUnavailableException>(() => Device.Parse($"cuda:{cuda}"));

        string? saved = Environment.GetEnvironmentVariable("DSL_DEVICE");
        try
        {
            Environment.SetEnvironmentVariable("DSL_DEVICE", $"opencl:{openCL}");
            Assert.Throws<DeviceUnavailableException>(() => Device.Best());
        }
        finally
        {
            Environment.SetEnvironmentVariable("DSL_DEVICE", saved);
        }
    }

    [Fact]
    public void The_gpu_simulator_is_a_gpu_device_that_loads_each_kernel_once()
    {
        using Device device = Device.GpuSimulator();
        Assert.True(device.IsGpu);
        Assert.Equal(32, device.Gpu!.WarpSize);
        Assert.Null(device.Workers);
        _ = new Dsl.Tests.Networks.NetA(device);
        int loaded = device.Gpu.LoadedKernelCount;
        Assert.True(loaded > 0);
        _ = new Dsl.Tests.Networks.NetA(device);
        Assert.Equal(loaded, device.Gpu.LoadedKernelCount);
    }
}
