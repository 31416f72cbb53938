using System.Globalization;
using ILGPU;

namespace Dsl.Gpu;

/// <summary>
/// One optimizer step's update rule for parameters on the device, as a value a kernel carries and applies to
/// parameter i the moment it knows gradient i. The standalone update kernel (<see cref="GpuOptimizerKernels"/>) applies
/// it to every parameter of the buffer; the generated training steps apply it where the gradients are finished, so no
/// separate update pass runs: layer by layer inside each weight-gradient GEMM epilogue and bias reduction, fully fused
/// inside the reduction of the groups' gradient slots (<see cref="FusedMlpLauncher"/>).
/// </summary>
/// <remarks>
/// <para>
/// Obtained from <see cref="Dsl.Training.Optimizer.BeginDeviceStep"/> (which checks, binds the optimizer's state and
/// counts the step) or <see cref="None"/> (gradients only). It holds views of the whole parameter buffer and of the
/// optimizer's state buffers, laid out like it; <see cref="At"/> shifts the origin to a layer's slice, so the kernel
/// that computes the slice's gradients indexes from 0.
/// </para>
/// <para>
/// Contract for whoever applies it: <see cref="Apply"/> exactly once for every parameter of the buffer, each after the
/// step's last read of that parameter's old value (a layer's input gradient reads W, so it runs before that layer's
/// weight-gradient kernel). Every rule is element-wise: parameter i's update reads and writes only index i.
/// </para>
/// <para>
/// The math is operation for operation the host optimizers' (<see cref="Dsl.Training.Sgd"/>, <see cref="Dsl.Training.Adam"/>,
/// <see cref="Dsl.Training.AdamW"/>). The host fuses every a * b + c into one rounding; here they are written out and the
/// PTX assembler may or may not contract them, so results can differ in the last bit per step.
/// </para>
/// <para>
/// One struct for every rule, branching on a field that is the same for every thread, keeps one compiled kernel per
/// consumer whatever the optimizer. The price is code: the weight-gradient GEMM inlines both rules into each of its
/// 16 stores (PTX for sm_90: 1,919 lines, against 684 for the input-gradient GEMM). Whether that costs registers or
/// time on a GPU has not been measured; if it does, the rule becomes a struct type parameter of the consumers.
/// </para>
/// </remarks>
public readonly struct GpuParameterUpdate
{
    private const int NoRule = 0;
    private const int SgdRule = 1;
    private const int AdamRule = 2;

    private readonly int _rule;
    private readonly long _origin;                  // index in the whole buffer of this value's index 0
    private readonly ArrayView<float> _parameters;  // (parameterCount)
    private readonly ArrayView<float> _firstState;  // SGD: momentum buffer, or empty without momentum; Adam: m. (parameterCount)
    private readonly ArrayView<float> _secondState; // Adam: v (parameterCount); else empty
    private readonly SgdStep _sgd;
    private readonly AdamStepScalars _adam;

    private GpuParameterUpdate(int rule, long origin, ArrayView<float> parameters, ArrayView<float> firstState, ArrayView<float> secondState, SgdStep sgd, AdamStepScalars adam)
    {
        _rule = rule;
        _origin = origin;
        _parameters = parameters;
        _firstState = firstState;
        _secondState = secondState;
        _sgd = sgd;
        _adam = adam;
    }

    /// <summary>No update: kernels that take one only compute and store gradients.</summary>
    public static GpuParameterUpdate None => default;

    /// <summary>True for <see cref="None"/>.</summary>
    public bool IsNone => _rule == NoRule;

    /// <summary>torch.optim.SGD's update (dampening 0) of <paramref name="parameters"/>, with the momentum buffer when it has one.</summary>
    internal static GpuParameterUpdate Sgd(ArrayView<float> parameters, ArrayView<float> momentumBuffer, SgdStep step)
        => new(SgdRule, 0, parameters, momentumBuffer, ArrayView<float>.Empty, step, default);

    /// <summary>Adam's or AdamW's update of <paramref name="parameters"/> with moments m and v.</summary>
    internal static GpuParameterUpdate Adam(ArrayView<float> parameters, ArrayView<float> firstMoment, ArrayView<float> secondMoment, AdamStepScalars step)
        => new(AdamRule, 0, parameters, firstMoment, secondMoment, default, step);

    /// <summary>The same update with index 0 at <paramref name="offset"/> of this one: for the slice of a layer's weights or bias.</summary>
    public GpuParameterUpdate At(long offset)
        => new(_rule, _origin + offset, _parameters, _firstState, _secondState, _sgd, _adam);

    /// <summary>
    /// Throws unless this update is <see cref="None"/> or its buffer holds parameters [origin, origin + <paramref name="count"/>):
    /// a kernel about to apply it to <paramref name="count"/> parameters calls this before launching, since a GPU would
    /// write past a short buffer without an error.
    /// </summary>
    /// <exception cref="ArgumentException">The update's buffer does not hold the range.</exception>
    public void CheckCovers(long count, string parameterName)
    {
        if (_rule != NoRule && (_origin < 0 || count < 0 || _origin + count > _parameters.Length))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The update's parameter buffer holds {_parameters.Length} floats; this kernel would update [{_origin}, {_origin + count})."),
                parameterName);
        }
    }

    /// <summary>Updates parameter <paramref name="index"/> (from this value's origin) given its gradient; nothing for <see cref="None"/>.</summary>
    public void Apply(long index, float gradient)
    {
        long i = _origin + index;
        if (_rule == SgdRule)
        {
            ApplySgd(i, gradient);
        }
        else if (_rule == AdamRule)
        {
            ApplyAdam(i, gradient);
        }
    }

    /// <summary>
    /// g = grad + weightDecay p; b = momentum b + g (b starts at zero, so b = g on the first step);
    /// g = nesterov ? g + momentum b : b; p -= learningRate g.
    /// </summary>
    private void ApplySgd(long i, float gradient)
    {
        float p = _parameters[i];
        float g = gradient;
        if (_sgd.HasDecay != 0)
        {
            g = (_sgd.WeightDecay * p) + g;
        }

        if (_sgd.HasMomentum != 0)
        {
            float b = (_sgd.Momentum * _firstState[i]) + g;
            _firstState[i] = b;
            g = _sgd.Nesterov != 0 ? (_sgd.Momentum * b) + g : b;
        }

        _parameters[i] = (-_sgd.LearningRate * g) + p;
    }

    /// <summary>
    /// p *= shrink (AdamW); g = grad + l2Penalty p (Adam); m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
    /// p -= stepSize m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon).
    /// </summary>
    private void ApplyAdam(long i, float gradient)
    {
        float p = _parameters[i];
        if (_adam.HasShrink != 0)
        {
            p *= _adam.Shrink;
        }

        float g = gradient;
        if (_adam.HasPenalty != 0)
        {
            g = (_adam.L2Penalty * p) + g;
        }

        float m = (_adam.Beta1 * _firstState[i]) + (_adam.OneMinusBeta1 * g);
        float v = (_adam.Beta2 * _secondState[i]) + (_adam.OneMinusBeta2 * g * g);
        _firstState[i] = m;
        _secondState[i] = v;
        float denominator = (MathF.Sqrt(v) * _adam.InverseRootCorrection2) + _adam.Epsilon;
        _parameters[i] = (-_adam.StepSize * (m / denominator)) + p;
    }
}
