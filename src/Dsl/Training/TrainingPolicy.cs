using System.Globalization;

namespace Dsl.Training;

/// <summary>
/// What a network's training step does around its optimizer's update: the learning-rate schedule, gradient clipping by
/// global norm and which parameters the weight decay reaches. Every generated network carries one
/// (<c>model.Training</c>), initialised from its declaration's <see cref="WarmupAttribute"/>, <see cref="CosineDecayAttribute"/>,
/// <see cref="StepDecayAttribute"/>, <see cref="ClipGradientNormAttribute"/> and <see cref="DecayAllParametersAttribute"/>;
/// it can be changed between steps. Calling an optimizer's <c>Step</c> directly applies none of it.
/// </summary>
public sealed class TrainingPolicy
{
    private LearningRateSchedule _schedule = LearningRateSchedule.Constant;
    private float _maxGradientNorm;

    /// <summary>The factor on the optimizer's learning rate per update; <see cref="LearningRateSchedule.Constant"/> by default.</summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public LearningRateSchedule Schedule
    {
        get => _schedule;
        set => _schedule = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// When positive, a step whose gradients' global L2 norm (over the whole parameter buffer) exceeds it scales them by
    /// MaxGradientNorm / (norm + 1e-6) before the update, as torch.nn.utils.clip_grad_norm_ does; 0 (the default): no clipping.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN or infinite.</exception>
    public float MaxGradientNorm
    {
        get => _maxGradientNorm;
        set
        {
            if (!(value >= 0f) || float.IsPositiveInfinity(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Must be finite and non-negative (0: no clipping).");
            }

            _maxGradientNorm = value;
        }
    }

    /// <summary>
    /// Whether the optimizer's weight decay also reaches biases and the gains and shifts of norms. False by default:
    /// only dense and convolution weights decay (decaying a norm's gain or a bias pulls it towards 0 for no regularising
    /// benefit; the practice of BERT, GPT-2 and timm).
    /// </summary>
    public bool DecayNormsAndBiases { get; set; }

    /// <summary>The policy in one line.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"schedule: {_schedule}; {(_maxGradientNorm > 0f ? $"clip gradients to global norm {_maxGradientNorm:R}" : "no gradient clipping")}; weight decay on {(DecayNormsAndBiases ? "every parameter" : "weights only")}");
}
