using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// An element-wise activation y = phi(z), with its derivative beside it. Implemented by small
/// structs so generic kernels (<c>where TActivation : struct, IActivation</c>) specialise and inline.
/// </summary>
public interface IActivation
{
    /// <summary>True when <see cref="Derivative(float, float)"/> reads the pre-activation z; false when the output y is enough.</summary>
    bool NeedsPreActivation { get; }

    /// <summary>y = phi(z).</summary>
    float Forward(float z);

    /// <summary>y = phi(z), eight lanes.</summary>
    Vector256<float> Forward(Vector256<float> z);

    /// <summary>phi'(z), given the pre-activation z and the output y = phi(z) (only one of them may be read).</summary>
    float Derivative(float z, float y);

    /// <summary>phi'(z), eight lanes.</summary>
    Vector256<float> Derivative(Vector256<float> z, Vector256<float> y);
}
