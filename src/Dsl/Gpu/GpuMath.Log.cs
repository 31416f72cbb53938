namespace Dsl.Gpu;

/// <summary>The natural logarithm, for kernels (see the main part of <see cref="GpuMath"/> for why).</summary>
public static partial class GpuMath
{
    private const float SqrtHalf = 0.707106781186547524f;

    /// <summary>
    /// ln x by the Cephes <c>logf</c> scheme: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln(m) by a degree-9
    /// polynomial in m - 1, then e ln2 added in two parts (<c>Ln2High</c> exact in the product). Error about
    /// 1 ulp over the positive normal and subnormal range. Special values as IEEE: ln(+0) = -inf,
    /// ln(+inf) = +inf, ln(negative) = NaN, NaN in, NaN out. Only bit operations, comparisons, products and
    /// sums: compiles to plain PTX/OpenCL without external functions.
    /// </summary>
    public static float Log(float x)
    {
        if (!(x > 0f) || x == float.PositiveInfinity)
        {
            // NaN or x <= 0 or +inf: x == 0 gives -inf, x < 0 or NaN gives NaN, +inf gives +inf.
            return x == 0f ? float.NegativeInfinity : (x == float.PositiveInfinity ? x : float.NaN);
        }

        int bits = BitConverter.SingleToInt32Bits(x);
        int exponent = 0;
        if (bits < 0x00800000)
        {
            // Subnormal: scale by 2^25 into the normal range first.
            bits = BitConverter.SingleToInt32Bits(x * 33554432f);
            exponent = -25;
        }

        // x = m 2^exponent with m in [0.5, 1).
        exponent += ((bits >> 23) & 0xFF) - 126;
        float m = BitConverter.Int32BitsToSingle((bits & 0x007FFFFF) | (126 << 23));

        float r;
        if (m < SqrtHalf)
        {
            exponent--;
            r = m + m - 1f;
        }
        else
        {
            r = m - 1f;
        }

        float e = exponent;
        float z = r * r;
        float y = 7.0376836292e-2f;
        y = (y * r) - 1.1514610310e-1f;
        y = (y * r) + 1.1676998740e-1f;
        y = (y * r) - 1.2420140846e-1f;
        y = (y * r) + 1.4249322787e-1f;
        y = (y * r) - 1.6668057665e-1f;
        y = (y * r) + 2.0000714765e-1f;
        y = (y * r) - 2.4999993993e-1f;
        y = (y * r) + 3.3333331174e-1f;
        y = y * r * z;
        y += e * Ln2Low;
        y -= 0.5f * z;
        return r + y + (e * Ln2High);
    }
}
