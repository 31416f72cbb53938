namespace Dsl.Training;

/// <summary>
/// The running mean of snapshots of one parameter buffer: Polyak-Ruppert averaging, or stochastic weight
/// averaging (Izmailov et al. 2018) when the snapshots are taken along the tail of one training run. The
/// optimizer's steps are not changed; the mean is a model of its own, copied into a network with
/// <see cref="CopyMeanTo(INetwork)"/> to be evaluated, saved or shipped.
/// </summary>
/// <remarks>
/// The sums are kept in float64, so the mean of many snapshots loses nothing to the order they came in; the
/// mean is rounded to float32 once, when it is copied out. Every method checks its arguments before it changes
/// anything: a rejected call leaves the snapshots and the destination as they were.
/// </remarks>
public sealed class ParameterAverage
{
    private readonly double[] _sum; // (Length) the sum of the snapshots taken since construction or Reset
    private float[]? _scratch;      // (Length) a network's parameters on their way into the sum

    /// <summary>Creates an empty average over buffers of <paramref name="length"/> parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not positive.</exception>
    public ParameterAverage(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _sum = new double[length];
    }

    /// <summary>Creates an empty average over the parameters of <paramref name="network"/>.</summary>
    public ParameterAverage(INetwork network)
        : this((network ?? throw new ArgumentNullException(nameof(network))).ParameterCount)
    {
    }

    /// <summary>Parameters per snapshot.</summary>
    public int Length => _sum.Length;

    /// <summary>Snapshots taken since construction or the last <see cref="Reset"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Adds one snapshot of <paramref name="parameters"/> (length <see cref="Length"/>).</summary>
    /// <exception cref="ShapeMismatchException">The length is not <see cref="Length"/>.</exception>
    /// <exception cref="ArgumentException">A value is NaN or infinite (a diverged run; nothing was added).</exception>
    public void Add(ReadOnlySpan<float> parameters)
    {
        RequireLength(parameters.Length, "parameters");
        int bad = IndexOfNonFinite(parameters);
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"Parameter {bad} of the snapshot is {parameters[bad]}; an average of a diverged run would be meaningless, so nothing was added.",
                nameof(parameters));
        }

        double[] sum = _sum;
        for (int i = 0; i < sum.Length; i++)
        {
            sum[i] += parameters[i];
        }

        Count++;
    }

    /// <summary>
    /// Adds one snapshot of the network's parameters. On a GPU this downloads them (when the device holds newer
    /// ones) through <see cref="INetwork.CopyParametersTo"/>, so the next training step does not upload them again.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The network's parameter count is not <see cref="Length"/>.</exception>
    /// <exception cref="ArgumentException">A parameter is NaN or infinite (a diverged run; nothing was added).</exception>
    public void Add(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        RequireLength(network.ParameterCount, "network.Parameters");
        _scratch ??= new float[_sum.Length];
        network.CopyParametersTo(_scratch);
        Add(_scratch);
    }

    /// <summary>Writes the mean of the snapshots, rounded to float32, into <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidOperationException">No snapshot was taken yet.</exception>
    /// <exception cref="ShapeMismatchException">The length is not <see cref="Length"/>.</exception>
    public void CopyMeanTo(Span<float> destination)
    {
        RequireLength(destination.Length, "destination");
        RequireSnapshot();

        double scale = 1.0 / Count;
        double[] sum = _sum;
        for (int i = 0; i < sum.Length; i++)
        {
            destination[i] = (float)(sum[i] * scale);
        }
    }

    /// <summary>Replaces the network's parameters with the mean of the snapshots (on a GPU, they reach the device before its next use).</summary>
    /// <exception cref="InvalidOperationException">No snapshot was taken yet.</exception>
    /// <exception cref="ShapeMismatchException">The network's parameter count is not <see cref="Length"/>.</exception>
    public void CopyMeanTo(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        // Checked here as well as in CopyMeanTo(Span): reading network.Parameters on a GPU downloads them and marks the
        // device copy stale, which a rejected call should not cost.
        RequireLength(network.ParameterCount, "network.Parameters");
        RequireSnapshot();
        CopyMeanTo(network.Parameters);
    }

    /// <summary>Forgets every snapshot.</summary>
    public void Reset()
    {
        Array.Clear(_sum);
        Count = 0;
    }

    private void RequireLength(int actual, string what)
    {
        if (actual != _sum.Length)
        {
            throw new ShapeMismatchException(what, $"{_sum.Length} floats (one value per parameter)", $"{actual} floats");
        }
    }

    private void RequireSnapshot()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("The average has no snapshot yet: call Add at least once before CopyMeanTo.");
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
