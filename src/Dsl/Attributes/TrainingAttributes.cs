namespace Dsl;

// Attributes on a [Network] class that declare how its training step runs (Dsl.Training.TrainingPolicy): the
// generated constructor sets model.Training from them, and the analyzers read them (DSL0110 looks for a warm-up).

/// <summary>
/// Linear learning-rate warm-up over the first <see cref="Steps"/> updates: update t runs at (t + 1) / Steps of the
/// optimizer's rate, then the declared decay (if any) starts. <see cref="Training.LearningRateSchedule.Warmup"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class WarmupAttribute(int steps) : Attribute
{
    /// <summary>Updates of warm-up; positive.</summary>
    public int Steps { get; } = steps;
}

/// <summary>
/// Cosine learning-rate decay from the optimizer's rate to <see cref="FinalFactor"/> of it over <see cref="Steps"/>
/// updates (after the warm-up, if one is declared). <see cref="Training.LearningRateSchedule.Cosine"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class CosineDecayAttribute(int steps) : Attribute
{
    /// <summary>Updates the decay takes; positive.</summary>
    public int Steps { get; } = steps;

    /// <summary>The factor reached at the end and kept after it, in [0, 1]; 0 by default.</summary>
    public double FinalFactor { get; set; }
}

/// <summary>
/// Step learning-rate decay: the rate is multiplied by <see cref="Factor"/> every <see cref="Every"/> updates (after the
/// warm-up, if one is declared). <see cref="Training.LearningRateSchedule.StepDecay"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class StepDecayAttribute(int every, double factor) : Attribute
{
    /// <summary>Updates between decays; positive.</summary>
    public int Every { get; } = every;

    /// <summary>The factor per decay, in (0, 1].</summary>
    public double Factor { get; } = factor;
}

/// <summary>
/// Clips the gradients to a global L2 norm of at most <see cref="MaxNorm"/> before each update
/// (<see cref="Training.TrainingPolicy.MaxGradientNorm"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ClipGradientNormAttribute(double maxNorm) : Attribute
{
    /// <summary>The largest global norm; positive and finite.</summary>
    public double MaxNorm { get; } = maxNorm;
}

/// <summary>
/// The optimizer's weight decay reaches every parameter, biases and norm gains and shifts included; without it only
/// dense and convolution weights decay (<see cref="Training.TrainingPolicy.DecayNormsAndBiases"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class DecayAllParametersAttribute : Attribute
{
}
