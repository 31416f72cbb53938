using Dsl.Gpu;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// One ILGPU CPU simulator (32-thread warps, real barriers, shuffles and atomics) shared by every GPU test class,
/// and a one-thread CPU device to compare against. Kernels compile once per accelerator, so sharing it keeps each
/// kernel from being recompiled per class; the classes share one collection and run one after another, since the
/// simulator runs every group's threads as OS threads and parallel classes would only contend for the two cores.
/// </summary>
public sealed class GpuSimulatorFixture : IDisposable
{
    public Device Simulator { get; } = Device.GpuSimulator();

    /// <summary>The simulator's accelerator, for tests of single kernels.</summary>
    public GpuAccelerator Gpu => Simulator.Gpu!;

    public Device Cpu { get; } = Device.Cpu(1);

    public void Dispose()
    {
        Simulator.Dispose();
        Cpu.Dispose();
    }
}

/// <summary>The collection of GPU test classes sharing <see cref="GpuSimulatorFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class GpuSimulatorCollection : ICollectionFixture<GpuSimulatorFixture>
{
    public const string Name = "GPU simulator";
}
