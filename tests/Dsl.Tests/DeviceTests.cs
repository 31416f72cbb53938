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

            Environment.SetEnvironmentVariable("DSL_DEVICE", null);
            using Device best = Device.Best();
            Assert.Equal(Environment.ProcessorCount, best.ThreadCount);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DSL_DEVICE", saved);
        }
    }
}
