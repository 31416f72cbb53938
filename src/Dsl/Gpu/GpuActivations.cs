namespace Dsl.Gpu;

/// <summary>
/// An element-wise activation y = phi(z) with its derivative, in a form ILGPU compiles into GPU kernels:
/// implemented by small readonly structs so the epilogues that call it (<c>where TActivation : struct,
/// IGpuActivation</c>) are specialised and inlined per activation.
/// </summary>
/// <remarks>
/// Separate from the CPU backend's <see cref="Dsl.Ops.IActivation"/> because its scalar forms are lane 0
/// of Vector256 code and use <c>MathF.FusedMultiplyAdd</c>, neither of which ILGPU can compile for a GPU
/// (vector intrinsics are rejected; FMA and <c>MathF.Exp</c> become external calls that do not link).
/// These structs port the same schemes to plain <c>a * b + c</c> and <see cref="GpuMath.Exp"/>, with the
/// same semantics and derivative conventions as their CPU twins; results agree within a few ulp (the
/// CPU fuses every multiply-add, the GPU rounds the product unless the PTX assembler contracts it).
/// </remarks>
public interface IGpuActivation
{
    /// <summary>True when <see cref="Derivative"/> reads the pre-activation z; false when the output y is enough.</summary>
    bool NeedsPreActivation { get; }

    /// <summary>y = phi(z).</summary>
    float Forward(float z);

    /// <summary>phi'(z), given the pre-activation z and the output y = phi(z) (only one of them may be read).</summary>
    float Derivative(float z, float y);
}

/// <summary>y = z (a layer without activation); phi'(z) = 1. GPU twin of <see cref="Dsl.Ops.Identity"/>.</summary>
public readonly struct GpuIdentity : IGpuActivation
{
    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    public float Forward(float z) => z;

    /// <inheritdoc />
    public float Derivative(float z, float y) => 1f;
}

/// <summary>
/// y = max(0, z); phi'(z) = 1 where y &gt; 0, else 0 (0 at z = 0, as PyTorch). GPU twin of
/// <see cref="Dsl.Ops.Relu"/>. Written as a comparison rather than <c>MathF.Max</c> because PTX's
/// <c>max.f32</c> drops NaN, while the CPU form propagates it; -0 maps to +0 as on the CPU.
/// </summary>
public readonly struct GpuRelu : IGpuActivation
{
    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    public float Forward(float z) => z > 0f || float.IsNaN(z) ? z : 0f;

    /// <inheritdoc />
    public float Derivative(float z, float y) => y > 0f ? 1f : 0f;
}

/// <summary>
/// y = z for z &gt; 0, slope * z otherwise; phi'(z) = 1 where y &gt; 0, else slope (slope at z = 0, as PyTorch).
/// The derivative reads the sign of y, which equals the sign of z because the slope is non-negative.
/// GPU twin of <see cref="Dsl.Ops.LeakyRelu"/>; <c>default(GpuLeakyRelu)</c> has slope 0 and behaves as ReLU.
/// </summary>
public readonly struct GpuLeakyRelu : IGpuActivation
{
    /// <summary>Creates the activation with the given negative-side slope (PyTorch's default is 0.01).</summary>
    /// <param name="slope">Slope for z &lt;= 0; finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">The slope is negative, NaN or infinite.</exception>
    public GpuLeakyRelu(float slope)
    {
        if (!(slope >= 0f) || float.IsPositiveInfinity(slope))
        {
            throw new ArgumentOutOfRangeException(nameof(slope), slope, "The slope of LeakyRelu must be finite and non-negative (the derivative reads the sign of the output).");
        }

        Slope = slope;
    }

    // For kernels, which cannot compile the public constructor's throw: the caller has checked the slope already.
    private GpuLeakyRelu(float slope, CheckedSlope _) => Slope = slope;

    /// <summary>The activation with a slope the caller has already checked (finite, non-negative); usable inside kernels.</summary>
    internal static GpuLeakyRelu FromCheckedSlope(float slope) => new(slope, default(CheckedSlope));

    /// <summary>Selects the constructor that skips the check.</summary>
    private readonly struct CheckedSlope;

    /// <summary>Slope of the negative side.</summary>
    public float Slope { get; }

    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    public float Forward(float z) => z > 0f ? z : Slope * z;

    /// <inheritdoc />
    public float Derivative(float z, float y) => y > 0f ? 1f : Slope;
}

/// <summary>
/// y = z Phi(z), the exact (erf) GELU, Phi the standard normal CDF; phi'(z) = Phi(z) + z phi(z), which needs
/// the pre-activation. GPU twin of <see cref="Dsl.Ops.Gelu"/>: the same two fitted regions (z P(z^2) around
/// 1/2 for |z| &lt; 1.25, the tail e^(-a^2/2) t g(t) beyond), evaluated with scalar multiply-adds.
/// </summary>
/// <remarks>
/// The CPU form splits a^2 = hi + lo exactly with a fused multiply-add, so e^(-a^2/2) keeps its relative
/// precision in the tail (there lo/2 is up to 1e-5 of the result). Without FMA, a is split into a 12-bit
/// head (masking the low mantissa bits) and the exact rest, whose products are all exact, so lo is
/// recovered from exact terms whether or not the assembler contracts them.
/// </remarks>
public readonly struct GpuGelu : IGpuActivation
{
    // Beyond |z| = 15, e^(-z^2/2) is below the smallest subnormal: the tail is exactly zero.
    private const float TailLimit = 15f;
    // Below this |z|, Phi comes from an odd polynomial around 1/2 rather than from the tail.
    private const float CentralLimit = 1.25f;
    private const float InverseSqrtTwoPi = 0.398942280401432678f;
    // Keeps the sign, exponent and top 11 stored mantissa bits: a head with 12 significant bits.
    private const int HeadMask = unchecked((int)0xFFFFF000);

    /// <inheritdoc />
    public bool NeedsPreActivation => true;

    /// <inheritdoc />
    public float Forward(float z) => z * NormalCdf(z, out _);

    /// <inheritdoc />
    public float Derivative(float z, float y)
    {
        float cdf = NormalCdf(z, out float density);
        return (z * density) + cdf;
    }

    /// <summary>Phi(z), the standard normal CDF, and the density phi(z) = e^(-z^2/2) / sqrt(2 pi).</summary>
    internal static float NormalCdf(float z, out float density)
    {
        float a = MathF.Min(MathF.Abs(z), TailLimit);

        // a^2 = hi + lo: a = head + rest with 12 significant bits each, so head^2, head rest and rest^2 are exact.
        float hi = a * a;
        float head = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) & HeadMask);
        float rest = a - head;
        float lo = ((head * head) - hi) + (((head + head) * rest) + (rest * rest));
        float gauss = GpuMath.Exp(hi * -0.5f);
        gauss = (gauss * (lo * -0.5f)) + gauss;

        // Phi(-a) = t g(t) e^(-a^2/2), t = 1 / (1 + a/2).
        float t = 1f / (1f + (a * 0.5f));
        float g = 0.0314308757807f;
        g = (g * t) + -0.232724618525f;
        g = (g * t) + 0.521215606209f;
        g = (g * t) + -0.453841007108f;
        g = (g * t) + 0.0572155590287f;
        g = (g * t) + 0.0243469132963f;
        g = (g * t) + 0.152885432585f;
        g = (g * t) + 0.199238224207f;
        g = (g * t) + 0.199478119326f;
        float tail = t * g * gauss;
        float far = z >= 0f ? 1f - tail : tail;

        // |z| < 1.25: Phi(z) = 1/2 + z P(z^2), no cancellation near Phi = 1/2 (there hi = z^2).
        float p = 4.76927903461e-7f;
        p = (p * hi) + -9.06247160171e-6f;
        p = (p * hi) + 1.15039311462e-4f;
        p = (p * hi) + -1.1871154755e-3f;
        p = (p * hi) + 9.97350211734e-3f;
        p = (p * hi) + -6.64903747311e-2f;
        p = (p * hi) + 3.98942280316e-1f;
        float near = (z * p) + 0.5f;

        density = gauss * InverseSqrtTwoPi;
        return a < CentralLimit ? near : far;
    }
}

/// <summary>
/// y = z sigma(z) (swish); phi'(z) = sigma(z) (1 + z sigma(-z)), which needs the pre-activation. sigma(-z)
/// is computed directly rather than as 1 - sigma(z), as on the CPU. GPU twin of <see cref="Dsl.Ops.Silu"/>.
/// </summary>
public readonly struct GpuSilu : IGpuActivation
{
    /// <inheritdoc />
    public bool NeedsPreActivation => true;

    /// <inheritdoc />
    public float Forward(float z) => z * GpuSigmoid.Logistic(z, out _);

    /// <inheritdoc />
    public float Derivative(float z, float y)
    {
        float sigma = GpuSigmoid.Logistic(z, out float complement);
        return (z * sigma * complement) + sigma;
    }
}

/// <summary>
/// y = tanh(z); phi'(z) = 1 - y^2 from the output, as PyTorch's <c>tanh_backward</c>, evaluated as
/// (1 - y)(1 + y) so that it keeps its relative precision where |y| is close to 1. Cephes' tanhf scheme as
/// the CPU's <see cref="Dsl.Ops.Tanh"/>: an odd polynomial for |z| &lt; 0.625, else (1 - t) / (1 + t) with
/// t = e^-2|z|, which saturates to exactly +-1 without overflow.
/// </summary>
public readonly struct GpuTanh : IGpuActivation
{
    private const float PolynomialLimit = 0.625f;

    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    public float Forward(float z)
    {
        float magnitude = MathF.Abs(z);

        // |z| < 0.625: tanh(a) = a + a^3 P(a^2).
        float square = magnitude * magnitude;
        float p = -5.70498872745e-3f;
        p = (p * square) + 2.06390887954e-2f;
        p = (p * square) + -5.37397155531e-2f;
        p = (p * square) + 1.33314422036e-1f;
        p = (p * square) + -3.33332819422e-1f;
        float near = (p * square * magnitude) + magnitude;

        // |z| >= 0.625: tanh(a) = (1 - t) / (1 + t), t = e^-2a in (0, 0.287].
        float t = GpuMath.Exp(-(magnitude + magnitude));
        float far = (1f - t) / (1f + t);

        return MathF.CopySign(magnitude < PolynomialLimit ? near : far, z);
    }

    /// <inheritdoc />
    public float Derivative(float z, float y) => (1f - y) * (1f + y);
}

/// <summary>
/// y = 1 / (1 + e^-z); phi'(z) = y (1 - y) from the output, as PyTorch's <c>sigmoid_backward</c> (1 - y is
/// exact for y &gt;= 1/2, so the product keeps its relative precision as y approaches 1). Evaluated from
/// t = e^-|z| in (0, 1] as the CPU's <see cref="Dsl.Ops.Sigmoid"/>, so it never overflows.
/// </summary>
public readonly struct GpuSigmoid : IGpuActivation
{
    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    public float Forward(float z) => Logistic(z, out _);

    /// <inheritdoc />
    public float Derivative(float z, float y) => y * (1f - y);

    /// <summary>sigma(z) and its complement sigma(-z) = 1 - sigma(z), each with small relative error.</summary>
    internal static float Logistic(float z, out float complement)
    {
        float t = GpuMath.Exp(-MathF.Abs(z)); // e^-|z|, in (0, 1]
        float large = 1f / (1f + t);          // sigma(|z|)
        float small = t * large;              // sigma(-|z|)
        bool nonNegative = z >= 0f;
        complement = nonNegative ? small : large;
        return nonNegative ? large : small;
    }
}
