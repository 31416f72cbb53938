using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// y = z Phi(z), the exact (erf) form of PyTorch's default <c>nn.GELU</c>, with Phi the standard normal
/// CDF, Phi(z) = (1 + erf(z / sqrt 2)) / 2; phi'(z) = Phi(z) + z phi(z), which needs the pre-activation.
/// </summary>
/// <remarks>
/// Two regions, both fitted as Chebyshev expansions at 40 digits (mpmath) and rounded to float:
/// for |z| &lt; 1.25, Phi(z) = 1/2 + z P(z^2) with P of degree 6 (fit error 3e-10); beyond, Phi is built
/// from its tail Q(a) = Phi(-a) = e^(-a^2/2) R(a), a = |z|, never as 1 + erf(x), so Phi(z) keeps its
/// relative precision for negative z (Phi(z) = Q for z &lt; 0, 1 - Q otherwise). R(a) = t g(t) with
/// t = 1 / (1 + a/2) and g of degree 8 (relative fit error 1.6e-8 on a in [1.25, 15]). a^2 is split into
/// hi + lo with a fused multiply-add so that e^(-a^2/2) keeps its precision in the tail. Measured against
/// a float64 reference: absolute error of the implied erf below 2e-7, relative error of Phi a few ulp.
/// The scalar forms are lane 0 of the vector forms, bit for bit.
/// </remarks>
public readonly struct Gelu : IActivation
{
    // Beyond |z| = 15, e^(-z^2/2) is below the smallest subnormal: the tail is exactly zero.
    private const float TailLimit = 15f;
    // Below this |z|, Phi comes from an odd polynomial around 1/2 rather than from the tail.
    private const float CentralLimit = 1.25f;
    private const float InverseSqrtTwoPi = 0.398942280401432678f;

    /// <inheritdoc />
    public bool NeedsPreActivation => true;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float z) => Forward(Vector256.Create(z)).ToScalar();

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> z)
    {
        // Every lane central (the common case for pre-activations): Phi is the polynomial alone, the same bits the
        // general form selects for these lanes, without the tail's exponential and division.
        if (Vector256.LessThanAll(Vector256.Abs(z), Vector256.Create(CentralLimit)))
        {
            return z * CentralCdf(z, z * z);
        }

        return z * NormalCdf(z, out _);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float z, float y) => Derivative(Vector256.Create(z), Vector256.Create(y)).ToScalar();

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> z, Vector256<float> y)
    {
        if (Vector256.LessThanAll(Vector256.Abs(z), Vector256.Create(CentralLimit)))
        {
            // As in Forward: the tail is not needed, the density is (computed as the general form does).
            Vector256<float> hi = z * z;
            return Vector256.FusedMultiplyAdd(z, Density(z, hi), CentralCdf(z, hi));
        }

        Vector256<float> cdf = NormalCdf(z, out Vector256<float> density);
        return Vector256.FusedMultiplyAdd(z, density, cdf);
    }

    /// <summary>Phi(z), the standard normal CDF, and the density phi(z) = e^(-z^2/2) / sqrt(2 pi).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> NormalCdf(Vector256<float> z, out Vector256<float> density)
    {
        Vector256<float> a = Vector256.Min(Vector256.Abs(z), Vector256.Create(TailLimit));
        Vector256<float> hi = a * a;
        Vector256<float> gauss = Gauss(a, hi);

        Vector256<float> t = Vector256<float>.One / (Vector256<float>.One + a * Vector256.Create(0.5f));
        Vector256<float> g = Vector256.Create(0.0314308757807f);
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(-0.232724618525f));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(0.521215606209f));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(-0.453841007108f));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(0.0572155590287f));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(0.0243469132963f));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(0.152885432585f));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(0.199238224207f));
        g = Vector256.FusedMultiplyAdd(g, t, Vector256.Create(0.199478119326f));
        Vector256<float> tail = t * g * gauss; // Phi(-a)
        Vector256<float> far = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), Vector256<float>.One - tail, tail);

        // |z| < 1.25: Phi(z) = 1/2 + z P(z^2), no cancellation near Phi = 1/2 (there hi = z^2).
        Vector256<float> near = CentralCdf(z, hi);

        density = gauss * Vector256.Create(InverseSqrtTwoPi);
        return Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(CentralLimit)), near, far);
    }

    /// <summary>e^(-a^2/2) with a^2 = hi + lo exactly (hi = a * a rounded): e^(-hi/2) (1 - lo/2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Gauss(Vector256<float> a, Vector256<float> hi)
    {
        Vector256<float> lo = Vector256.FusedMultiplyAdd(a, a, -hi);
        Vector256<float> gauss = Exponential.Exp(hi * Vector256.Create(-0.5f));
        return Vector256.FusedMultiplyAdd(gauss, lo * Vector256.Create(-0.5f), gauss);
    }

    /// <summary>phi(z) for |z| below the tail limit, given hi = z * z: the density <see cref="NormalCdf"/> returns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Density(Vector256<float> z, Vector256<float> hi)
        => Gauss(Vector256.Abs(z), hi) * Vector256.Create(InverseSqrtTwoPi);

    /// <summary>Phi(z) = 1/2 + z P(z^2) for |z| &lt; 1.25, given hi = z * z.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> CentralCdf(Vector256<float> z, Vector256<float> hi)
    {
        Vector256<float> p = Vector256.Create(4.76927903461e-7f);
        p = Vector256.FusedMultiplyAdd(p, hi, Vector256.Create(-9.06247160171e-6f));
        p = Vector256.FusedMultiplyAdd(p, hi, Vector256.Create(1.15039311462e-4f));
        p = Vector256.FusedMultiplyAdd(p, hi, Vector256.Create(-1.1871154755e-3f));
        p = Vector256.FusedMultiplyAdd(p, hi, Vector256.Create(9.97350211734e-3f));
        p = Vector256.FusedMultiplyAdd(p, hi, Vector256.Create(-6.64903747311e-2f));
        p = Vector256.FusedMultiplyAdd(p, hi, Vector256.Create(3.98942280316e-1f));
        return Vector256.FusedMultiplyAdd(z, p, Vector256.Create(0.5f));
    }
}
