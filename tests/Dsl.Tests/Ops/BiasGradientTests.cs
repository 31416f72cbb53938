using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

public class BiasGradientTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 33)]
    [InlineData(5, 7)]
    [InlineData(7, 8)]
    [InlineData(33, 17)]
    [InlineData(64, 100)]
    [InlineData(129, 33)]
    public void Compute_MatchesNaiveColumnSums(int batch, int units)
    {
        var random = new Random(batch * 1000 + units);
        float[] dPreActivation = TestData.Uniform(random, batch * units, -1, 1);
        float[] dBias = [.. Enumerable.Repeat(123f, units)]; // overwritten, not accumulated

        BiasGradient.Compute(dBias, dPreActivation, batch, units);

        (double[] expected, double[] magnitude) = Float64Reference.ColumnSums(dPreActivation, batch, units);
        for (int j = 0; j < units; j++)
        {
            Assert.Equal(expected[j], dBias[j], 1e-7 * batch * magnitude[j] + 1e-12);
        }
    }

    [Fact]
    public void EmptyBatch_GivesZero()
    {
        float[] dBias = [1f, 2f, 3f];
        BiasGradient.Compute(dBias, [], 0, 3);
        Assert.Equal([0f, 0f, 0f], dBias);
    }

    [Fact]
    public void MismatchedLengths_Throw()
    {
        Assert.Throws<ArgumentException>(() => BiasGradient.Compute(new float[3], new float[7], 2, 3));
        Assert.Throws<ArgumentException>(() => BiasGradient.Compute(new float[4], new float[6], 2, 3));
    }
}
