using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// Hyperparameters of one <see cref="GpuOptimizerKernels.SgdKernel"/> launch, as <see cref="Dsl.Training.Sgd"/> holds them.
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
/// Scalars of one <see cref="GpuOptimizerKernels.AdamKernel"/> launch for step t, computed on the host in double
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
/// Element-wise optimizer updates for parameters on the device, one thread per parameter, matching the CPU
/// <see cref="Dsl.Training.Sgd"/>, <see cref="Dsl.Training.Adam"/> and <see cref="Dsl.Training.AdamW"/> updates operation
/// for operation. The CPU fuses every a * b + c into one rounding; here they are written out and the PTX assembler
/// may or may not contract them, so results can differ in the last bit per step.
/// The optimizers load these through <see cref="GpuAccelerator.Kernel"/> once per accelerator (<see cref="LoadSgd"/>,
/// <see cref="LoadAdam"/>) and keep the launchers.
/// </summary>
internal static class GpuOptimizerKernels
{
    /// <summary>Launcher of <see cref="SgdKernel"/>: (stream, parameter count, p, grad, momentum buffer or empty, scalars).</summary>
    internal delegate void SgdLauncher(AcceleratorStream stream, Index1D count, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> momentumBuffer, SgdStep step);

    /// <summary>Launcher of <see cref="AdamKernel"/>: (stream, parameter count, p, m, v, grad, scalars).</summary>
    internal delegate void AdamLauncher(AcceleratorStream stream, Index1D count, ArrayView<float> parameters, ArrayView<float> firstMoment, ArrayView<float> secondMoment, ArrayView<float> gradients, AdamStepScalars step);

    /// <summary>The SGD launcher for <paramref name="gpu"/>, loaded on first use.</summary>
    public static SgdLauncher LoadSgd(GpuAccelerator gpu) => gpu.Kernel<SgdLauncher>(
        SgdKernel,
        static accelerator =>
        {
            Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdStep> launch =
                accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdStep>(SgdKernel);
            return new SgdLauncher(launch);
        });

    /// <summary>The Adam/AdamW launcher for <paramref name="gpu"/>, loaded on first use.</summary>
    public static AdamLauncher LoadAdam(GpuAccelerator gpu) => gpu.Kernel<AdamLauncher>(
        AdamKernel,
        static accelerator =>
        {
            Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamStepScalars> launch =
                accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamStepScalars>(AdamKernel);
            return new AdamLauncher(launch);
        });

    /// <summary>
    /// torch.optim.SGD (dampening 0) for parameter i: g = grad + weightDecay p; b = momentum b + g (b starts at zero,
    /// so b = g on the first step); g = nesterov ? g + momentum b : b; p -= learningRate g.
    /// </summary>
    internal static void SgdKernel(
        Index1D i,
        ArrayView<float> parameters,     // (count)
        ArrayView<float> gradients,      // (count)
        ArrayView<float> momentumBuffer, // (count), or empty without momentum
        SgdStep step)
    {
        float p = parameters[i];
        float g = gradients[i];
        if (step.HasDecay != 0)
        {
            g = (step.WeightDecay * p) + g;
        }

        if (step.HasMomentum != 0)
        {
            float b = (step.Momentum * momentumBuffer[i]) + g;
            momentumBuffer[i] = b;
            g = step.Nesterov != 0 ? (step.Momentum * b) + g : b;
        }

        parameters[i] = (-step.LearningRate * g) + p;
    }

    /// <summary>
    /// One Adam/AdamW update of parameter i: p *= shrink (AdamW); g = grad + l2Penalty p (Adam);
    /// m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2; p -= stepSize m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon).
    /// </summary>
    internal static void AdamKernel(
        Index1D i,
        ArrayView<float> parameters,   // (count)
        ArrayView<float> firstMoment,  // (count) m
        ArrayView<float> secondMoment, // (count) v
        ArrayView<float> gradients,    // (count)
        AdamStepScalars step)
    {
        float p = parameters[i];
        if (step.HasShrink != 0)
        {
            p *= step.Shrink;
        }

        float g = gradients[i];
        if (step.HasPenalty != 0)
        {
            g = (step.L2Penalty * p) + g;
        }

        float m = (step.Beta1 * firstMoment[i]) + (step.OneMinusBeta1 * g);
        float v = (step.Beta2 * secondMoment[i]) + (step.OneMinusBeta2 * g * g);
        firstMoment[i] = m;
        secondMoment[i] = v;
        float denominator = (MathF.Sqrt(v) * step.InverseRootCorrection2) + step.Epsilon;
        parameters[i] = (-step.StepSize * (m / denominator)) + p;
    }
}
