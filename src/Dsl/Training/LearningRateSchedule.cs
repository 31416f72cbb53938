using System.Globalization;

namespace Dsl.Training;

/// <summary>
/// A factor on the optimizer's <see cref="Optimizer.LearningRate"/> per update, as a network's training step applies it
/// (<see cref="TrainingPolicy.Schedule"/>): update t (t = 0 for the first, the optimizer's <see cref="Optimizer.StepCount"/>
/// before it) runs at LearningRate x <see cref="Factor"/>(t). The step count is what a training checkpoint stores, so a
/// resumed run continues the schedule where it stopped. Declared on a network with <see cref="WarmupAttribute"/>,
/// <see cref="CosineDecayAttribute"/> and <see cref="StepDecayAttribute"/>, or built here and assigned.
/// </summary>
public abstract class LearningRateSchedule
{
    private protected LearningRateSchedule()
    {
    }

    /// <summary>Factor 1 at every step.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    /// <summary>
    /// Linear warm-up over <paramref name="steps"/> updates, factor (t + 1) / steps for t &lt; steps (the first update
    /// already moves), then <paramref name="then"/> counted from the end of the warm-up (constant when null).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    public static LearningRateSchedule Warmup(int steps, LearningRateSchedule? then = null) => new WarmupSchedule(steps, then ?? Constant);

    /// <summary>
    /// Cosine decay from 1 to <paramref name="finalFactor"/> over <paramref name="steps"/> updates (SGDR's half cosine,
    /// torch's CosineAnnealingLR with eta_min = finalFactor x LearningRate), then <paramref name="finalFactor"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive or <paramref name="finalFactor"/> is outside [0, 1].</exception>
    public static LearningRateSchedule Cosine(int steps, double finalFactor = 0.0) => new CosineSchedule(steps, finalFactor);

    /// <summary>Factor <paramref name="factor"/>^floor(t / <paramref name="every"/>): torch's StepLR.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="every"/> is not positive or <paramref name="factor"/> is outside (0, 1].</exception>
    public static LearningRateSchedule StepDecay(int every, double factor) => new StepSchedule(every, factor);

    /// <summary>Updates of linear warm-up at the start (0: none); what the analyzers' warm-up rule reads from a declaration.</summary>
    public virtual int WarmupSteps => 0;

    /// <summary>The factor on the learning rate of update <paramref name="step"/> (from 0); finite, in [0, 1].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public double Factor(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return FactorAt(step);
    }

    private protected abstract double FactorAt(long step);

    private sealed class ConstantSchedule : LearningRateSchedule
    {
        private protected override double FactorAt(long step) => 1.0;

        public override string ToString() => "constant";
    }

    private sealed class WarmupSchedule : LearningRateSchedule
    {
        private readonly int _steps;
        private readonly LearningRateSchedule _then;

        public WarmupSchedule(int steps, LearningRateSchedule then)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
            _steps = steps;
            _then = then;
        }

        public override int WarmupSteps => _steps;

        private protected override double FactorAt(long step) => step < _steps ? (step + 1) / (double)_steps : _then.FactorAt(step - _steps);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"linear warm-up over {_steps} steps, then {_then}");
    }

    private sealed class CosineSchedule : LearningRateSchedule
    {
        private readonly int _steps;
        private readonly double _final;

        public CosineSchedule(int steps, double finalFactor)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
            if (!(finalFactor >= 0.0 && finalFactor <= 1.0))
            {
                throw new ArgumentOutOfRangeException(nameof(finalFactor), finalFactor, "Must be in [0, 1].");
            }

            _steps = steps;
            _final = finalFactor;
        }

        private protected override double FactorAt(long step)
            => step >= _steps ? _final : _final + ((1.0 - _final) * 0.5 * (1.0 + Math.Cos(Math.PI * step / _steps)));

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"cosine decay to {_final:R} over {_steps} steps");
    }

    private sealed class StepSchedule : LearningRateSchedule
    {
        private readonly int _every;
        private readonly double _factor;

        public StepSchedule(int every, double factor)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(every);
            if (!(factor > 0.0 && factor <= 1.0))
            {
                throw new ArgumentOutOfRangeException(nameof(factor), factor, "Must be in (0, 1].");
            }

            _every = every;
            _factor = factor;
        }

        private protected override double FactorAt(long step) => Math.Pow(_factor, step / _every);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"x{_factor:R} every {_every} steps");
    }
}
