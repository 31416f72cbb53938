using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Tests.Gpu;

/// <summary>Host-device copies for the GPU tests, on one stream of the accelerator under test.</summary>
internal static class GpuBuffers
{
    /// <summary>
    /// A device copy of <paramref name="values"/> made on <paramref name="stream"/>; one zeroed element when it is
    /// empty (a view of an operand that a zero-size launch never reads still needs a buffer).
    /// </summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(this AcceleratorStream stream, T[] values)
        where T : unmanaged
    {
        var buffer = stream.Accelerator.Allocate1D<T>(Math.Max(values.Length, 1));
        if (values.Length > 0)
        {
            buffer.View.SubView(0, values.Length).CopyFromCPU(stream, values);
        }
        else
        {
            buffer.View.MemSetToZero(stream);
        }

        return buffer;
    }

    /// <summary>The contents of <paramref name="view"/> once everything queued on <paramref name="stream"/> has run.</summary>
    public static T[] Download<T>(this AcceleratorStream stream, ArrayView<T> view)
        where T : unmanaged
    {
        var values = new T[view.Length];
        stream.Synchronize();
        view.CopyToCPU(stream, values);
        stream.Synchronize();
        return values;
    }
}
