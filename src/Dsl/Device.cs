using Dsl.Cpu;

namespace Dsl;

/// <summary>
/// Where a network computes. Today: the CPU backend (SIMD kernels over a persistent worker pool).
/// <see cref="Best"/> picks the fastest available device; the environment variable DSL_DEVICE
/// ("cpu", or "cpu:N" for N threads) forces a choice.
/// </summary>
public sealed class Device : IDisposable
{
    private readonly bool _ownsWorkers;

    private Device(string name, CpuWorkers? workers, bool ownsWorkers)
    {
        Name = name;
        Workers = workers;
        _ownsWorkers = ownsWorkers;
    }

    /// <summary>A human-readable description, e.g. "cpu (2 threads)".</summary>
    public string Name { get; }

    /// <summary>The worker pool CPU kernels split their tiles over; null means the calling thread only.</summary>
    public CpuWorkers? Workers { get; }

    /// <summary>Threads the CPU kernels use.</summary>
    public int ThreadCount => Workers?.ThreadCount ?? 1;

    /// <summary>The CPU backend with <paramref name="threads"/> threads (0: one per core).</summary>
    public static Device Cpu(int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        int count = threads == 0 ? Environment.ProcessorCount : threads;
        return count == 1
            ? new Device("cpu (1 thread)", null, ownsWorkers: false)
            : new Device($"cpu ({count} threads)", new CpuWorkers(count), ownsWorkers: true);
    }

    /// <summary>The best device present, honouring DSL_DEVICE when set.</summary>
    public static Device Best()
    {
        string? forced = Environment.GetEnvironmentVariable("DSL_DEVICE");
        if (string.IsNullOrWhiteSpace(forced))
        {
            return Cpu();
        }

        return Parse(forced.Trim());
    }

    /// <summary>Parses a device name: "cpu" or "cpu:N".</summary>
    /// <exception cref="ArgumentException">the name is not a known device.</exception>
    public static Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Equals("cpu", StringComparison.OrdinalIgnoreCase))
        {
            return Cpu();
        }

        if (name.StartsWith("cpu:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(name.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int threads)
            && threads > 0)
        {
            return Cpu(threads);
        }

        throw new ArgumentException($"Unknown device '{name}'; expected 'cpu' or 'cpu:N' with N a positive thread count.", nameof(name));
    }

    public void Dispose()
    {
        if (_ownsWorkers)
        {
            Workers?.Dispose();
        }
    }

    public override string ToString() => Name;
}
