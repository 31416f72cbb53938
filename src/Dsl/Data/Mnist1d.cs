using System.Globalization;

namespace Dsl.Data;

/// <summary>
/// The knobs of the MNIST-1D generator (Greydanus 2020). The defaults give the reference data set.
/// </summary>
public sealed record Mnist1dOptions
{
    /// <summary>Total samples, an equal number per digit, so a multiple of 10.</summary>
    public int NumSamples { get; init; } = 5000;

    /// <summary>Fraction of the (shuffled) rows that form the training set, taken from the front.</summary>
    public double TrainSplit { get; init; } = 0.8;

    /// <summary>Fewest zeros appended to a template before dilation.</summary>
    public int PaddingMin { get; init; } = 36;

    /// <summary>Most zeros appended; template length + PaddingMax is the dilated length (72).</summary>
    public int PaddingMax { get; init; } = 60;

    /// <summary>Amplitude factors are drawn from 1 ± ScaleCoefficient / 2.</summary>
    public double ScaleCoefficient { get; init; } = 0.4;

    /// <summary>Circular shifts are drawn from [0, MaxTranslation).</summary>
    public int MaxTranslation { get; init; } = 48;

    /// <summary>Standard deviation of the smoothed noise that fills the padding.</summary>
    public double CorrelatedNoiseScale { get; init; } = 0.25;

    /// <summary>Standard deviation of the white noise added everywhere.</summary>
    public double IidNoiseScale { get; init; } = 0.02;

    /// <summary>Shear slopes are drawn from ± ShearScale / 2.</summary>
    public double ShearScale { get; init; } = 0.75;

    /// <summary>Length of each finished signal.</summary>
    public int FinalSequenceLength { get; init; } = 40;

    /// <summary>Seed of numpy's legacy RandomState.</summary>
    public uint Seed { get; init; } = 42;
}

/// <summary>
/// A generated MNIST-1D data set: <see cref="Count"/> signals of <see cref="Length"/> values,
/// standardised over all values together, shuffled, training rows first.
/// </summary>
public sealed class Mnist1dDataset
{
    internal Mnist1dDataset(double[] x, int[] labels, int length, int trainCount)
    {
        X = x;
        Labels = labels;
        Length = length;
        TrainCount = trainCount;

        int testCount = labels.Length - trainCount;
        TrainX = new float[trainCount * length];
        TestX = new float[testCount * length];
        for (int i = 0; i < TrainX.Length; i++)
        {
            TrainX[i] = (float)x[i];
        }
        for (int i = 0; i < TestX.Length; i++)
        {
            TestX[i] = (float)x[TrainX.Length + i];
        }
        TrainY = labels[..trainCount];
        TestY = labels[trainCount..];
    }

    /// <summary>(Count, Length) row-major, float64, standardised: mean 0, population std 1.</summary>
    public double[] X { get; }

    /// <summary>(Count) digits 0..9, aligned with the rows of <see cref="X"/>.</summary>
    public int[] Labels { get; }

    /// <summary>Number of rows (samples).</summary>
    public int Count => Labels.Length;

    /// <summary>Values per signal (40 by default).</summary>
    public int Length { get; }

    /// <summary>Rows 0..TrainCount-1 are the training set (4000 by default).</summary>
    public int TrainCount { get; }

    /// <summary>Rows TrainCount..Count-1 are the test set (1000 by default).</summary>
    public int TestCount => Count - TrainCount;

    /// <summary>(TrainCount, Length) row-major float32 copy of the training rows of <see cref="X"/>.</summary>
    public float[] TrainX { get; }

    /// <summary>(TestCount, Length) row-major float32 copy of the test rows of <see cref="X"/>.</summary>
    public float[] TestX { get; }

    /// <summary>(TrainCount) labels of the training rows.</summary>
    public int[] TrainY { get; }

    /// <summary>(TestCount) labels of the test rows.</summary>
    public int[] TestY { get; }
}

/// <summary>
/// The MNIST-1D data set (Greydanus, "Scaling down deep learning", 2020), generated exactly as the
/// reference implementation does with numpy's <c>RandomState</c>: every step in float64, every
/// random draw in the reference order, every sum in numpy's pairwise order. With the default
/// options the result equals the reference data set to the last bit.
/// </summary>
public static class Mnist1d
{
    /// <summary>Digits 0..9.</summary>
    public const int ClassCount = 10;

    /// <summary>Values per template.</summary>
    public const int TemplateLength = 12;

    // (10, 12): one hand-drawn stroke per digit, before normalisation.
    private static readonly double[] RawTemplates =
    [
        5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5,
        5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5,
        5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5,
        5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5,
        5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5,
        5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5,
        5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5,
        5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5,
        5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5,
        5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5,
    ];

    /// <summary>
    /// Generates the data set: 500 samples of digit 0, then of 1, ... 9 (for the default size),
    /// shuffled by <c>permutation(NumSamples)</c>, then standardised over all values together.
    /// </summary>
    public static Mnist1dDataset Generate(Mnist1dOptions? options = null)
    {
        options ??= new Mnist1dOptions();
        Validate(options);

        int count = options.NumSamples;
        int length = options.FinalSequenceLength;
        int perClass = count / ClassCount;
        double[] templates = NormalisedTemplates();
        var random = new RandomState(options.Seed);
        var synthesizer = new SampleSynthesizer(options, random);

        // (count, length), label-major: rows label*perClass .. (label+1)*perClass-1 are that digit.
        var ordered = new double[count * length];
        for (int label = 0; label < ClassCount; label++)
        {
            ReadOnlySpan<double> template = templates.AsSpan(label * TemplateLength, TemplateLength);
            for (int k = 0; k < perClass; k++)
            {
                int row = label * perClass + k;
                synthesizer.Synthesize(template, ordered.AsSpan(row * length, length));
            }
        }

        int[] permutation = random.Permutation(count);
        var x = new double[count * length];
        var labels = new int[count];
        for (int row = 0; row < count; row++)
        {
            int source = permutation[row];
            ordered.AsSpan(source * length, length).CopyTo(x.AsSpan(row * length, length));
            labels[row] = source / perClass;
        }

        Standardise(x);
        int trainCount = (int)(count * options.TrainSplit);
        return new Mnist1dDataset(x, labels, length, trainCount);
    }

    /// <summary>
    /// Writes <c>label,x0,...,x{Length-1}</c>, then one row <c>label,v0,...</c> per sample (training
    /// rows first), values in round-trip ("R") invariant format, '\n' line ends.
    /// </summary>
    public static void WriteCsv(Mnist1dDataset dataset, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(writer);

        writer.Write("label");
        for (int j = 0; j < dataset.Length; j++)
        {
            writer.Write(",x");
            writer.Write(j.ToString(CultureInfo.InvariantCulture));
        }
        writer.Write('\n');

        for (int row = 0; row < dataset.Count; row++)
        {
            writer.Write(dataset.Labels[row].ToString(CultureInfo.InvariantCulture));
            ReadOnlySpan<double> values = dataset.X.AsSpan(row * dataset.Length, dataset.Length);
            foreach (double value in values)
            {
                writer.Write(',');
                writer.Write(value.ToString("R", CultureInfo.InvariantCulture));
            }
            writer.Write('\n');
        }
    }

    /// <summary>
    /// (10, 12): each raw row minus its mean, over its population standard deviation, minus its new
    /// first value (so every stroke starts at 0), over 6.
    /// </summary>
    internal static double[] NormalisedTemplates()
    {
        var templates = (double[])RawTemplates.Clone();
        Span<double> squares = stackalloc double[TemplateLength];
        for (int label = 0; label < ClassCount; label++)
        {
            Span<double> row = templates.AsSpan(label * TemplateLength, TemplateLength);
            double mean = NumpySum(row) / TemplateLength;
            for (int i = 0; i < row.Length; i++)
            {
                row[i] -= mean;
            }
            // numpy's std recomputes the mean of the already centred row.
            double centredMean = NumpySum(row) / TemplateLength;
            for (int i = 0; i < row.Length; i++)
            {
                double deviation = row[i] - centredMean;
                squares[i] = deviation * deviation;
            }
            double std = Math.Sqrt(NumpySum(squares) / TemplateLength);
            for (int i = 0; i < row.Length; i++)
            {
                row[i] /= std;
            }
            double first = row[0];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] -= first;
            }
            for (int i = 0; i < row.Length; i++)
            {
                row[i] /= 6.0;
            }
        }
        return templates;
    }

    /// <summary>x = (x - mean) / std over all values, as numpy's <c>x.mean()</c> and <c>x.std()</c> compute them.</summary>
    private static void Standardise(double[] x)
    {
        double mean = NumpySum(x) / x.Length;
        var squares = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double deviation = x[i] - mean;
            squares[i] = deviation * deviation;
        }
        double std = Math.Sqrt(NumpySum(squares) / x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (x[i] - mean) / std;
        }
    }

    /// <summary>
    /// <c>np.sum</c> of a contiguous float64 array, in numpy's order: the buffered reduction hands
    /// the add loop blocks of 8192 values, summed one after the other; within a block, pairwise
    /// summation with eight accumulators at the leaves (up to 128 values).
    /// </summary>
    internal static double NumpySum(ReadOnlySpan<double> values)
    {
        const int BufferSize = 8192;
        double sum = 0.0;
        for (int start = 0; start < values.Length; start += BufferSize)
        {
            sum += PairwiseSum(values.Slice(start, Math.Min(BufferSize, values.Length - start)));
        }
        return sum;
    }

    private static double PairwiseSum(ReadOnlySpan<double> a)
    {
        int n = a.Length;
        if (n < 8)
        {
            double sum = 0.0;
            for (int i = 0; i < n; i++)
            {
                sum += a[i];
            }
            return sum;
        }
        if (n <= 128)
        {
            double r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7];
            int i = 8;
            for (; i < n - n % 8; i += 8)
            {
                r0 += a[i];
                r1 += a[i + 1];
                r2 += a[i + 2];
                r3 += a[i + 3];
                r4 += a[i + 4];
                r5 += a[i + 5];
                r6 += a[i + 6];
                r7 += a[i + 7];
            }
            double sum = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            for (; i < n; i++)
            {
                sum += a[i];
            }
            return sum;
        }
        // Split in two, the first half a multiple of the 8-way unroll.
        int half = n / 2;
        half -= half % 8;
        return PairwiseSum(a[..half]) + PairwiseSum(a[half..]);
    }

    /// <summary>
    /// <c>np.linspace(start, stop, count)</c>: i * ((stop - start) / (count - 1)) + start, the last
    /// value set to stop exactly.
    /// </summary>
    private static double[] Linspace(double start, double stop, int count)
    {
        var values = new double[count];
        if (count == 1)
        {
            values[0] = start;
            return values;
        }
        double step = (stop - start) / (count - 1);
        for (int i = 0; i < count; i++)
        {
            values[i] = i * step + start;
        }
        values[count - 1] = stop;
        return values;
    }

    /// <summary>
    /// <c>np.interp(x, xp, fp)</c> for increasing <paramref name="xp"/>: with xp[j] &lt;= x &lt; xp[j+1],
    /// slope (fp[j+1] - fp[j]) / (xp[j+1] - xp[j]), value slope (x - xp[j]) + fp[j]; a knot hit
    /// exactly returns its fp; outside the knots, the end values. Requires increasing x.
    /// </summary>
    private static void Interp(ReadOnlySpan<double> x, ReadOnlySpan<double> xp, ReadOnlySpan<double> fp, Span<double> result)
    {
        int last = xp.Length - 1;
        int j = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double value = x[i];
            if (value < xp[0])
            {
                result[i] = fp[0];
                continue;
            }
            if (value >= xp[last])
            {
                result[i] = fp[last];
                continue;
            }
            while (xp[j + 1] <= value)
            {
                j++;
            }
            if (xp[j] == value)
            {
                result[i] = fp[j];
                continue;
            }
            double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
            result[i] = slope * (value - xp[j]) + fp[j];
        }
    }

    private static void Validate(Mnist1dOptions o)
    {
        if (o.NumSamples <= 0 || o.NumSamples % ClassCount != 0)
        {
            throw new ArgumentException($"NumSamples must be a positive multiple of {ClassCount}; got {o.NumSamples}.", nameof(o));
        }
        if (!(o.TrainSplit >= 0.0 && o.TrainSplit <= 1.0))
        {
            throw new ArgumentException($"TrainSplit must lie in [0, 1]; got {o.TrainSplit}.", nameof(o));
        }
        if (o.PaddingMin < 0 || o.PaddingMax < o.PaddingMin)
        {
            throw new ArgumentException($"Padding must satisfy 0 <= PaddingMin <= PaddingMax; got [{o.PaddingMin}, {o.PaddingMax}].", nameof(o));
        }
        int dilatedLength = TemplateLength + o.PaddingMax;
        if (o.MaxTranslation < 1 || o.MaxTranslation > dilatedLength)
        {
            throw new ArgumentException($"MaxTranslation must lie in [1, {dilatedLength}] (template length + PaddingMax); got {o.MaxTranslation}.", nameof(o));
        }
        if (o.FinalSequenceLength < 1)
        {
            throw new ArgumentException($"FinalSequenceLength must be at least 1; got {o.FinalSequenceLength}.", nameof(o));
        }
    }

    /// <summary>
    /// Turns one template into one signal, drawing from the shared <see cref="RandomState"/> in the
    /// reference order. Holds the fixed grids, the Gaussian kernel and scratch buffers, so a sample
    /// allocates nothing.
    /// </summary>
    private sealed class SampleSynthesizer
    {
        private const int FilterRadius = 8;

        private readonly Mnist1dOptions _options;
        private readonly RandomState _random;
        private readonly int _dilatedLength;

        private readonly double[] _dilatedGrid;    // (72) linspace(0, 1, 72)
        private readonly double[] _finalGrid;      // (40) linspace(0, 1, 40)
        private readonly double[] _shearRamp;      // (72) linspace(-0.5, 0.5, 72)
        private readonly double[][] _paddedGrids;  // [p - PaddingMin] = linspace(0, 1, 12 + p)
        private readonly double[] _kernel;         // (9) normalised weights for offsets 0..8

        private readonly double[] _padded;         // (12 + PaddingMax) template + 1e-8, then zeros
        private readonly double[] _dilated;        // (72)
        private readonly double[] _signal;         // (72) after translation, noise and shear
        private readonly double[] _noise;          // (72 + 2*8) correlated noise with reflected borders

        public SampleSynthesizer(Mnist1dOptions options, RandomState random)
        {
            _options = options;
            _random = random;
            _dilatedLength = TemplateLength + options.PaddingMax;

            _dilatedGrid = Linspace(0.0, 1.0, _dilatedLength);
            _finalGrid = Linspace(0.0, 1.0, options.FinalSequenceLength);
            _shearRamp = Linspace(-0.5, 0.5, _dilatedLength);
            _paddedGrids = new double[options.PaddingMax - options.PaddingMin + 1][];
            for (int p = options.PaddingMin; p <= options.PaddingMax; p++)
            {
                _paddedGrids[p - options.PaddingMin] = Linspace(0.0, 1.0, TemplateLength + p);
            }
            _kernel = GaussianKernel();

            _padded = new double[_dilatedLength];
            _dilated = new double[_dilatedLength];
            _signal = new double[_dilatedLength];
            _noise = new double[_dilatedLength + 2 * FilterRadius];
        }

        /// <summary>(FinalSequenceLength) output from a (12) template.</summary>
        public void Synthesize(ReadOnlySpan<double> template, Span<double> output)
        {
            Mnist1dOptions o = _options;
            int n = _dilatedLength;

            // 1. Pad: template + 1e-8, then p zeros, p uniform in [PaddingMin, PaddingMax].
            int p = o.PaddingMin + (int)Math.Floor(_random.Rand() * (o.PaddingMax - o.PaddingMin + 1));
            int paddedLength = TemplateLength + p;
            Span<double> padded = _padded.AsSpan(0, paddedLength);
            for (int i = 0; i < TemplateLength; i++)
            {
                padded[i] = template[i] + 1e-8;
            }
            padded[TemplateLength..].Clear();

            // 2. Dilate to n points.
            Interp(_dilatedGrid, _paddedGrids[p - o.PaddingMin], padded, _dilated);

            // 3. Scale.
            double scale = 1 + o.ScaleCoefficient * (_random.Rand() - 0.5);
            for (int i = 0; i < n; i++)
            {
                _dilated[i] *= scale;
            }

            // 4. Translate: roll right by k, signal[(i + k) mod n] = dilated[i].
            int k = _random.Choice(o.MaxTranslation);
            _dilated.AsSpan(n - k).CopyTo(_signal);
            _dilated.AsSpan(0, n - k).CopyTo(_signal.AsSpan(k));

            // 5. Correlated noise replaces the exact zeros (the padding); all n draws always happen.
            Span<double> noise = _noise.AsSpan(FilterRadius, n);
            for (int i = 0; i < n; i++)
            {
                noise[i] = o.CorrelatedNoiseScale * _random.Randn();
            }
            ReflectBorders();
            for (int i = 0; i < n; i++)
            {
                if (_signal[i] == 0.0)
                {
                    _signal[i] = SmoothedNoiseAt(i);
                }
            }

            // 6. White noise, n fresh draws.
            for (int i = 0; i < n; i++)
            {
                _signal[i] += o.IidNoiseScale * _random.Randn();
            }

            // 7. Shear.
            double shear = o.ShearScale * (_random.Rand() - 0.5);
            for (int i = 0; i < n; i++)
            {
                _signal[i] -= shear * _shearRamp[i];
            }

            // 8. Subsample to the final length.
            Interp(_finalGrid, _dilatedGrid, _signal, output);
        }

        /// <summary>scipy 'reflect' borders around the n noise values: d c b a | a b c d | d c b a.</summary>
        private void ReflectBorders()
        {
            int n = _dilatedLength;
            for (int i = 0; i < FilterRadius; i++)
            {
                _noise[FilterRadius - 1 - i] = _noise[FilterRadius + i];
                _noise[FilterRadius + n + i] = _noise[FilterRadius + n - 1 - i];
            }
        }

        /// <summary>
        /// Gaussian-smoothed noise at i, in scipy's order for a symmetric kernel:
        /// w0 x[i], then + (x[i-k] + x[i+k]) wk for k = 8 down to 1.
        /// </summary>
        private double SmoothedNoiseAt(int i)
        {
            int centre = i + FilterRadius;
            double sum = _noise[centre] * _kernel[0];
            for (int k = FilterRadius; k >= 1; k--)
            {
                sum += (_noise[centre - k] + _noise[centre + k]) * _kernel[k];
            }
            return sum;
        }

        /// <summary>
        /// (9) weights for offsets 0..8 of the sigma-2 Gaussian: exp(-0.5 (i/2)^2) for i = -8..8,
        /// divided by their (numpy) sum.
        /// </summary>
        private static double[] GaussianKernel()
        {
            Span<double> full = stackalloc double[2 * FilterRadius + 1];
            for (int i = -FilterRadius; i <= FilterRadius; i++)
            {
                double half = i / 2.0;
                full[i + FilterRadius] = Math.Exp(-0.5 * (half * half));
            }
            double total = NumpySum(full);
            var weights = new double[FilterRadius + 1];
            for (int k = 0; k <= FilterRadius; k++)
            {
                weights[k] = full[FilterRadius + k] / total;
            }
            return weights;
        }
    }
}
