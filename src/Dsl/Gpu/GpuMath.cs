namespace Dsl.Gpu;

/// <summary>
/// Scalar math that ILGPU compiles to plain PTX/OpenCL instructions. ILGPU turns <c>MathF.Exp</c> and
/// <c>MathF.FusedMultiplyAdd</c> into calls to external functions that only exist with ILGPU.Algorithms or
/// NVIDIA's libdevice, so GPU kernels use these instead. Products and sums are written as <c>a * b + c</c>:
/// the PTX assembler may contract them into one fused multiply-add, so results can differ from the CPU
/// backend (which always fuses) in the last bits.
/// </summary>
public static partial class GpuMath
{
    private const float Log2E = 1.44269504088896341f;
    // ln2 = Ln2High + Ln2Low, Ln2High with 9 significant bits so n * Ln2High is exact for |n| < 2^15.
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    // Beyond these e^x is +inf or rounds to zero; clamping keeps n within [-150, 128].
    private const float MaxArgument = 88.8f;
    private const float MinArgument = -104f;

    /// <summary>
    /// e^x, the same Cephes scheme as the CPU backend's <c>Dsl.Ops.Exponential</c>: x = n ln2 + r with
    /// |r| &lt;= ln2/2, e^r by a degree-7 polynomial, then 2^n applied in two halves so overflow gives +inf and
    /// subnormal results need one rounding. Error a few ulp over the normal range; NaN in, NaN out.
    /// </summary>
    public static float Exp(float x)
    {
        x = MathF.Min(MathF.Max(x, MinArgument), MaxArgument);
        float n = MathF.Round(x * Log2E);
        float r = x - (n * Ln2High);
        r -= n * Ln2Low;

        float p = 1.9875691500e-4f;
        p = (p * r) + 1.3981999507e-3f;
        p = (p * r) + 8.3334519073e-3f;
        p = (p * r) + 4.1665795894e-2f;
        p = (p * r) + 1.6666665459e-1f;
        p = (p * r) + 5.0000001201e-1f;
        p = (p * (r * r)) + (r + 1f);

        // 2^n = 2^(n >> 1) * 2^(n - (n >> 1)), both factors normal for n in [-150, 128].
        int exponent = (int)n;
        int half = exponent >> 1;
        float scaleLow = BitConverter.Int32BitsToSingle((half + 127) << 23);
        float scaleHigh = BitConverter.Int32BitsToSingle((exponent - half + 127) << 23);
        return p * scaleLow * scaleHigh;
    }
}
