using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>y = z (a layer without activation); phi'(z) = 1.</summary>
public readonly struct Identity : IActivation
{
    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float z) => z;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> z) => z;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float z, float y) => 1f;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> z, Vector256<float> y) => Vector256<float>.One;
}
