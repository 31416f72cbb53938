namespace Dsl.Training;

/// <summary>
/// Adam (Kingma and Ba 2015) with the semantics of <c>torch.optim.Adam</c> (amsgrad off): the weight decay is
/// an L2 penalty added to the gradient, g = grad + weightDecay p; m = beta1 m + (1 - beta1) g;
/// v = beta2 v + (1 - beta2) g^2; p -= learningRate / (1 - beta1^t) m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon).
/// For decoupled decay use <see cref="AdamW"/>.
/// </summary>
public sealed class Adam : AdaptiveMomentOptimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size; finite and non-negative.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator; finite and non-negative.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient; finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range.</exception>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(learningRate, beta1, beta2, epsilon, weightDecay)
    {
    }

    /// <inheritdoc />
    private protected override (float L2Penalty, float Shrink) WeightDecayTerms() => (WeightDecay, 1f);
}
