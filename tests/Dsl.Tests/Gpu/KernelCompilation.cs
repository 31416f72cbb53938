using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// Compiles kernels to PTX for an H100 (asked for SM_90 and PTX ISA 8.3; ILGPU 1.5.3 writes ".target sm_80",
/// which the driver JIT-compiles for the card) without a GPU: ILGPU's PTX backend runs on any machine.
/// The CPU simulator executes kernels as .NET code, so it would accept code that CUDA cannot compile
/// (vector intrinsics, unsupported math functions); this catches that in CI.
/// </summary>
internal static class KernelCompilation
{
    private static readonly Lock s_gate = new();
    private static Context? s_context;
    private static PTXBackend? s_backend;

    /// <summary>The PTX of <paramref name="kernel"/>; throws when ILGPU cannot compile it for CUDA.</summary>
    /// <param name="kernel">A static kernel method, generic arguments already bound.</param>
    /// <param name="explicitlyGrouped">True for kernels taking a KernelConfig (groups and shared memory), false for Index1D/2D kernels.</param>
    public static string Ptx(MethodInfo kernel, bool explicitlyGrouped)
    {
        lock (s_gate)
        {
            s_context ??= Context.Create(builder => builder.Cuda());
            s_backend ??= new PTXBackend(s_context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_83, nvvmAPI: null!);
            EntryPointDescription entry = explicitlyGrouped
                ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
                : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
            var specialization = KernelSpecialization.Empty;
            var compiled = (PTXCompiledKernel)s_backend.Compile(entry, specialization);
            return compiled.PTXAssembly;
        }
    }

    /// <summary>The PTX of a kernel given as a delegate (e.g. <c>GpuGemm.Kernel&lt;...&gt;</c>).</summary>
    public static string Ptx(Delegate kernel, bool explicitlyGrouped) => Ptx(kernel.Method, explicitlyGrouped);
}

/// <summary>Compiles a kernel to PTX for sm_90 and checks it links on a real GPU: no external function calls.</summary>
internal static class GpuPtxAssert
{
    /// <summary>The PTX of <paramref name="kernel"/>, after checking that it targets an sm_ architecture and declares no <c>.extern</c> function.</summary>
    public static string CompilesWithoutExternalCalls(MethodInfo kernel, bool explicitlyGrouped)
    {
        string ptx = KernelCompilation.Ptx(kernel, explicitlyGrouped);
        Assert.Contains(".target sm_", ptx.Replace("\t", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain(".extern", ptx, StringComparison.Ordinal);
        return ptx;
    }

    /// <summary>The same for a kernel given as a delegate.</summary>
    public static string CompilesWithoutExternalCalls(Delegate kernel, bool explicitlyGrouped) => CompilesWithoutExternalCalls(kernel.Method, explicitlyGrouped);
}
