namespace Dsl.Gpu;

// Scalar math the fused kernel calls: the seven activations as a switch on the activation code, and the
// natural logarithm of the cross-entropy. Plain multiplies and adds only (no MathF.Exp/Log/Tanh/FMA, which
// ILGPU emits as external calls that do not link on a GPU); exponentials come from GpuMath.Exp. These are
// ordinary static methods, so the tests also call them on the CPU against Dsl.Ops' activation structs.
public static partial class FusedMlp
{
    private const float InverseSqrtTwoPi = 0.398942280401432678f;

    // GELU: beyond |z| = 15 e^(-z^2/2) is below the smallest subnormal; below 1.25 Phi comes from an odd
    // polynomial around 1/2 rather than from the tail (the constants of Dsl.Ops.Gelu).
    private const float GeluTailLimit = 15f;
    private const float GeluCentralLimit = 1.25f;

    // tanh: odd polynomial below |z| = 0.625, (1 - t) / (1 + t) with t = e^-2|z| beyond (Cephes tanhf).
    private const float TanhPolynomialLimit = 0.625f;

    // Natural log: ln2 = Ln2High + Ln2Low (as GpuMath), and the frexp mantissa is folded into
    // [sqrt(1/2), sqrt(2)) so that log(1 + f) has |f| <= 0.415.
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    private const float SqrtHalf = 0.707106781186547524f;

    /// <summary>
    /// y = phi(z) for the activation with code <paramref name="activation"/> (<see cref="Activation"/> as int),
    /// with the semantics of the CPU structs in <c>Dsl.Ops</c>; an unknown code acts as the identity.
    /// </summary>
    /// <param name="slope">LeakyReLU's negative-side slope (ignored by the other activations).</param>
    internal static float Activate(int activation, float slope, float z)
    {
        switch (activation)
        {
            case (int)Activation.Relu:
                return MathF.Max(z, 0f);
            case (int)Activation.LeakyRelu:
                return z > 0f ? z : slope * z;
            case (int)Activation.Gelu:
                return z * NormalCdf(z, out _);
            case (int)Activation.Silu:
                return z * Logistic(z, out _);
            case (int)Activation.Tanh:
                return Tanh(z);
            case (int)Activation.Sigmoid:
                return Logistic(z, out _);
            default:
                return z;
        }
    }

    /// <summary>
    /// phi'(z) given the pre-activation z and the output y = phi(z). ReLU, LeakyReLU, tanh and sigmoid read
    /// only y (the sign of y for the ReLUs: 0 resp. the slope at z = 0, as PyTorch); GELU and SiLU read only z,
    /// which is why the kernel keeps z for those two (<see cref="NeedsPreActivation"/>).
    /// </summary>
    internal static float Derivative(int activation, float slope, float z, float y)
    {
        switch (activation)
        {
            case (int)Activation.Relu:
                return y > 0f ? 1f : 0f;
            case (int)Activation.LeakyRelu:
                return y > 0f ? 1f : slope;
            case (int)Activation.Gelu:
                {
                    // Phi(z) + z phi(z).
                    float cdf = NormalCdf(z, out float density);
                    return (z * density) + cdf;
                }

            case (int)Activation.Silu:
                {
                    // sigma(z) (1 + z sigma(-z)), sigma(-z) computed directly to keep its relative precision.
                    float sigma = Logistic(z, out float complement);
                    return (z * sigma * complement) + sigma;
                }

            case (int)Activation.Tanh:
                return 1f - (y * y);
            case (int)Activation.Sigmoid:
                return y - (y * y);
            default:
                return 1f;
        }
    }

    /// <summary>True for the activations whose derivative reads the pre-activation z (GELU, SiLU).</summary>
    internal static bool NeedsPreActivation(Activation activation) => activation is Activation.Gelu or Activation.Silu;

    /// <summary>
    /// The natural logarithm, Cephes' logf scheme: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) = f - f^2/2
    /// + f^3 P(f) with f = m - 1, plus e ln2 in two parts. Error about 1 ulp for positive normal and subnormal
    /// x; log(0) = -inf, log(+inf) = +inf, NaN for negative x and NaN.
    /// </summary>
    internal static float Log(float x)
    {
        if (!(x > 0f))
        {
            return x == 0f ? float.NegativeInfinity : float.NaN; // zero; negative or NaN
        }

        if (x == float.PositiveInfinity)
        {
            return x;
        }

        int bits = BitConverter.SingleToInt32Bits(x);
        int exponent = 0;
        if (bits < 0x00800000)
        {
            // Subnormal: scale by 2^25 into the normal range.
            bits = BitConverter.SingleToInt32Bits(x * 33554432f);
            exponent = -25;
        }

        // x = m 2^e with m in [0.5, 1), as frexp.
        exponent += (bits >> 23) - 126;
        float m = BitConverter.Int32BitsToSingle((bits & 0x007FFFFF) | 0x3F000000);
        float f;
        if (m < SqrtHalf)
        {
            exponent -= 1;
            f = m + m - 1f;
        }
        else
        {
            f = m - 1f;
        }

        float square = f * f;
        float p = 7.0376836292e-2f;
        p = (p * f) - 1.1514610310e-1f;
        p = (p * f) + 1.1676998740e-1f;
        p = (p * f) - 1.2420140846e-1f;
        p = (p * f) + 1.4249322787e-1f;
        p = (p * f) - 1.6668057665e-1f;
        p = (p * f) + 2.0000714765e-1f;
        p = (p * f) - 2.4999993993e-1f;
        p = (p * f) + 3.3333331174e-1f;
        float e = exponent;
        float y = p * f * square;
        y += Ln2Low * e;
        y -= 0.5f * square;
        return f + y + (Ln2High * e);
    }

    /// <summary>sigma(z) and its complement sigma(-z) from t = e^-|z| in (0, 1], as <c>Dsl.Ops.Sigmoid</c>.</summary>
    private static float Logistic(float z, out float complement)
    {
        float t = GpuMath.Exp(-MathF.Abs(z));
        float large = 1f / (1f + t); // sigma(|z|)
        float small = t * large;      // sigma(-|z|)
        complement = z >= 0f ? small : large;
        return z >= 0f ? large : small;
    }

    /// <summary>tanh(z), Cephes' tanhf scheme as <c>Dsl.Ops.Tanh</c>; saturates to exactly +-1.</summary>
    private static float Tanh(float z)
    {
        float magnitude = MathF.Abs(z);
        float result;
        if (magnitude < TanhPolynomialLimit)
        {
            // tanh(a) = a + a^3 P(a^2).
            float square = magnitude * magnitude;
            float p = -5.70498872745e-3f;
            p = (p * square) + 2.06390887954e-2f;
            p = (p * square) - 5.37397155531e-2f;
            p = (p * square) + 1.33314422036e-1f;
            p = (p * square) - 3.33332819422e-1f;
            result = (p * square * magnitude) + magnitude;
        }
        else
        {
            // t = e^-2a in (0, 0.287].
            float t = GpuMath.Exp(-(magnitude + magnitude));
            result = (1f - t) / (1f + t);
        }

        return z < 0f ? -result : result;
    }

    /// <summary>
    /// Phi(z), the standard normal CDF, and the density phi(z) = e^(-z^2/2) / sqrt(2 pi): the two-region
    /// Chebyshev scheme of <c>Dsl.Ops.Gelu</c> (central odd polynomial for |z| &lt; 1.25, tail Q(a) = e^(-a^2/2) t g(t)
    /// beyond). Without a fused multiply-add, a^2 = hi + lo is split exactly by cutting a into a 12-bit head
    /// (by masking mantissa bits, immune to the assembler contracting products into FMAs) and its remainder.
    /// </summary>
    private static float NormalCdf(float z, out float density)
    {
        float a = MathF.Min(MathF.Abs(z), GeluTailLimit);

        // e^(-a^2/2) with a^2 = hi + lo: e^(-hi/2) (1 - lo/2).
        float hi = a * a;
        float head = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & unchecked((int)0xFFFFF000));
        float rest = a - head;
        float lo = ((head * head) - hi) + (2f * head * rest) + (rest * rest);
        float gauss = GpuMath.Exp(hi * -0.5f);
        gauss = (gauss * (lo * -0.5f)) + gauss;
        density = gauss * InverseSqrtTwoPi;

        if (a < GeluCentralLimit)
        {
            // Phi(z) = 1/2 + z P(z^2), no cancellation near Phi = 1/2 (here hi = z^2).
            float p = 4.76927903461e-7f;
            p = (p * hi) - 9.06247160171e-6f;
            p = (p * hi) + 1.15039311462e-4f;
            p = (p * hi) - 1.1871154755e-3f;
            p = (p * hi) + 9.97350211734e-3f;
            p = (p * hi) - 6.64903747311e-2f;
            p = (p * hi) + 3.98942280316e-1f;
            return (z * p) + 0.5f;
        }

        float t = 1f / (1f + (a * 0.5f));
        float g = 0.0314308757807f;
        g = (g * t) - 0.232724618525f;
        g = (g * t) + 0.521215606209f;
        g = (g * t) - 0.453841007108f;
        g = (g * t) + 0.0572155590287f;
        g = (g * t) + 0.0243469132963f;
        g = (g * t) + 0.152885432585f;
        g = (g * t) + 0.199238224207f;
        g = (g * t) + 0.199478119326f;
        float tail = t * g * gauss; // Phi(-a)
        return z >= 0f ? 1f - tail : tail;
    }
}
