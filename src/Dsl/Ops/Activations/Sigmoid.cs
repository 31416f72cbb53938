using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// y = 1 / (1 + e^-z); phi'(z) = y (1 - y), from the output as PyTorch's <c>sigmoid_backward</c>.
/// Evaluated from t = e^-|z| in (0, 1], so it never overflows: sigma(|z|) = 1 / (1 + t) and
/// sigma(-|z|) = t / (1 + t), both with small relative error (sigma(-100) is 3.7e-44, not 0).
/// The scalar form is lane 0 of the vector form, bit for bit.
/// </summary>
public readonly struct Sigmoid : IActivation
{
    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float z) => Forward(Vector256.Create(z)).ToScalar();

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> z) => Logistic(z, out _);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float z, float y) => MathF.FusedMultiplyAdd(-y, y, y);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> z, Vector256<float> y) => Vector256.FusedMultiplyAdd(-y, y, y);

    /// <summary>sigma(z) and its complement sigma(-z) = 1 - sigma(z), each with small relative error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Logistic(Vector256<float> z, out Vector256<float> complement)
    {
        Vector256<float> t = Exponential.Exp(-Vector256.Abs(z));           // e^-|z|, in (0, 1]
        Vector256<float> large = Vector256<float>.One / (Vector256<float>.One + t); // sigma(|z|)
        Vector256<float> small = t * large;                                 // sigma(-|z|)
        Vector256<float> nonNegative = Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero);
        complement = Vector256.ConditionalSelect(nonNegative, small, large);
        return Vector256.ConditionalSelect(nonNegative, large, small);
    }
}
