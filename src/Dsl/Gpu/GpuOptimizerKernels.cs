using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// Hyperparameters of one SGD update (<see cref="SgdUpdate"/>), as <see cref="Dsl.Training.Sgd"/> holds them.
/// Flags are ints (1 or 0) so the struct is plain data on every backend. Public only because ILGPU's kernel
/// launchers must see the types of kernel arguments; built by <see cref="Dsl.Training.Sgd"/>.
/// </summary>
public struct SgdStep
{
    /// <summary>Step size.</summary>
    public float LearningRate;

    /// <summary>Momentum factor; used only when <see cref="HasMomentum"/> is 1.</summary>
    public float Momentum;

    /// <summary>L2 penalty; used only when <see cref="HasDecay"/> is 1.</summary>
    public float WeightDecay;

    /// <summary>1: a momentum buffer is kept and used.</summary>
    public int HasMomentum;

    /// <summary>1: Nesterov momentum (needs <see cref="HasMomentum"/>).</summary>
    public int Nesterov;

    /// <summary>1: the L2 penalty is added to the gradient.</summary>
    public int HasDecay;
}

/// <summary>
/// Scalars of one Adam or AdamW update (<see cref="AdamUpdate"/>) for step t, computed on the host in double
/// exactly as the CPU <c>AdaptiveMomentOptimizer.AdamStep</c> computes them. Public only because ILGPU's kernel
/// launchers must see the types of kernel arguments; built by <see cref="Dsl.Training.AdaptiveMomentOptimizer"/>.
/// </summary>
public struct AdamStepScalars
{
    /// <summary>Decay of the first moment.</summary>
    public float Beta1;

    /// <summary>Decay of the second moment.</summary>
    public float Beta2;

    /// <summary>1 - beta1 in float.</summary>
    public float OneMinusBeta1;

    /// <summary>1 - beta2 in float.</summary>
    public float OneMinusBeta2;

    /// <summary>Added to the denominator.</summary>
    public float Epsilon;

    /// <summary>Adam's L2 penalty added to the gradient; used only when <see cref="HasPenalty"/> is 1.</summary>
    public float L2Penalty;

    /// <summary>AdamW's factor 1 - learningRate weightDecay on the parameter; used only when <see cref="HasShrink"/> is 1.</summary>
    public float Shrink;

    /// <summary>learningRate / (1 - beta1^t).</summary>
    public float StepSize;

    /// <summary>1 / sqrt(1 - beta2^t).</summary>
    public float InverseRootCorrection2;

    /// <summary>1: the L2 penalty is applied.</summary>
    public int HasPenalty;

    /// <summary>1: the shrink factor is applied.</summary>
    public int HasShrink;
}

/// <summary>
/// The standalone optimizer update for parameters on the device: one thread per parameter applies the step's rule
/// (<see cref="SgdUpdate"/> or <see cref="AdamUpdate"/>, whose math lives there) to it with its gradient; one compiled
/// kernel per rule. Optimizers load it through <see cref="GpuAccelerator.Kernel"/> once per accelerator and keep the
/// launcher. The generated training steps never launch it: they apply the same rule inside the kernels that finish
/// the gradients.
/// </summary>
internal static class GpuOptimizerKernels
{
    /// <summary>The update launcher for rule <typeparamref name="TRule"/> on <paramref name="gpu"/>, loaded on first use.</summary>
    public static Action<AcceleratorStream, Index1D, ArrayView<float>, TRule> Load<TRule>(GpuAccelerator gpu)
        where TRule : struct, IGpuUpdateRule
    {
        Action<Index1D, ArrayView<float>, TRule> kernel = UpdateKernel;
        return gpu.Kernel(kernel, static accelerator => accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, TRule>(UpdateKernel<TRule>));
    }

    /// <summary>Parameter i = the rule applied with gradients[i].</summary>
    internal static void UpdateKernel<TRule>(
        Index1D i,
        ArrayView<float> gradients, // (count)
        TRule rule)                 // over the whole buffer of count parameters
        where TRule : struct, IGpuUpdateRule
        => rule.Apply(i, gradients[i]);
}
