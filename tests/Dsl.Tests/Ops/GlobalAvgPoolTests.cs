using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>
/// GlobalAvgPool against the float64 mean over each channel's positions, on odd sizes from one position to planes
/// longer than a few vectors; its backward against the exact spread dy / positions and central differences;
/// accumulation and refusals.
/// </summary>
public sealed class GlobalAvgPoolTests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        // batch, channels, positions
        { 1, 1, 1 },
        { 3, 5, 1 },
        { 2, 3, 7 },
        { 3, 4, 63 },
        { 1, 7, 225 },
        { 5, 2, 1031 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_is_the_float64_mean_over_positions(int batch, int channels, int positions)
    {
        float[] x = TestData.Uniform(new Random(positions), batch * channels * positions, -1, 1);
        float[] y = Enumerable.Repeat(float.NaN, batch * channels).ToArray();
        GlobalAvgPool.Forward(y, x, batch, channels, positions);
        for (int p = 0; p < y.Length; p++)
        {
            double mean = x.Skip(p * positions).Take(positions).Average(v => (double)v);
            Assert.Equal(mean, y[p], 1e-6);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_spreads_each_gradient_evenly_and_matches_central_differences(int batch, int channels, int positions)
    {
        var random = new Random(3 * positions);
        double[] x = TestData.Widen(TestData.Uniform(random, batch * channels * positions, -1, 1));
        float[] dy = TestData.Uniform(random, batch * channels, -1, 1);
        float[] dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        GlobalAvgPool.Backward(dx, dy, batch, channels, positions, accumulate: false);
        for (int i = 0; i < dx.Length; i++)
        {
            Assert.Equal((double)dy[i / positions] / positions, dx[i], 1e-7);
        }

        double Loss(double[] input)
        {
            var y = new float[batch * channels];
            GlobalAvgPool.Forward(y, [.. input.Select(v => (float)v)], batch, channels, positions);
            return y.Select((v, p) => (double)v * dy[p]).Sum();
        }

        // The float32 forward's differences, over a step wide enough that its rounding is small beside it.
        const double H = 1.0 / 4;
        for (int k = 0; k < x.Length; k += Math.Max(1, x.Length / 97))
        {
            double expected = Float64Reference.CentralDifference(x, k, H, Loss);
            Assert.Equal(expected, dx[k], 1e-5 + (1e-4 * Math.Abs(expected)));
        }
    }

    [Fact]
    public void Backward_adds_to_the_input_gradient_when_asked()
    {
        var random = new Random(4);
        float[] dy = TestData.Uniform(random, 6, -1, 1);
        var dx = new float[6 * 37];
        GlobalAvgPool.Backward(dx, dy, 2, 3, 37, accumulate: false);
        float[] before = TestData.Uniform(random, dx.Length, -1, 1);
        float[] added = (float[])before.Clone();
        GlobalAvgPool.Backward(added, dy, 2, 3, 37, accumulate: true);
        for (int i = 0; i < dx.Length; i++)
        {
            Assert.Equal(before[i] + dx[i], added[i], 1e-6);
        }
    }

    [Fact]
    public void Sizes_out_of_range_and_short_buffers_are_refused()
    {
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => GlobalAvgPool.Forward(new float[4], new float[4], 2, 2, 0));
        Assert.Equal("positions", error.ParamName);
        Assert.Contains("over 0 positions", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => GlobalAvgPool.Backward(new float[4], new float[4], -1, 2, 1, accumulate: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => GlobalAvgPool.Forward(new float[4], new float[4], 2, -2, 1));

        GlobalAvgPool.Forward(new float[6], new float[30], 2, 3, 5);
        GlobalAvgPool.Backward(new float[30], new float[6], 2, 3, 5, accumulate: false);
        PoolReference.Refused(() => GlobalAvgPool.Forward(new float[5], new float[30], 2, 3, 5), "output", 6);
        PoolReference.Refused(() => GlobalAvgPool.Forward(new float[6], new float[29], 2, 3, 5), "input", 30);
        PoolReference.Refused(() => GlobalAvgPool.Backward(new float[29], new float[6], 2, 3, 5, accumulate: false), "dInput", 30);
        PoolReference.Refused(() => GlobalAvgPool.Backward(new float[30], new float[5], 2, 3, 5, accumulate: true), "dOutput", 6);
    }
}
