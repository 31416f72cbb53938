using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// y = max(0, z); phi'(z) = 1 where y &gt; 0, else 0 (0 at z = 0, as PyTorch's <c>threshold_backward</c>).
/// NaN propagates through the forward (IEEE maximum).
/// </summary>
public readonly struct Relu : IActivation
{
    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float z) => MathF.Max(z, 0f);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> z) => Vector256.Max(z, Vector256<float>.Zero);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float z, float y) => y > 0f ? 1f : 0f;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> z, Vector256<float> y)
        => Vector256.GreaterThan(y, Vector256<float>.Zero) & Vector256<float>.One;
}
