using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Xunit;

namespace Dsl.Tests.Cpu;

/// <summary>
/// .ci/run runs the CPU tests again with DOTNET_EnableAVX512=0 (the Vector256 paths on a machine with AVX-512) and
/// with DOTNET_EnableAVX=0 (the portable fallbacks); these guard those legs against a runtime that ignores the setting
/// (the leg would silently re-test the wider paths). .NET 10 reads DOTNET_EnableAVX512; it ignores the older
/// DOTNET_EnableAVX512F.
/// </summary>
public sealed class SimdAvailabilityTests
{
    [Fact]
    public void With_DOTNET_EnableAVX_0_no_Vector256_path_is_taken()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX") == "0")
        {
            Assert.False(Vector256.IsHardwareAccelerated);
            Assert.False(Avx.IsSupported);
            Assert.False(Fma.IsSupported);
        }
        else
        {
            // Otherwise the Vector256 paths run exactly where the JIT accelerates Vector256: with AVX2 on x64.
            Assert.Equal(Avx2.IsSupported, Vector256.IsHardwareAccelerated);
        }
    }

    [Fact]
    public void With_DOTNET_EnableAVX512_0_no_Vector512_path_is_taken()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0" || Environment.GetEnvironmentVariable("DOTNET_EnableAVX") == "0")
        {
            Assert.False(Vector512.IsHardwareAccelerated);
            Assert.False(Avx512F.IsSupported);
        }
        else if (Vector512.IsHardwareAccelerated)
        {
            // The GEMM's 512-bit tiles run only where the JIT accelerates Vector512, which needs AVX-512 F.
            Assert.True(Avx512F.IsSupported);
        }
    }
}
