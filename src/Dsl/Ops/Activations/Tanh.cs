using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// y = tanh(z); phi'(z) = 1 - y^2, from the output as PyTorch's <c>tanh_backward</c> (one fused rounding).
/// Cephes' tanhf scheme: an odd polynomial for |z| &lt; 0.625, else (1 - t) / (1 + t) with t = e^-2|z|,
/// which saturates to exactly +-1 without overflow. The scalar form is lane 0 of the vector form, bit for bit.
/// </summary>
public readonly struct Tanh : IActivation
{
    private const float PolynomialLimit = 0.625f;

    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float z) => Forward(Vector256.Create(z)).ToScalar();

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> z)
    {
        Vector256<float> magnitude = Vector256.Abs(z);

        // |z| < 0.625: tanh(a) = a + a^3 P(a^2).
        Vector256<float> square = magnitude * magnitude;
        Vector256<float> p = Vector256.Create(-5.70498872745e-3f);
        p = Vector256.FusedMultiplyAdd(p, square, Vector256.Create(2.06390887954e-2f));
        p = Vector256.FusedMultiplyAdd(p, square, Vector256.Create(-5.37397155531e-2f));
        p = Vector256.FusedMultiplyAdd(p, square, Vector256.Create(1.33314422036e-1f));
        p = Vector256.FusedMultiplyAdd(p, square, Vector256.Create(-3.33332819422e-1f));
        Vector256<float> near = Vector256.FusedMultiplyAdd(p * square, magnitude, magnitude);

        // |z| >= 0.625: tanh(a) = (1 - t) / (1 + t), t = e^-2a in (0, 0.287].
        Vector256<float> t = Exponential.Exp(-(magnitude + magnitude));
        Vector256<float> far = (Vector256<float>.One - t) / (Vector256<float>.One + t);

        Vector256<float> result = Vector256.ConditionalSelect(Vector256.LessThan(magnitude, Vector256.Create(PolynomialLimit)), near, far);
        return Vector256.CopySign(result, z);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float z, float y) => MathF.FusedMultiplyAdd(-y, y, 1f);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> z, Vector256<float> y) => Vector256.FusedMultiplyAdd(-y, y, Vector256<float>.One);
}
