namespace Dsl.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter 2019) with the semantics of <c>torch.optim.AdamW</c>: the weight decay is
/// decoupled from the gradient, p *= 1 - learningRate weightDecay, then the <see cref="Adam"/> step
/// without penalty. Both happen in the same pass over the buffer.
/// </summary>
public sealed class AdamW : Optimizer
{
    private float[] _firstMoment = [];  // (parameterCount) m
    private float[] _secondMoment = []; // (parameterCount) v

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size; finite and non-negative.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator; finite and non-negative.</param>
    /// <param name="weightDecay">Decoupled decay coefficient (PyTorch's default 0.01); finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range.</exception>
    public AdamW(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 1e-2f)
        : base(learningRate)
    {
        RequireUnitInterval(beta1, nameof(beta1));
        RequireUnitInterval(beta2, nameof(beta2));
        RequireFiniteNonNegative(epsilon, nameof(epsilon));
        RequireFiniteNonNegative(weightDecay, nameof(weightDecay));
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>Decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>Decoupled decay coefficient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    protected override void AllocateState(int length)
    {
        _firstMoment = new float[length];
        _secondMoment = new float[length];
    }

    /// <inheritdoc />
    protected override void ReleaseState()
    {
        _firstMoment = [];
        _secondMoment = [];
    }

    /// <inheritdoc />
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        float shrink = (float)(1.0 - (double)LearningRate * WeightDecay);
        Adam.AdamStep(parameters, _firstMoment, _secondMoment, gradients, LearningRate, Beta1, Beta2, Epsilon, 0f, shrink, StepCount);
    }
}
