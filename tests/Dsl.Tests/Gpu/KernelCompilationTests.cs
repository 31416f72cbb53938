using Xunit;
using ILGPU;

namespace Dsl.Tests.Gpu;

/// <summary>The PTX compile check itself: it accepts a plain kernel and rejects one CUDA cannot compile.</summary>
public sealed class KernelCompilationTests
{
    [Fact]
    public void PlainKernelCompilesToPtxForSm90()
    {
        string ptx = KernelCompilation.Ptx(Scale, explicitlyGrouped: false);
        // ILGPU 1.5.3 writes ".target sm_80" when asked for SM_90; the driver JIT-compiles that PTX for an H100.
        Assert.Contains(".target sm_", ptx, StringComparison.Ordinal);
        Assert.Contains(".entry", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain(".extern", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void MathFFusedMultiplyAddBecomesAnExternalCall()
    {
        // Why kernels write a * b + c: ILGPU has no PTX intrinsic for MathF.FusedMultiplyAdd and emits a call to an
        // external function that no CUDA module provides, so such a kernel would fail to load on a real GPU.
        string ptx = KernelCompilation.Ptx(UsesMathFFusedMultiplyAdd, explicitlyGrouped: false);
        Assert.Contains(".extern", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelCallingUnsupportedMathIsRejected()
    {
        // MathF.Exp has no PTX intrinsic without ILGPU.Algorithms: the library's kernels must use Dsl.Ops.Exponential.
        Assert.ThrowsAny<Exception>(() => KernelCompilation.Ptx(UsesMathFExp, explicitlyGrouped: false));
    }

    private static void Scale(Index1D index, ArrayView<float> values) => values[index] = (values[index] * 2f) + 1f;

    private static void UsesMathFFusedMultiplyAdd(Index1D index, ArrayView<float> values) => values[index] = MathF.FusedMultiplyAdd(values[index], 2f, 1f);

    private static void UsesMathFExp(Index1D index, ArrayView<float> values) => values[index] = MathF.Exp(values[index]);
}
