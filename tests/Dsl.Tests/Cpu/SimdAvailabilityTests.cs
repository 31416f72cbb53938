using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Xunit;

namespace Dsl.Tests.Cpu;

/// <summary>
/// .ci/run runs the CPU tests a second time with DOTNET_EnableAVX=0 so that the portable fallbacks are what runs;
/// this guards that leg against a runtime that ignores the setting (it would silently re-test the AVX paths).
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
}
