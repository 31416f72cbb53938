namespace Dsl.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter 2019) with the semantics of <c>torch.optim.AdamW</c>: the weight decay is
/// decoupled from the gradient, p *= 1 - learningRate weightDecay, then the <see cref="Adam"/> step
/// without penalty. Both happen in the same pass over the buffer.
/// </summary>
public sealed class AdamW : AdaptiveMomentOptimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size; finite and non-negative.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator; finite and non-negative.</param>
    /// <param name="weightDecay">Decoupled decay coefficient (PyTorch's default 0.01); finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range.</exception>
    public AdamW(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 1e-2f)
        : base(learningRate, beta1, beta2, epsilon, weightDecay)
    {
    }

    /// <inheritdoc />
    private protected override (float L2Penalty, float Shrink) WeightDecayTerms() => (0f, (float)(1.0 - ((double)StepLearningRate * WeightDecay)));
}
