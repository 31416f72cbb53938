namespace Dsl.Data;

/// <summary>How a <see cref="Batcher"/> picks the rows of each mini-batch.</summary>
public enum BatchSampling
{
    /// <summary>
    /// Every row of every batch uniform over all rows, with replacement, as the MNIST-1D reference
    /// training loop does with <c>torch.randint(0, n, (batch,))</c>.
    /// </summary>
    WithReplacement,

    /// <summary>
    /// Rows in the order of a seeded Fisher-Yates shuffle, without replacement; when the shuffle
    /// runs out it is reshuffled, so each run of n consecutive draws from an epoch boundary visits
    /// every row once (a batch may straddle two epochs).
    /// </summary>
    EpochShuffle,

    /// <summary>
    /// Rows in data order, wrapping around at the end: batch k holds rows kB, kB + 1, ... (mod n). The MNIST-1D
    /// paper's own training loop does this (<c>bix = (step * batch_size) % len(x_train)</c>); the seed then only
    /// affects the initialisation.
    /// </summary>
    Sequential,
}

/// <summary>
/// Draws mini-batches of (row, label) pairs into buffers the caller owns, seeded-random or in data order
/// (<see cref="BatchSampling"/>); no allocation per batch. The same data, batch size, seed and sampling give
/// the same batches.
/// </summary>
public sealed class Batcher
{
    private readonly float[] _features;   // (Count, FeatureCount) row-major
    private readonly int[] _labels;       // (Count)
    private readonly SplitMix64 _random;
    private readonly int[]? _order;       // EpochShuffle only: (Count) the current epoch's row order
    private int _cursor;                  // EpochShuffle: next position in _order; Sequential: next row

    public Batcher(float[] features, int[] labels, int featureCount, int batchSize, ulong seed,
        BatchSampling sampling = BatchSampling.WithReplacement)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length == 0)
        {
            throw new ArgumentException("Expected at least one labelled row; got 0 labels.", nameof(labels));
        }
        if (featureCount <= 0)
        {
            throw new ArgumentException($"Expected a positive feature count; got {featureCount}.", nameof(featureCount));
        }
        if (features.Length != (long)labels.Length * featureCount)
        {
            throw new ArgumentException(
                $"Expected {labels.Length} rows x {featureCount} features = {(long)labels.Length * featureCount} values; got {features.Length}.",
                nameof(features));
        }
        if (batchSize <= 0)
        {
            throw new ArgumentException($"Expected a positive batch size; got {batchSize}.", nameof(batchSize));
        }
        if (!Enum.IsDefined(sampling))
        {
            throw new ArgumentException($"Expected a BatchSampling value; got {(int)sampling}.", nameof(sampling));
        }

        _features = features;
        _labels = labels;
        FeatureCount = featureCount;
        BatchSize = batchSize;
        Sampling = sampling;
        _random = new SplitMix64(seed);
        if (sampling == BatchSampling.EpochShuffle)
        {
            _order = new int[labels.Length];
            for (int i = 0; i < _order.Length; i++)
            {
                _order[i] = i;
            }
            Shuffle(_order);
        }
    }

    /// <summary>Rows available to draw from.</summary>
    public int Count => _labels.Length;

    /// <summary>Values per row.</summary>
    public int FeatureCount { get; }

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; }

    public BatchSampling Sampling { get; }

    /// <summary>EpochShuffle: how many times the row order has been exhausted and reshuffled.</summary>
    public int Epoch { get; private set; }

    /// <summary>
    /// Fills <paramref name="xBatch"/> (BatchSize, FeatureCount) row-major and
    /// <paramref name="yBatch"/> (BatchSize) with the next batch; yBatch[b] is the label of row b.
    /// </summary>
    public void Next(Span<float> xBatch, Span<int> yBatch)
    {
        if (xBatch.Length != BatchSize * FeatureCount)
        {
            throw new ArgumentException(
                $"Expected xBatch of {BatchSize} rows x {FeatureCount} features = {BatchSize * FeatureCount} values; got {xBatch.Length}.",
                nameof(xBatch));
        }
        if (yBatch.Length != BatchSize)
        {
            throw new ArgumentException($"Expected yBatch of {BatchSize} labels; got {yBatch.Length}.", nameof(yBatch));
        }

        for (int b = 0; b < BatchSize; b++)
        {
            int row = NextRow();
            _features.AsSpan(row * FeatureCount, FeatureCount).CopyTo(xBatch.Slice(b * FeatureCount, FeatureCount));
            yBatch[b] = _labels[row];
        }
    }

    private int NextRow()
    {
        if (Sampling == BatchSampling.Sequential)
        {
            int row = _cursor;
            _cursor = _cursor + 1 == Count ? 0 : _cursor + 1;
            return row;
        }

        if (_order is null)
        {
            return _random.NextInt(Count);
        }
        if (_cursor == _order.Length)
        {
            Shuffle(_order);
            _cursor = 0;
            Epoch++;
        }
        return _order[_cursor++];
    }

    /// <summary>Fisher-Yates in place: for i = n-1 down to 1, swap a[i] with a[j], j uniform in [0, i].</summary>
    private void Shuffle(int[] order)
    {
        for (int i = order.Length - 1; i >= 1; i--)
        {
            int j = _random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
