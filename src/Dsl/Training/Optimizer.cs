using System.Globalization;

namespace Dsl.Training;

/// <summary>
/// A first-order optimizer over one contiguous parameter buffer. <see cref="Step"/> checks its
/// arguments, binds the optimizer's state (momentum, first and second moments) to the buffer's length on
/// the first call, counts the step and hands the update to the subclass, which applies it in one fused pass.
/// </summary>
public abstract class Optimizer
{
    private float _learningRate;

    // Length of the buffer the state was sized for; -1 while unbound.
    private int _boundLength = -1;

    /// <summary>Creates the optimizer with the given learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative, NaN or infinite.</exception>
    protected Optimizer(float learningRate)
    {
        LearningRate = learningRate;
    }

    /// <summary>Step size; finite and non-negative. May be changed between steps (a schedule).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN or infinite; the rate is left unchanged.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            RequireFiniteNonNegative(value, nameof(LearningRate));
            _learningRate = value;
        }
    }

    /// <summary>Number of updates applied since construction or the last <see cref="Reset"/>.</summary>
    public long StepCount { get; private set; }

    /// <summary>
    /// Applies one update to <paramref name="parameters"/> from <paramref name="gradients"/> of the same length.
    /// The first call sizes the optimizer's state for that length; later calls must pass the same length.
    /// Everything is checked before anything changes.
    /// </summary>
    /// <param name="parameters">All parameters, updated in place: (parameterCount).</param>
    /// <param name="gradients">d loss / d parameters, laid out as <paramref name="parameters"/>: (parameterCount).</param>
    /// <exception cref="ArgumentException">The two lengths differ.</exception>
    /// <exception cref="InvalidOperationException">The state is bound to another length.</exception>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        if (gradients.Length != parameters.Length)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Expected one gradient per parameter ({parameters.Length}), got {gradients.Length}."),
                nameof(gradients));
        }

        if (_boundLength >= 0 && _boundLength != parameters.Length)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"This {GetType().Name} holds state for {_boundLength} parameters and cannot step a buffer of {parameters.Length}; call Reset() to rebind it or use one optimizer per buffer."));
        }

        if (_boundLength < 0)
        {
            AllocateState(parameters.Length);
            _boundLength = parameters.Length;
        }

        StepCount++;
        Update(parameters, gradients);
    }

    /// <summary>
    /// Throws unless <see cref="Step"/> would accept a buffer of <paramref name="parameterCount"/>
    /// parameters. Generated training steps call it before their forward pass, so an optimizer bound
    /// to another network is refused before anything changes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The state is bound to another length.</exception>
    public void CheckCompatible(int parameterCount)
    {
        if (_boundLength >= 0 && _boundLength != parameterCount)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"This {GetType().Name} holds state for {_boundLength} parameters and cannot step a buffer of {parameterCount}; call Reset() to rebind it or use one optimizer per buffer."));
        }
    }

    /// <summary>Forgets the state (momentum, moments, step count) so the next <see cref="Step"/> starts afresh with any length.</summary>
    public void Reset()
    {
        _boundLength = -1;
        StepCount = 0;
        ReleaseState();
    }

    /// <summary>Sizes the state for a buffer of <paramref name="length"/> parameters, all zero. Called once, before the first update.</summary>
    protected abstract void AllocateState(int length);

    /// <summary>Drops the state allocated by <see cref="AllocateState"/>.</summary>
    protected abstract void ReleaseState();

    /// <summary>
    /// Applies update number <see cref="StepCount"/> (already counted, starting at 1). The arguments are
    /// checked: equal lengths, matching the state's.
    /// </summary>
    protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients);

    /// <summary>Throws unless <paramref name="value"/> is finite and non-negative.</summary>
    private protected static void RequireFiniteNonNegative(float value, string parameterName)
    {
        if (!(value >= 0f) || float.IsPositiveInfinity(value))
        {
            throw new ArgumentOutOfRangeException(parameterName, value, "Must be finite and non-negative.");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is in [0, 1).</summary>
    private protected static void RequireUnitInterval(float value, string parameterName)
    {
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentOutOfRangeException(parameterName, value, "Must be in [0, 1).");
        }
    }
}
