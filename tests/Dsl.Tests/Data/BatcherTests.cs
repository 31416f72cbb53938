using Dsl.Data;
using Xunit;

namespace Dsl.Tests.Data;

public class BatcherTests
{
    private const int Rows = 37;
    private const int Features = 5;

    // (Rows, Features): row r holds r*100 + f, so every row names itself; label of row r is r % 10.
    private static (float[] X, int[] Y) Data()
    {
        var x = new float[Rows * Features];
        var y = new int[Rows];
        for (int r = 0; r < Rows; r++)
        {
            for (int f = 0; f < Features; f++)
            {
                x[r * Features + f] = r * 100 + f;
            }
            y[r] = r % 10;
        }
        return (x, y);
    }

    [Theory]
    [InlineData(BatchSampling.WithReplacement)]
    [InlineData(BatchSampling.EpochShuffle)]
    public void EqualSeeds_GiveEqualBatches_OtherSeedsDiffer(BatchSampling sampling)
    {
        (float[] x, int[] y) = Data();
        var a = new Batcher(x, y, Features, 8, seed: 123, sampling);
        var b = new Batcher(x, y, Features, 8, seed: 123, sampling);
        var c = new Batcher(x, y, Features, 8, seed: 124, sampling);
        var (xa, ya, xb, yb, xc, yc) = (new float[8 * Features], new int[8], new float[8 * Features], new int[8], new float[8 * Features], new int[8]);
        bool anyDifferent = false;
        for (int step = 0; step < 20; step++)
        {
            a.Next(xa, ya);
            b.Next(xb, yb);
            c.Next(xc, yc);
            Assert.Equal(xa, xb);
            Assert.Equal(ya, yb);
            anyDifferent |= !xa.AsSpan().SequenceEqual(xc);
        }
        Assert.True(anyDifferent);
    }

    [Theory]
    [InlineData(BatchSampling.WithReplacement)]
    [InlineData(BatchSampling.EpochShuffle)]
    [InlineData(BatchSampling.Sequential)]
    public void LabelsMatchRows(BatchSampling sampling)
    {
        (float[] x, int[] y) = Data();
        var batcher = new Batcher(x, y, Features, 16, seed: 9, sampling);
        var xBatch = new float[16 * Features];
        var yBatch = new int[16];
        for (int step = 0; step < 50; step++)
        {
            batcher.Next(xBatch, yBatch);
            for (int b = 0; b < 16; b++)
            {
                int row = (int)xBatch[b * Features] / 100;
                Assert.InRange(row, 0, Rows - 1);
                for (int f = 0; f < Features; f++)
                {
                    Assert.Equal(row * 100 + f, xBatch[b * Features + f]);
                }
                Assert.Equal(row % 10, yBatch[b]);
            }
        }
    }

    [Fact]
    public void EpochShuffle_VisitsEveryRowOncePerEpoch()
    {
        (float[] x, int[] y) = Data();
        // Batch of 1: each Rows consecutive draws form one epoch.
        var batcher = new Batcher(x, y, Features, 1, seed: 5, BatchSampling.EpochShuffle);
        var xBatch = new float[Features];
        var yBatch = new int[1];
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var seen = new List<int>();
            for (int i = 0; i < Rows; i++)
            {
                batcher.Next(xBatch, yBatch);
                seen.Add((int)xBatch[0] / 100);
            }
            Assert.Equal(Enumerable.Range(0, Rows), seen.Order());
        }
        Assert.Equal(2, batcher.Epoch);
    }

    [Fact]
    public void Sequential_TakesRowsInDataOrder_WrappingAround_WhateverTheSeed()
    {
        (float[] x, int[] y) = Data();
        const int batch = 7; // does not divide Rows: batches straddle the wrap
        var first = new Batcher(x, y, Features, batch, seed: 1, BatchSampling.Sequential);
        var second = new Batcher(x, y, Features, batch, seed: 2, BatchSampling.Sequential);
        var xBatch = new float[batch * Features];
        var yBatch = new int[batch];
        var xOther = new float[batch * Features];
        var yOther = new int[batch];
        int expectedRow = 0;
        for (int step = 0; step < 3 * Rows / batch; step++)
        {
            first.Next(xBatch, yBatch);
            second.Next(xOther, yOther);
            Assert.Equal(xBatch, xOther);
            for (int b = 0; b < batch; b++)
            {
                Assert.Equal(expectedRow, (int)xBatch[b * Features] / 100);
                expectedRow = (expectedRow + 1) % Rows;
            }
        }
    }

    [Fact]
    public void WithReplacement_CoversRowsRoughlyUniformly()
    {
        (float[] x, int[] y) = Data();
        var batcher = new Batcher(x, y, Features, 100, seed: 77);
        var xBatch = new float[100 * Features];
        var yBatch = new int[100];
        var hits = new int[Rows];
        for (int step = 0; step < 370; step++)
        {
            batcher.Next(xBatch, yBatch);
            for (int b = 0; b < 100; b++)
            {
                hits[(int)xBatch[b * Features] / 100]++;
            }
        }
        // 37,000 draws over 37 rows: 1000 expected each, std ~31.
        Assert.All(hits, h => Assert.InRange(h, 850, 1150));
    }

    [Fact]
    public void InvalidArguments_ThrowWithExpectedAndActual()
    {
        (float[] x, int[] y) = Data();
        var features = Assert.Throws<ArgumentException>(() => new Batcher(x[..^1], y, Features, 4, 1));
        Assert.Contains($"{Rows * Features}", features.Message);
        Assert.Contains($"{Rows * Features - 1}", features.Message);
        Assert.Throws<ArgumentException>(() => new Batcher(x, y, 0, 4, 1));
        Assert.Throws<ArgumentException>(() => new Batcher(x, y, Features, 0, 1));
        Assert.Throws<ArgumentException>(() => new Batcher([], [], Features, 4, 1));
        Assert.Throws<ArgumentException>(() => new Batcher(x, y, Features, 4, 1, (BatchSampling)9));
        Assert.Throws<ArgumentNullException>(() => new Batcher(null!, y, Features, 4, 1));

        var batcher = new Batcher(x, y, Features, 4, 1);
        var wrongX = Assert.Throws<ArgumentException>(() => batcher.Next(new float[4 * Features + 1], new int[4]));
        Assert.Contains("20", wrongX.Message);
        Assert.Contains("21", wrongX.Message);
        var wrongY = Assert.Throws<ArgumentException>(() => batcher.Next(new float[4 * Features], new int[3]));
        Assert.Contains("4", wrongY.Message);
        Assert.Contains("3", wrongY.Message);
    }

    [Fact]
    public void SplitMix64_MatchesPublishedSequence()
    {
        // Reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var random = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, random.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, random.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, random.NextUInt64());
    }
}
