using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// A growable block of device memory with host copies in and out. Generated networks keep their GPU
/// parameters, gradients and per-batch workspace in these; growing (a larger batch) reallocates and
/// forgets the contents, so a steady training loop allocates nothing.
/// </summary>
public sealed class DeviceBuffer<T> : IDisposable
    where T : unmanaged
{
    private readonly Accelerator _accelerator;
    private MemoryBuffer1D<T, Stride1D.Dense> _buffer;

    /// <summary>Allocates <paramref name="length"/> elements (at least one, so views are always valid).</summary>
    public DeviceBuffer(GpuAccelerator gpu, long length)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _accelerator = gpu.Accelerator;
        _buffer = _accelerator.Allocate1D<T>(Math.Max(1, length));
        Length = length;
    }

    /// <summary>Elements usable through <see cref="View"/>.</summary>
    public long Length { get; private set; }

    /// <summary>The whole buffer: (Length).</summary>
    public ArrayView<T> View => _buffer.View.SubView(0, Length);

    /// <summary>Elements [start, start + length).</summary>
    public ArrayView<T> Slice(long start, long length) => _buffer.View.SubView(start, length);

    /// <summary>Makes room for <paramref name="length"/> elements; when it must grow, the old contents are lost.</summary>
    public void EnsureLength(long length)
    {
        if (length <= _buffer.Length)
        {
            Length = Math.Max(Length, length);
            return;
        }

        // Queued kernels may still read or write the old block: wait for them before freeing it (growth is rare).
        _accelerator.Synchronize();
        _buffer.Dispose();
        _buffer = _accelerator.Allocate1D<T>(length);
        Length = length;
    }

    /// <summary>Copies <paramref name="source"/> to elements [offset, offset + source.Length), ordered on <paramref name="stream"/>.</summary>
    public void Upload(AcceleratorStream stream, ReadOnlySpan<T> source, long offset = 0)
    {
        if (source.IsEmpty)
        {
            return;
        }

        _buffer.View.SubView(offset, source.Length).CopyFromCPU(stream, source);
    }

    /// <summary>Copies elements [offset, offset + destination.Length) to the host; returns once the data is there.</summary>
    public void Download(AcceleratorStream stream, Span<T> destination, long offset = 0)
    {
        if (destination.IsEmpty)
        {
            return;
        }

        _buffer.View.SubView(offset, destination.Length).CopyToCPU(stream, destination);
        stream.Synchronize();
    }

    /// <summary>Sets every element to zero, ordered on <paramref name="stream"/>.</summary>
    public void Clear(AcceleratorStream stream) => _buffer.View.MemSetToZero(stream);

    public void Dispose() => _buffer.Dispose();
}
