using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// y = z for z &gt; 0, slope * z otherwise; phi'(z) = 1 where y &gt; 0, else slope (slope at z = 0, as PyTorch).
/// The derivative reads the sign of y, which equals the sign of z because the slope is non-negative.
/// <c>default(LeakyRelu)</c> has slope 0 and behaves as <see cref="Relu"/>; construct it with the slope.
/// </summary>
public readonly struct LeakyRelu : IActivation
{
    /// <summary>Creates the activation with the given negative-side slope (PyTorch's default is 0.01).</summary>
    /// <param name="slope">Slope for z &lt;= 0; finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">The slope is negative, NaN or infinite.</exception>
    public LeakyRelu(float slope)
    {
        if (!(slope >= 0f) || float.IsPositiveInfinity(slope))
        {
            throw new ArgumentOutOfRangeException(nameof(slope), slope, "The slope of LeakyRelu must be finite and non-negative (the derivative reads the sign of the output).");
        }

        Slope = slope;
    }

    /// <summary>Slope of the negative side.</summary>
    public float Slope { get; }

    /// <inheritdoc />
    public bool NeedsPreActivation => false;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Forward(float z) => z > 0f ? z : Slope * z;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Forward(Vector256<float> z)
        => Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), z, z * Vector256.Create(Slope));

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Derivative(float z, float y) => y > 0f ? 1f : Slope;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Derivative(Vector256<float> z, Vector256<float> y)
        => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), Vector256<float>.One, Vector256.Create(Slope));
}
