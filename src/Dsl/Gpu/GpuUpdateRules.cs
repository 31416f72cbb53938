using ILGPU;

namespace Dsl.Gpu;

/// <summary>Which optimizer update a <see cref="GpuParameterUpdate"/> carries.</summary>
public enum GpuUpdateRule
{
    /// <summary>No update: gradients only.</summary>
    None,

    /// <summary>torch.optim.SGD's update (<see cref="SgdUpdate"/>).</summary>
    Sgd,

    /// <summary>Adam's or AdamW's update (<see cref="AdamUpdate"/>).</summary>
    Adam,
}

/// <summary>
/// What a kernel that finishes gradients does with each one: the optimizer's update of that parameter. Kernels are
/// generic over the rule (<c>TRule : struct, IGpuUpdateRule</c>), so each rule is its own compiled kernel with only its
/// own math inlined, and <see cref="NoUpdate"/> compiles to nothing. The math is operation for operation the host
/// optimizers' (<see cref="Dsl.Training.Sgd"/>, <see cref="Dsl.Training.Adam"/>, <see cref="Dsl.Training.AdamW"/>); the host fuses
/// every a * b + c into one rounding, here they are written out and the PTX assembler may or may not contract them,
/// so results can differ in the last bit per step.
/// </summary>
public interface IGpuUpdateRule
{
    /// <summary>Updates parameter <paramref name="index"/> (counted from the rule's origin) given its gradient.</summary>
    void Apply(long index, float gradient);
}

/// <summary>No update: a kernel given this rule only computes and stores gradients.</summary>
public readonly struct NoUpdate : IGpuUpdateRule
{
    // Unused. A field-less struct is 1 byte to .NET; one int gives it the same plain layout on the host and in a
    // CUDA kernel's parameters, where an empty struct's marshalling has not been tried (no GPU here).
#pragma warning disable CS0169 // never read: it exists for its size
    private readonly int _unused;
#pragma warning restore CS0169

    /// <inheritdoc />
    public void Apply(long index, float gradient)
    {
    }
}

/// <summary>
/// torch.optim.SGD (dampening 0) for parameter i: g = grad + weightDecay p; b = momentum b + g (b starts at zero, so
/// b = g on the first step); g = nesterov ? g + momentum b : b; p -= learningRate g. Obtain it from
/// <see cref="GpuParameterUpdate.Sgd"/>, which checks its range (<see cref="GpuParameterUpdate.CheckCovers"/>); the
/// default value has empty views and must not reach a kernel.
/// </summary>
public readonly struct SgdUpdate : IGpuUpdateRule
{
    private readonly long _origin;                    // index in the whole buffer of this rule's index 0
    private readonly ArrayView<float> _parameters;    // (parameterCount)
    private readonly ArrayView<float> _momentumBuffer; // (parameterCount), or empty without momentum
    private readonly SgdStep _step;

    internal SgdUpdate(long origin, ArrayView<float> parameters, ArrayView<float> momentumBuffer, SgdStep step)
    {
        _origin = origin;
        _parameters = parameters;
        _momentumBuffer = momentumBuffer;
        _step = step;
    }

    /// <inheritdoc />
    public void Apply(long index, float gradient)
    {
        long i = _origin + index;
        float p = _parameters[i];
        float g = gradient;
        if (_step.HasDecay != 0)
        {
            g = (_step.WeightDecay * p) + g;
        }

        if (_step.HasMomentum != 0)
        {
            float b = (_step.Momentum * _momentumBuffer[i]) + g;
            _momentumBuffer[i] = b;
            g = _step.Nesterov != 0 ? (_step.Momentum * b) + g : b;
        }

        _parameters[i] = (-_step.LearningRate * g) + p;
    }
}

/// <summary>
/// Adam or AdamW for parameter i: p *= shrink (AdamW); g = grad + l2Penalty p (Adam); m = beta1 m + (1 - beta1) g;
/// v = beta2 v + (1 - beta2) g^2; p -= stepSize m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon). Obtain it from
/// <see cref="GpuParameterUpdate.Adam"/>; the default value has empty views and must not reach a kernel.
/// </summary>
public readonly struct AdamUpdate : IGpuUpdateRule
{
    private readonly long _origin;                  // index in the whole buffer of this rule's index 0
    private readonly ArrayView<float> _parameters;  // (parameterCount)
    private readonly ArrayView<float> _firstMoment;  // m (parameterCount)
    private readonly ArrayView<float> _secondMoment; // v (parameterCount)
    private readonly AdamStepScalars _step;

    internal AdamUpdate(long origin, ArrayView<float> parameters, ArrayView<float> firstMoment, ArrayView<float> secondMoment, AdamStepScalars step)
    {
        _origin = origin;
        _parameters = parameters;
        _firstMoment = firstMoment;
        _secondMoment = secondMoment;
        _step = step;
    }

    /// <inheritdoc />
    public void Apply(long index, float gradient)
    {
        long i = _origin + index;
        float p = _parameters[i];
        if (_step.HasShrink != 0)
        {
            p *= _step.Shrink;
        }

        float g = gradient;
        if (_step.HasPenalty != 0)
        {
            g = (_step.L2Penalty * p) + g;
        }

        float m = (_step.Beta1 * _firstMoment[i]) + (_step.OneMinusBeta1 * g);
        float v = (_step.Beta2 * _secondMoment[i]) + (_step.OneMinusBeta2 * g * g);
        _firstMoment[i] = m;
        _secondMoment[i] = v;
        float denominator = (MathF.Sqrt(v) * _step.InverseRootCorrection2) + _step.Epsilon;
        _parameters[i] = (-_step.StepSize * (m / denominator)) + p;
    }
}
