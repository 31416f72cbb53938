using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// y = z sigma(z) (swish); phi'(z) = sigma(z) (1 + z sigma(-z)), which needs the pre-activation.
/// sigma(-z) is computed directly rather than as 1 - sigma(z), so the derivative keeps its relative
/// precision for large |z|. The scalar forms are lane 0 of the vector forms, bit for bit.
/// </summary>
public readonly struct Silu : IActivation
{
    /// <inheritdoc />
    public bool NeedsPreActivation => true;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float z) => Forward(Vector256.Create(z)).ToScalar();

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> z) => z * Sigmoid.Logistic(z, out _);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float z, float y) => Derivative(Vector256.Create(z), Vector256.Create(y)).ToScalar();

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> z, Vector256<float> y)
    {
        Vector256<float> sigma = Sigmoid.Logistic(z, out Vector256<float> complement);
        return Vector256.FusedMultiplyAdd(z * sigma, complement, sigma);
    }
}
