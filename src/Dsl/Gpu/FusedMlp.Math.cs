namespace Dsl.Gpu;

// Scalar activations the fused kernel calls, as a switch on the activation code (the plan carries the code,
// not a type argument, so one kernel serves every network). Each case is the IGpuActivation struct the layered
// GPU path uses (GpuActivations.cs), so both paths share one set of schemes, semantics and derivative
// conventions; the structs are plain multiplies, adds and GpuMath.Exp, which compile to PTX without external calls.
// LeakyReLU's struct is made with GpuLeakyRelu.FromCheckedSlope: its public constructor checks the slope and throws,
// which ILGPU cannot compile into a kernel (FusedMlpPlan.Create has already checked the slope).
public static partial class FusedMlp
{
    /// <summary>
    /// y = phi(z) for the activation with code <paramref name="activation"/> (<see cref="Activation"/> as int):
    /// the matching <see cref="IGpuActivation"/>'s forward; an unknown code acts as the identity.
    /// </summary>
    /// <param name="slope">LeakyReLU's negative-side slope (ignored by the other activations); finite and non-negative, as the plan checks.</param>
    internal static float Activate(int activation, float slope, float z) => activation switch
    {
        (int)Activation.Relu => new GpuRelu().Forward(z),
        (int)Activation.LeakyRelu => GpuLeakyRelu.FromCheckedSlope(slope).Forward(z),
        (int)Activation.Gelu => new GpuGelu().Forward(z),
        (int)Activation.Silu => new GpuSilu().Forward(z),
        (int)Activation.Tanh => new GpuTanh().Forward(z),
        (int)Activation.Sigmoid => new GpuSigmoid().Forward(z),
        _ => new GpuIdentity().Forward(z),
    };

    /// <summary>
    /// phi'(z) given the pre-activation z and the output y = phi(z): the matching <see cref="IGpuActivation"/>'s
    /// derivative. ReLU, LeakyReLU, tanh and sigmoid read only y (the sign of y for the ReLUs: 0 resp. the slope at
    /// z = 0, as PyTorch); GELU and SiLU read only z, which is why the kernel keeps z for those two
    /// (<see cref="NeedsPreActivation"/>). An unknown code acts as the identity (1).
    /// </summary>
    internal static float Derivative(int activation, float slope, float z, float y) => activation switch
    {
        (int)Activation.Relu => new GpuRelu().Derivative(z, y),
        (int)Activation.LeakyRelu => GpuLeakyRelu.FromCheckedSlope(slope).Derivative(z, y),
        (int)Activation.Gelu => new GpuGelu().Derivative(z, y),
        (int)Activation.Silu => new GpuSilu().Derivative(z, y),
        (int)Activation.Tanh => new GpuTanh().Derivative(z, y),
        (int)Activation.Sigmoid => new GpuSigmoid().Derivative(z, y),
        _ => new GpuIdentity().Derivative(z, y),
    };

    /// <summary>True for the activations whose derivative reads the pre-activation z (GELU, SiLU).</summary>
    internal static bool NeedsPreActivation(Activation activation) => activation is Activation.Gelu or Activation.Silu;
}
