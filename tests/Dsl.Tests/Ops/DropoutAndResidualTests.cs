using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>Dropout by its keep rate and the exact mask it promises; the residual add and its accumulating backward.</summary>
public sealed class DropoutAndResidualTests
{
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    public void Dropout_keeps_each_element_with_probability_one_minus_p(float p)
    {
        const int Rows = 1000, Features = 257;
        float[] x = new float[Rows * Features];
        Array.Fill(x, 1f);
        float[] y = new float[x.Length];
        Dropout.Forward(y, x, Rows, Features, firstRow: 0, p, seed: 42, step: 7);

        int kept = y.Count(v => v != 0f);
        double expected = (1 - p) * x.Length;
        double sigma = Math.Sqrt(x.Length * p * (1 - p));
        Assert.InRange(kept, expected - (5 * sigma), expected + (5 * sigma));
        Assert.All(y, v => Assert.True(v == 0f || Math.Abs(v - (1f / (1f - p))) < 1e-6f, $"a kept element is scaled by 1/(1-p), got {v}"));
    }

    [Fact]
    public void Dropout_draws_the_mask_it_promises_from_seed_step_and_element_alone()
    {
        const int Rows = 9, Features = 13;
        const float P = 0.3f;
        var random = new Random(1);
        float[] x = TestData.Uniform(random, Rows * Features, 0.5, 2);
        float[] whole = new float[x.Length];
        Dropout.Forward(whole, x, Rows, Features, firstRow: 0, P, seed: 1234, step: 5);

        // The same mask from its definition, written out here independently of the library.
        uint threshold = (uint)Math.Round(P * (double)(1 << 24));
        ulong stepKey = Mix(unchecked(1234UL + (5UL * 0x9E3779B97F4A7C15UL)));
        for (int i = 0; i < x.Length; i++)
        {
            bool keep = (uint)(Mix(unchecked(stepKey + ((ulong)i * 0x9E3779B97F4A7C15UL))) >> 40) >= threshold;
            Assert.Equal(keep ? x[i] * (1f / (1f - P)) : 0f, whole[i]);
            Assert.Equal(keep, Dropout.Keeps(1234, 5, i, P));
        }

        // Rows 4.. of the batch, computed on their own (a slice of a split batch), draw the same mask.
        float[] tail = new float[5 * Features];
        Dropout.Forward(tail, x.AsSpan(4 * Features), 5, Features, firstRow: 4, P, seed: 1234, step: 5);
        Assert.Equal(whole.AsSpan(4 * Features).ToArray(), tail);

        // Another step or seed draws another mask.
        float[] other = new float[x.Length];
        Dropout.Forward(other, x, Rows, Features, 0, P, seed: 1234, step: 6);
        Assert.NotEqual(whole, other);
    }

    [Fact]
    public void Dropout_backward_passes_the_gradient_through_the_forward_s_mask()
    {
        const int Rows = 6, Features = 10;
        var random = new Random(2);
        float[] x = TestData.Uniform(random, Rows * Features, 0.5, 2);
        float[] y = new float[x.Length];
        Dropout.Forward(y, x, Rows, Features, 0, 0.4f, seed: 9, step: 3);
        float[] dy = TestData.Uniform(random, x.Length, -1, 1);
        float[] dx = new float[x.Length];
        Dropout.Backward(dx, dy, Rows, Features, 0, 0.4f, seed: 9, step: 3, accumulate: false);
        for (int i = 0; i < x.Length; i++)
        {
            // y = x * s with s = keep / (1 - p), so dx = dy * s = dy * y / x.
            Assert.Equal(dy[i] * y[i] / x[i], dx[i], 1e-5f);
        }

        float[] accumulated = (float[])dy.Clone();
        Dropout.Backward(accumulated, dy, Rows, Features, 0, 0.4f, seed: 9, step: 3, accumulate: true);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(dy[i] + dx[i], accumulated[i], 1e-6f);
        }
    }

    [Fact]
    public void Dropout_probability_zero_is_the_identity_and_one_is_refused()
    {
        float[] x = TestData.Uniform(new Random(3), 21, -1, 1);
        float[] y = new float[21];
        Dropout.Forward(y, x, 3, 7, 0, 0f, seed: 1, step: 1);
        Assert.Equal(x, y);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(y, x, 3, 7, 0, 1f, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(y, x, 3, 7, 0, float.NaN, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(y, x, 3, 7, 0, -0.1f, 1, 1));
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.25f)]
    public void Residual_add_and_its_backward_match_their_definitions(float scale)
    {
        var random = new Random(4);
        float[] skip = TestData.Uniform(random, 37, -2, 2);
        float[] branch = TestData.Uniform(random, 37, -2, 2);
        float[] y = new float[37];
        ResidualAdd.Forward(y, skip, branch, scale);
        for (int i = 0; i < 37; i++)
        {
            Assert.Equal((double)skip[i] + (scale * (double)branch[i]), y[i], 1e-6);
        }

        float[] dy = TestData.Uniform(random, 37, -1, 1);
        float[] dSkip = TestData.Uniform(random, 37, -1, 1);
        float[] before = (float[])dSkip.Clone();
        float[] dBranch = new float[37];
        ResidualAdd.Backward(dSkip, dBranch, dy, scale, accumulateSkip: true);
        for (int i = 0; i < 37; i++)
        {
            Assert.Equal(before[i] + dy[i], dSkip[i], 1e-6f);
            Assert.Equal(scale * dy[i], dBranch[i], 1e-7f);
        }

        ResidualAdd.Backward(dSkip, dBranch, dy, scale, accumulateSkip: false);
        Assert.Equal(dy, dSkip);
        Assert.Throws<ArgumentException>(() => ResidualAdd.Forward(y, skip, new float[36], scale));
    }

    private static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
