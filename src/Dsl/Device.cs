using Dsl.Cpu;
using Dsl.Gpu;

namespace Dsl;

/// <summary>Which backend a <see cref="Device"/> runs generated networks on.</summary>
public enum DeviceKind
{
    /// <summary>The CPU backend: SIMD kernels over a persistent worker pool.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend.</summary>
    Cuda,

    /// <summary>A GPU through ILGPU's OpenCL backend.</summary>
    OpenCL,

    /// <summary>ILGPU's CPU accelerator running the GPU kernels on simulated warps: for tests, never for speed.</summary>
    GpuSimulator,
}

/// <summary>
/// Where a network computes: the CPU backend, or a GPU through ILGPU (CUDA, OpenCL, or ILGPU's CPU
/// simulator for testing the GPU kernels). <see cref="Best()"/> picks CUDA, then OpenCL, then the CPU; the
/// environment variable DSL_DEVICE forces a choice ("cpu", "cpu:N", "cuda", "cuda:N", "opencl",
/// "opencl:N", "gpu-sim"). Generated networks run unchanged on any of them.
/// </summary>
public sealed class Device : IDisposable
{
    /// <summary>The environment variable that overrides <see cref="Best()"/>.</summary>
    public const string EnvironmentVariable = "DSL_DEVICE";

    private readonly bool _ownsWorkers;

    private Device(string name, DeviceKind kind, CpuWorkers? workers, bool ownsWorkers, GpuAccelerator? gpu)
    {
        Name = name;
        Kind = kind;
        Workers = workers;
        _ownsWorkers = ownsWorkers;
        Gpu = gpu;
    }

    /// <summary>A human-readable description, e.g. "cpu (2 threads)" or "cuda:0 (NVIDIA H100 80GB HBM3)".</summary>
    public string Name { get; }

    /// <summary>The backend.</summary>
    public DeviceKind Kind { get; }

    /// <summary>The worker pool CPU kernels split their tiles over; null means the calling thread only (and on GPU devices).</summary>
    public CpuWorkers? Workers { get; }

    /// <summary>The ILGPU accelerator for GPU kinds (including the simulator); null for the CPU backend.</summary>
    public GpuAccelerator? Gpu { get; }

    /// <summary>True when generated networks take their GPU path on this device.</summary>
    public bool IsGpu => Gpu is not null;

    /// <summary>Threads the CPU kernels use (1 on GPU devices, where host code only launches).</summary>
    public int ThreadCount => Workers?.ThreadCount ?? 1;

    /// <summary>The CPU backend with <paramref name="threads"/> threads (0: one per core).</summary>
    public static Device Cpu(int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        int count = threads == 0 ? Environment.ProcessorCount : threads;
        return count == 1
            ? new Device("cpu (1 thread)", DeviceKind.Cpu, null, ownsWorkers: false, gpu: null)
            : new Device($"cpu ({count} threads)", DeviceKind.Cpu, new CpuWorkers(count), ownsWorkers: true, gpu: null);
    }

    /// <summary>The CUDA GPU with the given index.</summary>
    /// <exception cref="DeviceUnavailableException">This machine has no such CUDA device.</exception>
    public static Device Cuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        GpuAccelerator gpu = GpuAccelerator.Cuda(index);
        return new Device($"cuda:{index} ({gpu.Name})", DeviceKind.Cuda, null, ownsWorkers: false, gpu);
    }

    /// <summary>The OpenCL GPU with the given index.</summary>
    /// <exception cref="DeviceUnavailableException">This machine has no such OpenCL device.</exception>
    public static Device OpenCL(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        GpuAccelerator gpu = GpuAccelerator.OpenCL(index);
        return new Device($"opencl:{index} ({gpu.Name})", DeviceKind.OpenCL, null, ownsWorkers: false, gpu);
    }

    /// <summary>
    /// ILGPU's CPU accelerator running the GPU kernels on simulated 32-thread warps. It exists to test the
    /// GPU path on machines without a GPU; a launch costs hundreds of microseconds.
    /// </summary>
    public static Device GpuSimulator()
        => new("gpu-sim (ILGPU CPU accelerator)", DeviceKind.GpuSimulator, null, ownsWorkers: false, GpuAccelerator.CpuSimulator());

    /// <summary>
    /// The best device present: the first CUDA GPU, else the first OpenCL GPU, else the CPU backend with
    /// one thread per core. DSL_DEVICE, when set, names the device instead (see <see cref="Parse"/>); a
    /// named device that is absent is an error, not a silent fallback.
    /// </summary>
    /// <exception cref="ArgumentException">DSL_DEVICE is set to an unknown name.</exception>
    /// <exception cref="DeviceUnavailableException">DSL_DEVICE names a GPU this machine does not have.</exception>
    public static Device Best()
    {
        string? forced = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(forced))
        {
            return Parse(forced.Trim());
        }

        (int cuda, int openCL) = GpuAccelerator.CountGpus();
        return Choose(cuda, openCL);
    }

    /// <summary>The choice <see cref="Best()"/> makes given the GPUs found: CUDA, then OpenCL, then the CPU.</summary>
    internal static Device Choose(int cudaDevices, int openCLDevices)
    {
        if (cudaDevices > 0 && TryOpen(() => Cuda(0), out Device? cuda))
        {
            return cuda;
        }

        if (openCLDevices > 0 && TryOpen(() => OpenCL(0), out Device? openCL))
        {
            return openCL;
        }

        return Cpu();
    }

    // A GPU that is listed but cannot be opened (driver mismatch, device busy) falls through to the next choice.
    private static bool TryOpen(Func<Device> open, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Device? device)
    {
        try
        {
            device = open();
            return true;
        }
        catch (Exception exception) when (exception is DeviceUnavailableException or InvalidOperationException or NotSupportedException or DllNotFoundException)
        {
            device = null;
            return false;
        }
    }

    /// <summary>
    /// Parses a device name: "cpu" (all cores), "cpu:N" (N threads), "cuda" or "cuda:N" (CUDA device N),
    /// "opencl" or "opencl:N", "gpu-sim" (ILGPU's CPU accelerator). Case-insensitive.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a known device.</exception>
    /// <exception cref="DeviceUnavailableException">The name is a GPU this machine does not have.</exception>
    public static Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string lower = name.ToLowerInvariant();
        (string kind, int? number) = SplitIndex(lower, name);
        return kind switch
        {
            "cpu" when number is null => Cpu(),
            "cpu" when number > 0 => Cpu(number.Value),
            "cuda" => Cuda(number ?? 0),
            "opencl" => OpenCL(number ?? 0),
            "gpu-sim" when number is null => GpuSimulator(),
            _ => throw Unknown(name),
        };
    }

    private static (string Kind, int? Number) SplitIndex(string lower, string original)
    {
        int colon = lower.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return (lower, null);
        }

        if (int.TryParse(lower.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number))
        {
            return (lower[..colon], number);
        }

        throw Unknown(original);
    }

    private static ArgumentException Unknown(string name) => new(
        $"Unknown device '{name}'; expected 'cpu', 'cpu:N' (N > 0 threads), 'cuda', 'cuda:N', 'opencl', 'opencl:N' or 'gpu-sim'.",
        nameof(name));

    public void Dispose()
    {
        if (_ownsWorkers)
        {
            Workers?.Dispose();
        }

        Gpu?.Dispose();
    }

    public override string ToString() => Name;
}
