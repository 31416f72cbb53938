using Dsl.Ops;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Ops;

/// <summary>
/// BatchNorm (PyTorch BatchNorm1d on (rows, features)) against a float64 reference on odd shapes: the training and the
/// evaluation forward, the backward against the reference's analytic gradient and against central differences of the
/// training forward (L = sum of dy * y), the running statistics against their formula, and the argument checks.
/// Features 256 / 300 and 1024 / 1031 sit on both sides of the backward's (256) and the forward's (1024) switch from
/// stack to heap buffers.
/// </summary>
public sealed class BatchNormTests(ITestOutputHelper output)
{
    private static readonly int[] RowCounts = [2, 3, 17, 101];
    private static readonly int[] FeatureCounts = [1, 7, 33, 256, 300, 1024, 1031];

    public static TheoryData<int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (int rows in RowCounts)
        {
            foreach (int features in FeatureCounts)
            {
                data.Add(rows, features, true);
                data.Add(rows, features, false);
            }
        }

        return data;
    }

    public static TheoryData<int, int, bool, bool> BackwardShapes()
    {
        var data = new TheoryData<int, int, bool, bool>();
        foreach (int rows in RowCounts)
        {
            foreach (int features in FeatureCounts)
            {
                foreach (bool affine in new[] { true, false })
                {
                    data.Add(rows, features, affine, false);
                    data.Add(rows, features, affine, true);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Training_forward_matches_the_float64_reference(int rows, int features, bool affine)
    {
        Problem p = Problem.Draw(rows, features, affine, seed: (rows * 1000) + features);
        var y = new float[rows * features];
        float[] mean = Filled(features, float.NaN), variance = Filled(features, float.NaN), rstd = Filled(features, float.NaN);
        BatchNorm.ForwardTraining(y, mean, variance, rstd, p.X, p.Gain, p.Bias, rows, features, BatchNorm.DefaultEpsilon);

        var reference = BatchNormReference.Training(TestData.Widen(p.X), Widen(p.Gain), Widen(p.Bias), rows, features, BatchNorm.DefaultEpsilon);
        for (int f = 0; f < features; f++)
        {
            Assert.Equal(reference.Mean[f], mean[f], 1e-6 * (1 + Math.Abs(reference.Mean[f])));
            Assert.Equal(reference.Variance[f], variance[f], 2e-6 * reference.Variance[f]);
            Assert.Equal(1 / Math.Sqrt(reference.Variance[f] + BatchNorm.DefaultEpsilon), rstd[f], 2e-6 * rstd[f]);
        }

        double[] shift = Conditioning.XhatShift(reference.Mean, reference.Variance);
        double worstForward = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double tolerance = (2e-5 * (1 + Math.Abs(reference.Y[i]))) + (2 * Math.Abs(p.Gain?[i % features] ?? 1) * shift[i % features]);
            Assert.True(Math.Abs(reference.Y[i] - y[i]) <= tolerance, $"y[{i}] = {y[i]}, float64 reference {reference.Y[i]} (tolerance {tolerance:E2})");
            worstForward = Math.Max(worstForward, Math.Abs(reference.Y[i] - y[i]) / (1 + Math.Abs(reference.Y[i])));
        }

        output.WriteLine($"{rows} x {features} affine {affine} y: max error {worstForward:E2} relative to 1 + |y|");

        // Each feature is normalised: mean 0 and biased variance var / (var + eps) before the affine map.
        if (!affine && rows > 2)
        {
            double[] wide = TestData.Widen(y);
            var check = BatchNormReference.Training(wide, null, null, rows, features, 0);
            Assert.All(check.Mean, m => Assert.True(Math.Abs(m) < 1e-5, $"normalised mean {m}"));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Evaluation_forward_matches_the_float64_reference(int rows, int features, bool affine)
    {
        Problem p = Problem.Draw(rows, features, affine, seed: (rows * 31) + features);
        var random = new Random(features + rows);
        float[] runningMean = TestData.Uniform(random, features, -2, 2);
        float[] runningVariance = TestData.Uniform(random, features, 0.1, 4);
        var y = new float[rows * features];
        float[] scratch = Filled(2 * features, float.NaN);
        BatchNorm.ForwardEvaluation(y, p.X, runningMean, runningVariance, p.Gain, p.Bias, scratch, rows, features, BatchNorm.DefaultEpsilon);

        double[] expected = BatchNormReference.Evaluation(
            TestData.Widen(p.X), TestData.Widen(runningMean), TestData.Widen(runningVariance), Widen(p.Gain), Widen(p.Bias), rows, features, BatchNorm.DefaultEpsilon);
        for (int i = 0; i < y.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - y[i]) <= 2e-5 * (1 + Math.Abs(expected[i])), $"y[{i}] = {y[i]}, float64 reference {expected[i]}");
        }

        // Evaluation works on any number of rows, one included, and each row alone gives the same values as in the batch.
        var single = new float[features];
        BatchNorm.ForwardEvaluation(single, p.X.AsSpan((rows - 1) * features, features), runningMean, runningVariance, p.Gain, p.Bias, scratch, 1, features, BatchNorm.DefaultEpsilon);
        Assert.Equal(y.AsSpan((rows - 1) * features, features).ToArray(), single);
    }

    [Theory]
    [MemberData(nameof(BackwardShapes))]
    public void Backward_matches_the_float64_reference_gradient(int rows, int features, bool affine, bool accumulate)
    {
        Problem p = Problem.Draw(rows, features, affine, seed: (rows * 77) + features);
        (float[] dx, float[] dGain, float[] dBias, float[] existing) = RunBackward(p, accumulate, existingSeed: rows + features);

        (double[] refDx, double[] refDGain, double[] refDBias) = BatchNormReference.Backward(
            TestData.Widen(p.X), TestData.Widen(p.Dy), Widen(p.Gain), rows, features, BatchNorm.DefaultEpsilon);
        var conditioning = new Conditioning(p, BatchNorm.DefaultEpsilon);
        double[] scale = Conditioning.FeatureScales(refDx, p.Rows, p.Features);
        double worstBackward = 0;
        for (int i = 0; i < dx.Length; i++)
        {
            double expected = refDx[i] + (accumulate ? existing[i] : 0);
            double tolerance = (2e-5 * scale[i % features]) + conditioning.Dx[i % features];
            Assert.True(Math.Abs(expected - dx[i]) <= tolerance, $"dx[{i}] = {dx[i]}, float64 reference {expected} (tolerance {tolerance:E2})");
            worstBackward = Math.Max(worstBackward, Math.Abs(expected - dx[i]) / scale[i % features]);
        }

        output.WriteLine($"{rows} x {features} affine {affine} dx vs reference: max error {worstBackward:E2} relative to each feature's scale");
        Assert.Equal(affine ? features : 0, dGain.Length);
        for (int f = 0; f < dGain.Length; f++)
        {
            // Overwritten (they started as NaN), whatever accumulate says: parameter gradients are written once per step.
            Assert.Equal(refDGain[f], dGain[f], (2e-5 * (1 + Math.Abs(refDGain[f]))) + conditioning.DGain[f]);
            Assert.Equal(refDBias[f], dBias[f], 2e-5 * (1 + Math.Abs(refDBias[f])));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_matches_central_differences_of_the_float64_training_forward(int rows, int features, bool affine)
    {
        Problem p = Problem.Draw(rows, features, affine, seed: (rows * 13) + features + 1);
        (float[] dx, float[] dGain, float[] dBias, _) = RunBackward(p, accumulate: false, existingSeed: 0);

        // L = sum of dy * y is a sum over features of terms that each read one column of x and one gain and bias:
        // d L / d x[r, f] is d L_f / d x[r, f], so each central difference re-evaluates only its column, in float64.
        double[] x = TestData.Widen(p.X), dy = TestData.Widen(p.Dy);
        double[]? gain = Widen(p.Gain), bias = Widen(p.Bias);
        const double H = 1e-5;
        double largest = 0;
        var numeric = new double[dx.Length];
        var conditioning = new Conditioning(p, BatchNorm.DefaultEpsilon);
        double worstDifference = 0;
        for (int f = 0; f < features; f++)
        {
            double[] column = Column(x, rows, features, f), dyColumn = Column(dy, rows, features, f);
            double[]? g = affine ? [gain![f]] : null, b = affine ? [bias![f]] : null;
            double Loss(double[] c, double[]? gg, double[]? bb) => NormalizationReference.Dot(dyColumn, BatchNormReference.Training(c, gg, bb, rows, 1, BatchNorm.DefaultEpsilon).Y);
            for (int r = 0; r < rows; r++)
            {
                numeric[(r * features) + f] = Float64Reference.CentralDifference(column, r, H, c => Loss(c, g, b));
                largest = Math.Max(largest, Math.Abs(numeric[(r * features) + f]));
            }

            if (affine)
            {
                double expectedGain = Float64Reference.CentralDifference(g!, 0, H, gg => Loss(column, gg, b));
                double expectedBias = Float64Reference.CentralDifference(b!, 0, H, bb => Loss(column, g, bb));
                Assert.True(Math.Abs(expectedGain - dGain[f]) <= (1e-4 * (1 + Math.Abs(expectedGain))) + conditioning.DGain[f], $"dGain[{f}] = {dGain[f]}, central differences {expectedGain}");
                Assert.True(Math.Abs(expectedBias - dBias[f]) <= 1e-4 * (1 + Math.Abs(expectedBias)), $"dBias[{f}] = {dBias[f]}, central differences {expectedBias}");
            }
        }

        // With 2 rows every xhat is +-1 (up to epsilon) and dx is ~0: the check is then that it stays ~0.
        Assert.True(rows == 2 || largest > 1e-2, $"the input gradients are all ~0 ({largest}); the check would be vacuous");
        for (int i = 0; i < dx.Length; i++)
        {
            double tolerance = (1e-4 * (1 + Math.Abs(numeric[i]))) + conditioning.Dx[i % features];
            Assert.True(Math.Abs(numeric[i] - dx[i]) <= tolerance, $"dx[{i}] = {dx[i]}, central differences {numeric[i]} (tolerance {tolerance:E2})");
            worstDifference = Math.Max(worstDifference, Math.Abs(numeric[i] - dx[i]) / (1 + Math.Abs(numeric[i])));
        }

        output.WriteLine($"{rows} x {features} affine {affine} dx vs differences: max error {worstDifference:E2} relative to 1 + |central difference|");
    }

    [Fact]
    public void Backward_adds_to_the_input_gradient_when_asked_and_overwrites_otherwise()
    {
        foreach (int features in new[] { 9, 300, 1031 })
        {
            Problem p = Problem.Draw(5, features, affine: true, seed: features);
            (float[] fresh, float[] dGainFresh, float[] dBiasFresh, _) = RunBackward(p, accumulate: false, existingSeed: 1);
            (float[] accumulated, float[] dGain, float[] dBias, float[] existing) = RunBackward(p, accumulate: true, existingSeed: 2);
            for (int i = 0; i < fresh.Length; i++)
            {
                Assert.Equal(existing[i] + fresh[i], accumulated[i], 1e-6);
            }

            Assert.Equal(dGainFresh, dGain);
            Assert.Equal(dBiasFresh, dBias);
            (float[] overwritten, _, _, _) = RunBackward(p, accumulate: false, existingSeed: 3);
            Assert.Equal(fresh, overwritten);
        }
    }

    [Theory]
    [InlineData(2, 7, 0.1f)]
    [InlineData(3, 1, 0.3f)]
    [InlineData(17, 300, 0.1f)]
    [InlineData(101, 1031, 0.01f)]
    [InlineData(17, 33, 0f)]
    [InlineData(17, 33, 1f)]
    public void Running_statistics_move_towards_the_batch_with_the_unbiased_variance(int rows, int features, float momentum)
    {
        Problem p = Problem.Draw(rows, features, affine: false, seed: rows + features);
        var y = new float[rows * features];
        float[] mean = new float[features], variance = new float[features], rstd = new float[features];
        BatchNorm.ForwardTraining(y, mean, variance, rstd, p.X, default, default, rows, features, BatchNorm.DefaultEpsilon);

        var random = new Random(rows);
        float[] runningMean = TestData.Uniform(random, features, -1, 1);
        float[] runningVariance = TestData.Uniform(random, features, 0.5, 2);
        float[] meanBefore = (float[])runningMean.Clone(), varianceBefore = (float[])runningVariance.Clone();
        BatchNorm.UpdateRunningStatistics(runningMean, runningVariance, mean, variance, rows, features, momentum);

        var reference = BatchNormReference.Training(TestData.Widen(p.X), null, null, rows, features, BatchNorm.DefaultEpsilon);
        for (int f = 0; f < features; f++)
        {
            double unbiased = reference.Variance[f] * rows / (rows - 1);
            double expectedMean = ((1 - (double)momentum) * meanBefore[f]) + (momentum * reference.Mean[f]);
            double expectedVariance = ((1 - (double)momentum) * varianceBefore[f]) + (momentum * unbiased);
            Assert.Equal(expectedMean, runningMean[f], 2e-6 * (1 + Math.Abs(expectedMean)));
            Assert.Equal(expectedVariance, runningVariance[f], 2e-6 * expectedVariance);
        }

        if (momentum == 0f)
        {
            Assert.Equal(meanBefore, runningMean);
            Assert.Equal(varianceBefore, runningVariance);
        }
    }

    [Fact]
    public void Running_statistics_follow_PyTorch_s_recurrence_over_several_batches()
    {
        // Three batches from mean 0, variance 1, as BatchNorm1d starts: r_k = 0.9 r_(k-1) + 0.1 batch_k.
        const int Rows = 6, Features = 4;
        float[] runningMean = new float[Features], runningVariance = Filled(Features, 1f);
        double[] expectedMean = new double[Features], expectedVariance = [1, 1, 1, 1];
        for (int k = 0; k < 3; k++)
        {
            Problem p = Problem.Draw(Rows, Features, affine: false, seed: 40 + k);
            float[] mean = new float[Features], variance = new float[Features], rstd = new float[Features];
            BatchNorm.ForwardTraining(new float[Rows * Features], mean, variance, rstd, p.X, default, default, Rows, Features, BatchNorm.DefaultEpsilon);
            BatchNorm.UpdateRunningStatistics(runningMean, runningVariance, mean, variance, Rows, Features, BatchNorm.DefaultMomentum);
            var reference = BatchNormReference.Training(TestData.Widen(p.X), null, null, Rows, Features, 0);
            for (int f = 0; f < Features; f++)
            {
                expectedMean[f] = (0.9 * expectedMean[f]) + (0.1 * reference.Mean[f]);
                expectedVariance[f] = (0.9 * expectedVariance[f]) + (0.1 * reference.Variance[f] * Rows / (Rows - 1));
            }
        }

        for (int f = 0; f < Features; f++)
        {
            Assert.Equal(expectedMean[f], runningMean[f], 1e-6);
            Assert.Equal(expectedVariance[f], runningVariance[f], 1e-6 * expectedVariance[f]);
        }
    }

    [Fact]
    public void A_constant_feature_normalises_to_its_bias_and_its_gradient_is_finite()
    {
        // Feature 0 is constant over the rows (variance 0, rstd 1 / sqrt(eps)); feature 1 is not.
        float[] x = [3f, 1f, 3f, -1f, 3f, 2f];
        var y = new float[6];
        float[] mean = new float[2], variance = new float[2], rstd = new float[2];
        BatchNorm.ForwardTraining(y, mean, variance, rstd, x, [2f, 1f], [0.5f, 0f], 3, 2, BatchNorm.DefaultEpsilon);
        Assert.Equal(3f, mean[0]);
        Assert.Equal(0f, variance[0]);
        Assert.Equal(1 / Math.Sqrt(BatchNorm.DefaultEpsilon), rstd[0], 1e-2);
        Assert.Equal([0.5f, 0.5f, 0.5f], new[] { y[0], y[2], y[4] });

        var dx = new float[6];
        float[] dGain = new float[2], dBias = new float[2];
        BatchNorm.Backward(dx, dGain, dBias, [1f, -2f, 0.5f, 0f, 3f, 1f], x, mean, rstd, [2f, 1f], 3, 2, accumulate: false);
        Assert.All(dx, value => Assert.True(float.IsFinite(value)));
        Assert.Equal(0f, dGain[0]);
        Assert.Equal(4.5f, dBias[0]);
    }

    [Fact]
    public void Arguments_are_checked()
    {
        float[] Buffer(int n) => new float[n];

        // Training needs a variance: at least 2 rows.
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(3), Buffer(3), Buffer(3), Buffer(3), Buffer(3), default, default, 1, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(3), Buffer(3), Buffer(3), Buffer(3), Buffer(3), default, default, 0, 3, 1e-5f));
        Assert.ThrowsAny<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(6), Buffer(3), Buffer(3), Buffer(3), Buffer(6), default, default, 2, 0, 1e-5f));

        // Buffers too short for (rows, features), statistics too short, gain or bias of the wrong length.
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(5), Buffer(3), Buffer(3), Buffer(3), Buffer(6), default, default, 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(6), Buffer(3), Buffer(3), Buffer(3), Buffer(5), default, default, 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(6), Buffer(2), Buffer(3), Buffer(3), Buffer(6), default, default, 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(6), Buffer(3), Buffer(2), Buffer(3), Buffer(6), default, default, 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(6), Buffer(3), Buffer(3), Buffer(2), Buffer(6), default, default, 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(6), Buffer(3), Buffer(3), Buffer(3), Buffer(6), Buffer(2), Buffer(3), 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardTraining(Buffer(6), Buffer(3), Buffer(3), Buffer(3), Buffer(6), Buffer(3), Buffer(4), 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardEvaluation(Buffer(5), Buffer(6), Buffer(3), Buffer(3), default, default, Buffer(6), 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.ForwardEvaluation(Buffer(6), Buffer(6), Buffer(3), Buffer(3), Buffer(2), default, Buffer(6), 2, 3, 1e-5f));
        Assert.Throws<ArgumentException>(() => BatchNorm.Backward(Buffer(6), Buffer(3), Buffer(3), Buffer(5), Buffer(6), Buffer(3), Buffer(3), Buffer(3), 2, 3, false));
        Assert.Throws<ArgumentException>(() => BatchNorm.Backward(Buffer(5), Buffer(3), Buffer(3), Buffer(6), Buffer(6), Buffer(3), Buffer(3), Buffer(3), 2, 3, false));
        Assert.Throws<ArgumentException>(() => BatchNorm.Backward(Buffer(6), Buffer(2), Buffer(3), Buffer(6), Buffer(6), Buffer(3), Buffer(3), Buffer(3), 2, 3, false));
        Assert.Throws<ArgumentException>(() => BatchNorm.Backward(Buffer(6), default, Buffer(3), Buffer(6), Buffer(6), Buffer(3), Buffer(3), Buffer(3), 2, 3, false));

        // Evaluation takes one row; the valid calls above differ from the refused ones only in the argument checked.
        BatchNorm.ForwardEvaluation(Buffer(3), Buffer(3), Buffer(3), Filled(3, 1f), default, default, Buffer(6), 1, 3, 1e-5f);
        BatchNorm.ForwardTraining(Buffer(6), Buffer(3), Buffer(3), Buffer(3), Buffer(6), Buffer(3), Buffer(3), 2, 3, 1e-5f);
        BatchNorm.Backward(Buffer(6), Buffer(3), Buffer(3), Buffer(6), Buffer(6), Buffer(3), Buffer(3), Buffer(3), 2, 3, false);
    }

    /// <summary>Training forward then backward of the problem; dx starts as NaN (overwrite) or as random values (accumulate), dGain and dBias as NaN.</summary>
    private static (float[] Dx, float[] DGain, float[] DBias, float[] Existing) RunBackward(Problem p, bool accumulate, int existingSeed)
    {
        var y = new float[p.Rows * p.Features];
        float[] mean = new float[p.Features], variance = new float[p.Features], rstd = new float[p.Features];
        BatchNorm.ForwardTraining(y, mean, variance, rstd, p.X, p.Gain, p.Bias, p.Rows, p.Features, BatchNorm.DefaultEpsilon);
        float[] existing = accumulate ? TestData.Uniform(new Random(existingSeed), y.Length, -1, 1) : Filled(y.Length, float.NaN);
        float[] dx = (float[])existing.Clone();
        float[] dGain = Filled(p.Gain?.Length ?? 0, float.NaN), dBias = Filled(p.Bias?.Length ?? 0, float.NaN);
        BatchNorm.Backward(dx, dGain, dBias, p.Dy, p.X, mean, rstd, p.Gain, p.Rows, p.Features, accumulate);
        return (dx, dGain, dBias, existing);
    }

    private static double[] Column(double[] values, int rows, int features, int f)
        => [.. Enumerable.Range(0, rows).Select(r => values[(r * features) + f])];

    private static float[] Filled(int count, float value)
    {
        var values = new float[count];
        Array.Fill(values, value);
        return values;
    }

    private static double[]? Widen(float[]? values) => values is null ? null : TestData.Widen(values);

    /// <summary>
    /// What the float32 op cannot do better, per feature. It centres by the mean rounded to float32 (as PyTorch does),
    /// which shifts every xhat of the feature by up to rstd * |mean| * 2^-24: nothing when the feature's spread is large
    /// against its mean, much when it is small (2 rows of close values: rstd up to 1 / sqrt(eps)). Bounds (twice that
    /// shift, 2^-23) on what it moves y, dx and dGain.
    /// </summary>
    private sealed class Conditioning
    {
        public Conditioning(Problem p, double epsilon)
        {
            var reference = BatchNormReference.Training(TestData.Widen(p.X), null, null, p.Rows, p.Features, epsilon);
            double[] shift = XhatShift(reference.Mean, reference.Variance);
            Dx = new double[p.Features];
            DGain = new double[p.Features];
            for (int f = 0; f < p.Features; f++)
            {
                double rstd = 1 / Math.Sqrt(reference.Variance[f] + epsilon);
                double maxDxhat = 0, maxXhat = 1, sumDy = 0;
                for (int r = 0; r < p.Rows; r++)
                {
                    double dy = Math.Abs(p.Dy[(r * p.Features) + f]);
                    maxDxhat = Math.Max(maxDxhat, dy * Math.Abs(p.Gain?[f] ?? 1));
                    maxXhat = Math.Max(maxXhat, Math.Abs(reference.Y[(r * p.Features) + f]));
                    sumDy += dy;
                }

                // dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)): a shift d of every xhat moves it by at most
                // rstd d (mean|dxhat xhat| + |xhat| mean|dxhat|); dGain = sum dy xhat by d sum|dy|.
                Dx[f] = 2 * rstd * shift[f] * maxDxhat * maxXhat;
                DGain[f] = shift[f] * sumDy;
            }
        }

        public double[] Dx { get; }

        public double[] DGain { get; }

        public static double[] XhatShift(double[] mean, double[] variance)
            => [.. mean.Select((m, f) => Math.Abs(m) * Math.Pow(2, -23) / Math.Sqrt(variance[f] + BatchNorm.DefaultEpsilon))];

        /// <summary>Per feature, the larger of 1 and the largest |dx| of its column: dx's entries of a feature cancel each other.</summary>
        public static double[] FeatureScales(double[] dx, int rows, int features)
            => [.. Enumerable.Range(0, features).Select(f => Math.Max(1, Enumerable.Range(0, rows).Max(r => Math.Abs(dx[(r * features) + f]))))];
    }

    /// <summary>x with a per-feature offset and scale (so features differ in mean and variance), gain, bias and dy.</summary>
    private sealed record Problem(int Rows, int Features, float[] X, float[]? Gain, float[]? Bias, float[] Dy)
    {
        public static Problem Draw(int rows, int features, bool affine, int seed)
        {
            var random = new Random(seed);
            float[] offset = TestData.Uniform(random, features, -3, 3);
            float[] scale = TestData.Uniform(random, features, 0.2, 3);
            float[] x = TestData.Uniform(random, rows * features, -1, 1);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = offset[i % features] + (scale[i % features] * x[i]);
            }

            float[]? gain = affine ? TestData.Uniform(random, features, 0.5, 1.5) : null;
            float[]? bias = affine ? TestData.Uniform(random, features, -0.5, 0.5) : null;
            float[] dy = TestData.Uniform(random, rows * features, -1, 1);
            return new Problem(rows, features, x, gain, bias, dy);
        }
    }
}

/// <summary>
/// Batch normalisation in float64 from its definition, as PyTorch's BatchNorm1d on (rows, features): per feature the
/// mean and biased variance over the rows; gain and bias (features) or null.
/// </summary>
internal static class BatchNormReference
{
    public static (double[] Y, double[] Mean, double[] Variance) Training(double[] x, double[]? gain, double[]? bias, int rows, int features, double epsilon)
    {
        var mean = new double[features];
        var variance = new double[features];
        for (int f = 0; f < features; f++)
        {
            for (int r = 0; r < rows; r++)
            {
                mean[f] += x[(r * features) + f];
            }

            mean[f] /= rows;
            for (int r = 0; r < rows; r++)
            {
                double d = x[(r * features) + f] - mean[f];
                variance[f] += d * d;
            }

            variance[f] /= rows;
        }

        return (Evaluation(x, mean, variance, gain, bias, rows, features, epsilon), mean, variance);
    }

    /// <summary>y = (x - mean) / sqrt(variance + epsilon) * gain + bias, per feature.</summary>
    public static double[] Evaluation(double[] x, double[] mean, double[] variance, double[]? gain, double[]? bias, int rows, int features, double epsilon)
    {
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            for (int f = 0; f < features; f++)
            {
                double xhat = (x[(r * features) + f] - mean[f]) / Math.Sqrt(variance[f] + epsilon);
                y[(r * features) + f] = (xhat * (gain?[f] ?? 1)) + (bias?[f] ?? 0);
            }
        }

        return y;
    }

    /// <summary>The gradients of L = sum of dy * y of the training forward: dx (rows, features), dGain and dBias (features; empty without gain).</summary>
    public static (double[] Dx, double[] DGain, double[] DBias) Backward(double[] x, double[] dy, double[]? gain, int rows, int features, double epsilon)
    {
        (_, double[] mean, double[] variance) = Training(x, null, null, rows, features, epsilon);
        var dx = new double[rows * features];
        var dGain = new double[gain is null ? 0 : features];
        var dBias = new double[gain is null ? 0 : features];
        for (int f = 0; f < features; f++)
        {
            double rstd = 1 / Math.Sqrt(variance[f] + epsilon);
            double g = gain?[f] ?? 1;
            double sumDxhat = 0, sumDxhatXhat = 0, sumDy = 0, sumDyXhat = 0;
            for (int r = 0; r < rows; r++)
            {
                double xhat = (x[(r * features) + f] - mean[f]) * rstd;
                double d = dy[(r * features) + f];
                sumDxhat += d * g;
                sumDxhatXhat += d * g * xhat;
                sumDy += d;
                sumDyXhat += d * xhat;
            }

            if (gain is not null)
            {
                dGain[f] = sumDyXhat;
                dBias[f] = sumDy;
            }

            for (int r = 0; r < rows; r++)
            {
                double xhat = (x[(r * features) + f] - mean[f]) * rstd;
                double dxhat = dy[(r * features) + f] * g;
                dx[(r * features) + f] = rstd * (dxhat - (sumDxhat / rows) - (xhat * sumDxhatXhat / rows));
            }
        }

        return (dx, dGain, dBias);
    }
}
