using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

public class MeanSquaredErrorTests
{
    public static TheoryData<int, int> Sizes()
    {
        var data = new TheoryData<int, int>();
        foreach (int batch in new[] { 1, 7, 33 })
        {
            foreach (int outputs in new[] { 1, 2, 3, 10, 17 })
            {
                data.Add(batch, outputs);
            }
        }

        return data;
    }

    private static (float[] Output, float[] Target) Problem(int batch, int outputs, int seed)
    {
        var random = new Random(seed);
        float[] output = TestData.Uniform(random, batch * outputs, -4, 4);
        float[] target = TestData.Uniform(random, batch * outputs, -4, 4);
        return (output, target);
    }

    /// <summary>The float64 loss: the mean over the batch of the per-sample mean squared errors.</summary>
    private static double ReferenceMean(double[] output, float[] target, int outputs)
        => Float64Reference.SquaredErrorRowMeans(output, TestData.Widen(target), outputs).Average();

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ForwardBackward_MatchesFloat64Reference(int batch, int outputs)
    {
        (float[] output, float[] target) = Problem(batch, outputs, seed: batch * 100 + outputs);
        var dOutput = new float[output.Length];

        float loss = MeanSquaredError.ForwardBackward(dOutput, output, target, batch, outputs);

        double expected = ReferenceMean(TestData.Widen(output), target, outputs);
        Assert.Equal(expected, loss, 1e-6 * expected);
        for (int k = 0; k < output.Length; k++)
        {
            double expectedGradient = 2.0 * ((double)output[k] - target[k]) / output.Length;
            Assert.Equal(expectedGradient, dOutput[k], 3e-7 * Math.Abs(expectedGradient) + 1e-12);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(33, 17)]
    public void DOutput_MatchesFiniteDifferencesOfFloat64Loss(int batch, int outputs)
    {
        (float[] output, float[] target) = Problem(batch, outputs, seed: batch + outputs);
        var dOutput = new float[output.Length];
        MeanSquaredError.ForwardBackward(dOutput, output, target, batch, outputs);

        double[] wide = TestData.Widen(output);
        const double H = 1e-3;
        for (int k = 0; k < wide.Length; k++)
        {
            double finiteDifference = Float64Reference.CentralDifference(wide, k, H, x => ReferenceMean(x, target, outputs));
            Assert.Equal(finiteDifference, dOutput[k], 1e-9 + 1e-6 * Math.Abs(finiteDifference));
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Forward_SumsPerSampleMeans(int batch, int outputs)
    {
        (float[] output, float[] target) = Problem(batch, outputs, seed: batch * 7 + outputs);

        double sum = MeanSquaredError.Forward(output, target, batch, outputs);

        double expected = Float64Reference.SquaredErrorRowMeans(TestData.Widen(output), TestData.Widen(target), outputs).Sum();

        Assert.Equal(expected, sum, 1e-6 * expected);
        float mean = MeanSquaredError.ForwardBackward(new float[output.Length], output, target, batch, outputs);
        Assert.Equal(sum / batch, mean, 1e-6 * mean);
    }

    [Fact]
    public void EqualOutputAndTarget_GiveZeroLossAndGradient()
    {
        float[] values = [1f, -2f, 3.5f, 0f, 7f, 9f, -1f, 2f, 4f];
        var dOutput = new float[values.Length];
        Assert.Equal(0f, MeanSquaredError.ForwardBackward(dOutput, values, values, 3, 3));
        Assert.All(dOutput, d => Assert.Equal(0f, d));
        Assert.Equal(0.0, MeanSquaredError.Forward(values, values, 3, 3));
    }

    [Fact]
    public void MismatchedLengths_Throw()
    {
        Assert.Throws<ArgumentException>(() => MeanSquaredError.ForwardBackward(new float[6], new float[6], new float[5], 2, 3));
        Assert.Throws<ArgumentException>(() => MeanSquaredError.ForwardBackward(new float[5], new float[6], new float[6], 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MeanSquaredError.ForwardBackward([], [], [], 0, 3));
        Assert.Throws<ArgumentException>(() => MeanSquaredError.Forward(new float[6], new float[7], 2, 3));
    }
}
