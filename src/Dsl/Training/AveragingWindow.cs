namespace Dsl.Training;

/// <summary>
/// Which steps of a run of <see cref="TotalSteps"/> steps feed a <see cref="ParameterAverage"/>: every
/// <see cref="Every"/>-th step counted back from the last, within the last <see cref="LastSteps"/> steps. Counting
/// back from the last step puts the final weights in the average whatever the step count, and spacing the
/// snapshots makes them differ.
/// </summary>
/// <example>
/// <c>new AveragingWindow(8000, 2000, 10)</c> holds steps 6010, 6020, ..., 8000: 200 snapshots.
/// </example>
public readonly record struct AveragingWindow
{
    /// <summary>Creates the window; steps count from 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="totalSteps"/> or <paramref name="every"/> is not positive, or <paramref name="lastSteps"/> is
    /// outside [0, totalSteps] (0: no step is averaged).
    /// </exception>
    public AveragingWindow(int totalSteps, int lastSteps, int every)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(every);
        if (lastSteps < 0 || lastSteps > totalSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(lastSteps), lastSteps,
                $"The averaged steps must be between 0 and the run's {totalSteps} steps.");
        }

        TotalSteps = totalSteps;
        LastSteps = lastSteps;
        Every = every;
    }

    /// <summary>Steps in the run; the last one is step TotalSteps.</summary>
    public int TotalSteps { get; }

    /// <summary>How many of the last steps the window spans; 0 for none.</summary>
    public int LastSteps { get; }

    /// <summary>Steps between two snapshots.</summary>
    public int Every { get; }

    /// <summary>Snapshots the window takes: ceil(LastSteps / Every).</summary>
    public int SnapshotCount => LastSteps == 0 ? 0 : (LastSteps - 1) / Every + 1;

    /// <summary>Whether the weights after <paramref name="step"/> (from 1) join the average.</summary>
    public bool Contains(int step)
        => step > TotalSteps - LastSteps && step <= TotalSteps && (TotalSteps - step) % Every == 0;
}
