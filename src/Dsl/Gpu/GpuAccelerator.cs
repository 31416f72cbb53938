using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Dsl.Gpu;

/// <summary>
/// One ILGPU accelerator (a CUDA or OpenCL GPU, or ILGPU's CPU simulator) with its context and the cache
/// of loaded kernels. Kernels are compiled once per accelerator and kept as typed launcher delegates: a
/// network loads most of its launchers when it is created; the GEMMs and the kernels specialised for an
/// optimizer's update rule compile on their first launch (so only those a network's shapes and optimizer
/// use), after which a training step only launches.
/// </summary>
public sealed class GpuAccelerator : IDisposable
{
    private readonly Context _context;
    private readonly ConcurrentDictionary<(System.Reflection.MethodInfo Kernel, Type Launcher), Delegate> _kernels = new();

    private GpuAccelerator(Context context, Accelerator accelerator)
    {
        _context = context;
        Accelerator = accelerator;
    }

    /// <summary>The ILGPU accelerator kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>CUDA, OpenCL or CPU (the simulator).</summary>
    public AcceleratorType Type => Accelerator.AcceleratorType;

    /// <summary>The device's name as the driver reports it.</summary>
    public string Name => Accelerator.Name;

    /// <summary>Threads per warp (32 on NVIDIA; the simulator is configured to match).</summary>
    public int WarpSize => Accelerator.WarpSize;

    /// <summary>
    /// The launcher of <paramref name="kernel"/>, loaded by <paramref name="load"/> on first use and cached
    /// for the accelerator's lifetime. Key: the kernel method (a generic instantiation is its own key) and
    /// the launcher's delegate type.
    /// </summary>
    public TLauncher Kernel<TLauncher>(Delegate kernel, Func<Accelerator, TLauncher> load)
        where TLauncher : Delegate
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(load);
        return (TLauncher)_kernels.GetOrAdd((kernel.Method, typeof(TLauncher)), _ => load(Accelerator));
    }

    /// <summary>Number of distinct kernels loaded so far (for tests of the cache).</summary>
    public int LoadedKernelCount => _kernels.Count;

    /// <summary>Whether <paramref name="kernel"/>'s method has been loaded, with any launcher type (for tests of which kernels a step uses).</summary>
    internal bool HasLoaded(Delegate kernel) => _kernels.Keys.Any(key => key.Kernel == kernel.Method);

    /// <summary>The kernel methods loaded so far, each specialisation once (for tests of which instantiations a network uses).</summary>
    internal IEnumerable<System.Reflection.MethodInfo> LoadedKernels => _kernels.Keys.Select(key => key.Kernel).Distinct();

    /// <summary>The CUDA GPU with the given index among this machine's CUDA devices.</summary>
    /// <exception cref="DeviceUnavailableException">There is no such device.</exception>
    public static GpuAccelerator Cuda(int index)
    {
        Context context = Context.Create(builder => builder.Cuda());
        return Open(context, AcceleratorType.Cuda, index, $"cuda:{index}");
    }

    /// <summary>The OpenCL GPU with the given index among this machine's OpenCL devices.</summary>
    /// <exception cref="DeviceUnavailableException">There is no such device.</exception>
    public static GpuAccelerator OpenCL(int index)
    {
        Context context = Context.Create(builder => builder.OpenCL());
        return Open(context, AcceleratorType.OpenCL, index, $"opencl:{index}");
    }

    /// <summary>
    /// ILGPU's CPU accelerator, which runs GPU kernels on simulated warps of 32 threads. For testing the GPU
    /// kernels without a GPU: a launch costs hundreds of microseconds, so never for serving.
    /// </summary>
    public static GpuAccelerator CpuSimulator()
    {
        Context context = Context.Create(builder => builder.CPU(CPUDeviceKind.Nvidia));
        return new GpuAccelerator(context, context.CreateCPUAccelerator(0));
    }

    /// <summary>Counts this machine's CUDA and OpenCL GPUs without opening any (a probe for <see cref="Device.Best()"/>).</summary>
    public static (int Cuda, int OpenCL) CountGpus()
    {
        try
        {
            using Context context = Context.Create(builder => builder.Cuda().OpenCL());
            int cuda = context.Devices.Count(device => device.AcceleratorType == AcceleratorType.Cuda);
            int openCL = context.Devices.Count(device => device.AcceleratorType == AcceleratorType.OpenCL);
            return (cuda, openCL);
        }
        catch (Exception exception) when (exception is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            // A broken or partial driver installation means no usable GPU, not a failed program.
            return (0, 0);
        }
    }

    private static GpuAccelerator Open(Context context, AcceleratorType type, int index, string requested)
    {
        try
        {
            ILGPU.Runtime.Device[] devices = [.. context.Devices.Where(device => device.AcceleratorType == type)];
            if (index < 0 || index >= devices.Length)
            {
                string present = devices.Length == 0 ? $"no {type} device" : $"{devices.Length} {type} device(s)";
                throw new DeviceUnavailableException(requested, present);
            }

            return new GpuAccelerator(context, devices[index].CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _kernels.Clear();
        Accelerator.Dispose();
        _context.Dispose();
    }

    public override string ToString() => $"{Type} {Name}";
}
