using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

public class SoftmaxCrossEntropyTests
{
    public static TheoryData<int, int> Sizes()
    {
        var data = new TheoryData<int, int>();
        // Batches past 64 rows cross the op's chunk of rows; classes below, at and past whole Vector256 steps.
        foreach (int batch in new[] { 1, 7, 33, 65, 130 })
        {
            foreach (int classes in new[] { 2, 3, 8, 10, 16, 17 })
            {
                data.Add(batch, classes);
            }
        }

        return data;
    }

    private static double ReferenceMeanLoss(ReadOnlySpan<double> logits, int[] labels, int classes)
        => Float64Reference.CrossEntropyLosses(logits, labels, classes).Average();

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ForwardBackward_MatchesFloat64Reference(int batch, int classes)
    {
        (float[] logits, int[] labels) = TestData.Classification(batch, classes, seed: batch * 100 + classes);
        var dLogits = new float[batch * classes];

        float loss = SoftmaxCrossEntropy.ForwardBackward(dLogits, logits, labels, batch, classes);

        double[] wide = TestData.Widen(logits);
        double expectedLoss = ReferenceMeanLoss(wide, labels, classes);
        Assert.Equal(expectedLoss, loss, 2e-6 + 1e-6 * Math.Abs(expectedLoss));
        double[] probabilities = Float64Reference.SoftmaxProbabilities(wide, classes);
        for (int i = 0; i < batch; i++)
        {
            double rowSum = 0;
            for (int j = 0; j < classes; j++)
            {
                double probability = probabilities[i * classes + j];
                double expected = (probability - (j == labels[i] ? 1.0 : 0.0)) / batch;
                // exp(x - max) with x - max rounded to float: relative error up to |x - max| 2^-24; then one float rounding.
                Assert.Equal(expected, dLogits[i * classes + j], 1e-12 + 4e-6 * probability / batch + 1.2e-7 * Math.Abs(expected));
                rowSum += dLogits[i * classes + j];
            }

            Assert.Equal(0.0, rowSum, 1e-6 / batch);
        }
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(7, 10)]
    [InlineData(33, 17)]
    public void DLogits_MatchFiniteDifferencesOfFloat64Loss(int batch, int classes)
    {
        (float[] logits, int[] labels) = TestData.Classification(batch, classes, seed: 7 + batch + classes);
        var dLogits = new float[batch * classes];
        SoftmaxCrossEntropy.ForwardBackward(dLogits, logits, labels, batch, classes);

        double[] wide = TestData.Widen(logits);
        const double H = 1e-4;
        for (int k = 0; k < wide.Length; k++)
        {
            double finiteDifference = Float64Reference.CentralDifference(wide, k, H, x => ReferenceMeanLoss(x, labels, classes));
            Assert.Equal(finiteDifference, dLogits[k], 1e-7 + 1e-5 * Math.Abs(finiteDifference));
        }
    }

    [Fact]
    public void ForwardBackward_IsStableForHugeLogits()
    {
        float[] logits = [1e4f, -1e4f, 0f, 3e38f, 3e38f, -3e38f, 88f, 89f, 1000f];
        int[] labels = [1, 2, 0];
        var dLogits = new float[logits.Length];

        float loss = SoftmaxCrossEntropy.ForwardBackward(dLogits, logits, labels, 3, 3);

        Assert.True(float.IsFinite(loss));
        Assert.All(dLogits, d => Assert.True(float.IsFinite(d)));
        // Row 0: label 1 is 2e4 below the max, row 1: label 2 is ~6e38 below, row 2: label 0 is 912 below.
        double expected = (2e4 + 6e38 + Math.Log(2) + 912) / 3;
        Assert.Equal(expected, loss, expected * 1e-6);
        Assert.Equal(1f / 3, dLogits[0], 1e-7f);
        Assert.Equal(-1f / 3, dLogits[1], 1e-7f);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Forward_SumsTheSameLossesAndCountsArgmaxHits(int batch, int classes)
    {
        (float[] logits, int[] labels) = TestData.Classification(batch, classes, seed: batch * 31 + classes);
        var random = new Random(batch + classes);
        for (int i = 0; i < batch; i += 2)
        {
            // Make about half of the samples correct by moving their label to the row's argmax.
            labels[i] = Float64Reference.ArgMax(logits.AsSpan(i * classes, classes));
            labels[i] = random.Next(3) == 0 ? (labels[i] + 1) % classes : labels[i];
        }

        double sum = SoftmaxCrossEntropy.Forward(logits, labels, batch, classes, out int correct);

        double[] expectedLosses = Float64Reference.CrossEntropyLosses(TestData.Widen(logits), labels, classes);
        Assert.Equal(expectedLosses.Sum(), sum, 2e-6 * batch + 1e-6 * Math.Abs(sum));
        int expectedCorrect = Enumerable.Range(0, batch).Count(i => Float64Reference.ArgMax(logits.AsSpan(i * classes, classes)) == labels[i]);
        Assert.Equal(expectedCorrect, correct);

        var dLogits = new float[batch * classes];
        float mean = SoftmaxCrossEntropy.ForwardBackward(dLogits, logits, labels, batch, classes);
        Assert.Equal((float)(sum / batch), mean); // the same per-row losses summed in the same order
    }

    [Fact]
    public void Forward_ArgmaxTiesGoToTheLowestIndex()
    {
        float[] logits = [1f, 3f, 3f, 5f, 5f, 5f, float.NaN, 9f, float.NaN];
        _ = SoftmaxCrossEntropy.Forward(logits, [1, 2, 0], 3, 3, out int correct);
        Assert.Equal(2, correct); // row 0: index 1 wins the tie with 2; row 1: 0 wins, not 2; row 2: the first NaN wins, as torch.argmax

        _ = SoftmaxCrossEntropy.Forward(logits, [2, 0, 1], 3, 3, out correct);
        Assert.Equal(1, correct); // only row 1
    }

    [Theory]
    [InlineData(3)]  // the NaN in a whole Vector256 step of the row
    [InlineData(16)] // the NaN in the row's ragged end
    public void ANaNLogit_MakesTheLossNaN_AndLeavesOtherRowsExact(int nanColumn)
    {
        const int Classes = 17;
        (float[] logits, int[] labels) = TestData.Classification(3, Classes, seed: 11);
        logits[Classes + nanColumn] = float.NaN; // row 1
        var dLogits = new float[logits.Length];

        float loss = SoftmaxCrossEntropy.ForwardBackward(dLogits, logits, labels, 3, Classes);
        double sum = SoftmaxCrossEntropy.Forward(logits, labels, 3, Classes, out _);

        Assert.True(float.IsNaN(loss));
        Assert.True(double.IsNaN(sum));
        Assert.All(dLogits.AsSpan(Classes, Classes).ToArray(), d => Assert.True(float.IsNaN(d)));
        // Rows 0 and 2 give what they give in a batch of their own, scaled by 1/3 instead of 1/1.
        foreach (int row in new[] { 0, 2 })
        {
            var alone = new float[Classes];
            SoftmaxCrossEntropy.ForwardBackward(alone, logits.AsSpan(row * Classes, Classes), labels.AsSpan(row, 1), 1, Classes);
            for (int j = 0; j < Classes; j++)
            {
                Assert.Equal(alone[j] / 3, dLogits[row * Classes + j], 1e-7f * Math.Abs(alone[j]));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(17)]
    [InlineData(40)]
    public void RowMax_IsTheLargestValue_OrNaNWhenTheRowHasOne(int length)
    {
        var random = new Random(length);
        float[] row = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 200 - 100)).ToArray();
        Assert.Equal(row.Max(), SoftmaxCrossEntropy.RowMax(row));

        for (int position = 0; position < length; position++)
        {
            float[] withNaN = (float[])row.Clone();
            withNaN[position] = float.NaN; // in a whole Vector256 step or in the ragged end
            Assert.True(float.IsNaN(SoftmaxCrossEntropy.RowMax(withNaN)), $"NaN at {position} of {length}");

            float[] withInfinity = (float[])row.Clone();
            withInfinity[position] = float.PositiveInfinity;
            Assert.Equal(float.PositiveInfinity, SoftmaxCrossEntropy.RowMax(withInfinity));
        }

        Assert.Equal(float.NegativeInfinity, SoftmaxCrossEntropy.RowMax(Enumerable.Repeat(float.NegativeInfinity, length).ToArray()));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(17)]
    public void Rows_are_read_and_written_only_within_their_spans(int classes)
    {
        // The buffers are slices of larger arrays whose elements past the slice are sentinels: the masked ragged end of
        // the last row must neither read them (NaN logits would make the loss NaN) nor write them.
        const int Batch = 5;
        (float[] logits, int[] labels) = TestData.Classification(Batch, classes, seed: classes);
        float[] paddedLogits = [.. logits, .. Enumerable.Repeat(float.NaN, 8)];
        float[] paddedDLogits = [.. new float[Batch * classes], .. Enumerable.Repeat(-7f, 8)];

        float loss = SoftmaxCrossEntropy.ForwardBackward(paddedDLogits.AsSpan(0, Batch * classes), paddedLogits.AsSpan(0, Batch * classes), labels, Batch, classes);
        double sum = SoftmaxCrossEntropy.Forward(paddedLogits.AsSpan(0, Batch * classes), labels, Batch, classes, out _);

        Assert.True(float.IsFinite(loss));
        Assert.True(double.IsFinite(sum));
        Assert.All(paddedDLogits[(Batch * classes)..], value => Assert.Equal(-7f, value));
        var unpadded = new float[Batch * classes];
        Assert.Equal(SoftmaxCrossEntropy.ForwardBackward(unpadded, logits, labels, Batch, classes), loss);
        Assert.Equal(unpadded, paddedDLogits[..(Batch * classes)]);
    }

    [Fact]
    public void Forward_OfAnEmptyBatchIsZero()
    {
        Assert.Equal(0.0, SoftmaxCrossEntropy.Forward([], [], 0, 10, out int correct));
        Assert.Equal(0, correct);
    }

    [Fact]
    public void MismatchedLengths_Throw()
    {
        var dLogits = new float[6];
        Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.ForwardBackward(dLogits, new float[5], [0, 1], 2, 3));
        Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.ForwardBackward(new float[5], new float[6], [0, 1], 2, 3));
        Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.ForwardBackward(dLogits, new float[6], [0], 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.ForwardBackward([], [], [], 0, 3));
        Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(new float[6], [0, 1, 2], 2, 3, out _));
    }
}
