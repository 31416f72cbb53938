using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// e^x on eight float lanes, built only from correctly rounded operations (multiply, add, fused
/// multiply-add, round-to-even), so it gives the same bits on every machine. Cephes' expf scheme:
/// x = n ln2 + r with |r| &lt;= ln2/2, e^r by a degree-7 polynomial, then the scale 2^n applied in two
/// halves so that overflow gives +inf and the subnormal range is reached with a single rounding.
/// Error at most 2 ulp over the normal range; NaN in, NaN out.
/// </summary>
internal static class Exponential
{
    private const float Log2E = 1.44269504088896341f;
    // ln2 = Ln2High + Ln2Low, Ln2High with 9 significant bits so n * Ln2High is exact for |n| < 2^15.
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    // Beyond these e^x is +inf or rounds to zero; clamping keeps n within [-150, 128].
    private const float MaxArgument = 88.8f;
    private const float MinArgument = -104f;

    /// <summary>e^x for each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(MinArgument)), Vector256.Create(MaxArgument));
        Vector256<float> n = Vector256.Round(x * Vector256.Create(Log2E));
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2High), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Low), r);

        Vector256<float> p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);

        // 2^n = 2^(n >> 1) * 2^(n - (n >> 1)), both factors normal for n in [-150, 128].
        Vector256<int> exponent = Vector256.ConvertToInt32(n);
        Vector256<int> half = Vector256.ShiftRightArithmetic(exponent, 1);
        Vector256<float> scaleLow = Vector256.ShiftLeft(half + Vector256.Create(127), 23).AsSingle();
        Vector256<float> scaleHigh = Vector256.ShiftLeft(exponent - half + Vector256.Create(127), 23).AsSingle();
        return p * scaleLow * scaleHigh;
    }

    /// <summary>e^x, computed as lane 0 of <see cref="Exp(Vector256{float})"/> so scalar and vector results agree bit for bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => Exp(Vector256.Create(x)).ToScalar();
}
