using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

public class InitializerTests
{
    private const int Side = 512;

    public static TheoryData<Init, Fan, int, int> Distributions()
    {
        var data = new TheoryData<Init, Fan, int, int>();
        foreach (Init init in new[] { Init.TorchDefault, Init.He, Init.HeUniform, Init.Xavier, Init.XavierUniform, Init.LeCun, Init.Normal })
        {
            data.Add(init, Fan.In, Side, Side);
        }

        // Rectangular (fanOut 128, fanIn 2048): the fans differ, so the formulas are told apart.
        foreach (Init init in new[] { Init.TorchDefault, Init.He, Init.HeUniform, Init.Xavier, Init.XavierUniform, Init.LeCun })
        {
            data.Add(init, Fan.In, 2048, 128);
        }

        data.Add(Init.He, Fan.Out, 2048, 128);
        data.Add(Init.HeUniform, Fan.Out, 2048, 128);
        return data;
    }

    private static bool IsUniform(Init init) => init is Init.TorchDefault or Init.HeUniform or Init.XavierUniform;

    [Theory]
    [MemberData(nameof(Distributions))]
    public void Weights_HaveZeroMeanAndTheDeclaredVariance(Init init, Fan fan, int fanIn, int fanOut)
    {
        const double Std = 0.05;
        var weight = new float[fanIn * fanOut];
        Initializer.Fill(weight, [], init, fan, Std, fanIn, fanOut, seed: 42, path: "Layer3");

        double variance = Initializer.Variance(init, fan, Std, fanIn, fanOut);
        int n = weight.Length;
        double mean = weight.Average(w => (double)w);
        double sampleVariance = weight.Sum(w => ((double)w - mean) * ((double)w - mean)) / (n - 1);
        double sigma = Math.Sqrt(variance);

        // Five standard errors: of the mean, sqrt(s2/n); of the variance, sqrt(2/n) s2 at most (normal).
        Assert.InRange(mean, -5 * sigma / Math.Sqrt(n), 5 * sigma / Math.Sqrt(n));
        Assert.InRange(sampleVariance / variance, 1 - 5 * Math.Sqrt(2.0 / n), 1 + 5 * Math.Sqrt(2.0 / n));

        // Shape: P(|w| < sigma) is 0.6827 for a normal, 1/sqrt(3) = 0.5774 for a uniform.
        double withinOneSigma = weight.Count(w => Math.Abs(w) < sigma) / (double)n;
        double expectedFraction = IsUniform(init) ? 1 / Math.Sqrt(3) : 0.682689492;
        Assert.InRange(withinOneSigma, expectedFraction - 0.005, expectedFraction + 0.005);

        if (IsUniform(init))
        {
            float bound = (float)Math.Sqrt(3 * variance);
            float largest = weight.Max(Math.Abs);
            Assert.True(largest <= bound, $"{largest} exceeds the bound {bound}");
            Assert.True(largest >= 0.999f * bound, $"{largest} does not reach the bound {bound}");
        }
    }

    [Fact]
    public void Variance_FollowsTheFormulas()
    {
        Assert.Equal(1.0 / 300, Initializer.Variance(Init.TorchDefault, Fan.Out, 0, 100, 10), 1e-15);
        Assert.Equal(0.02, Initializer.Variance(Init.He, Fan.In, 0, 100, 10), 1e-15);
        Assert.Equal(0.2, Initializer.Variance(Init.He, Fan.Out, 0, 100, 10), 1e-15);
        Assert.Equal(0.2, Initializer.Variance(Init.HeUniform, Fan.Out, 0, 100, 10), 1e-15);
        Assert.Equal(2.0 / 110, Initializer.Variance(Init.Xavier, Fan.Out, 0, 100, 10), 1e-15);
        Assert.Equal(2.0 / 110, Initializer.Variance(Init.XavierUniform, Fan.In, 0, 100, 10), 1e-15);
        Assert.Equal(0.01, Initializer.Variance(Init.LeCun, Fan.Out, 0, 100, 10), 1e-15);
        Assert.Equal(0.0, Initializer.Variance(Init.Zero, Fan.In, 0, 100, 10));
        Assert.Equal(0.0009, Initializer.Variance(Init.Normal, Fan.In, 0.03, 100, 10), 1e-15);
    }

    [Fact]
    public void SameArguments_GiveIdenticalBits_OtherLayerOrSeedDiffers()
    {
        float[] first = Draw(Init.He, seed: 7, path: "Layer0");
        float[] again = Draw(Init.He, seed: 7, path: "Layer0");
        float[] otherLayer = Draw(Init.He, seed: 7, path: "Layer1");
        float[] otherSeed = Draw(Init.He, seed: 8, path: "Layer0");

        Assert.Equal(Bits(first), Bits(again));
        Assert.NotEqual(Bits(first), Bits(otherLayer));
        Assert.NotEqual(Bits(first), Bits(otherSeed));
        Assert.True(first.Zip(otherLayer).Count(pair => pair.First == pair.Second) < 5);
    }

    /// <summary>
    /// The stream is part of the contract (a seed reproduces a network on every machine): these bits come
    /// from integer arithmetic, IEEE operations and the initializer's own logarithm only, keyed by the path's FNV-1a hash.
    /// </summary>
    [Fact]
    public void Streams_ArePinned()
    {
        var weight = new float[6];
        var bias = new float[2];
        Initializer.Fill(weight, bias, Init.TorchDefault, Fan.In, 0, 3, 2, seed: 2024, path: "Blocks[3].Up");
        Assert.Equal(TorchDefaultWeight, Bits(weight));
        Assert.Equal(TorchDefaultBias, Bits(bias));

        Initializer.Fill(weight, [], Init.He, Fan.In, 0, 3, 2, seed: 2024, path: "Blocks[3].Up");
        Assert.Equal(HeWeight, Bits(weight));
    }

    private static readonly int[] TorchDefaultWeight = [0x3D4F8692, unchecked((int)0xBEE4ABF6), 0x3EA4DE90, 0x3E37C448, unchecked((int)0xBE4D3001), unchecked((int)0xBEEB23C5)];
    private static readonly int[] TorchDefaultBias = [unchecked((int)0xBDD71902), unchecked((int)0xBE8DB903)];
    private static readonly int[] HeWeight = [0x3DBC9CC5, unchecked((int)0xBF4FD4CD), 0x3F749607, 0x3F084F6D, unchecked((int)0xBE7BBB12), unchecked((int)0xBF103D12)];

    [Fact]
    public void Zero_FillsWeightAndBiasWithZeros()
    {
        float[] weight = [.. Enumerable.Repeat(5f, 12)];
        float[] bias = [.. Enumerable.Repeat(5f, 3)];
        Initializer.Fill(weight, bias, Init.Zero, Fan.In, 0, 4, 3, seed: 1, path: "Layer0");
        Assert.All(weight, w => Assert.Equal(0f, w));
        Assert.All(bias, b => Assert.Equal(0f, b));
    }

    [Fact]
    public void TorchDefaultBias_IsUniformWithinOneOverSqrtFanIn()
    {
        const int FanIn = 64;
        const int FanOut = 4096;
        var weight = new float[FanIn * FanOut];
        var bias = new float[FanOut];
        Initializer.Fill(weight, bias, Init.TorchDefault, Fan.In, 0, FanIn, FanOut, seed: 3, path: "Layer0");

        float bound = 1f / MathF.Sqrt(FanIn);
        Assert.All(bias, b => Assert.InRange(b, -bound, bound));
        Assert.True(bias.Max(Math.Abs) > 0.99f * bound);
        Assert.InRange(bias.Average(b => (double)b), -5 * bound / Math.Sqrt(3 * FanOut), 5 * bound / Math.Sqrt(3 * FanOut));
    }

    [Theory]
    [InlineData(Init.He)]
    [InlineData(Init.HeUniform)]
    [InlineData(Init.Xavier)]
    [InlineData(Init.XavierUniform)]
    [InlineData(Init.LeCun)]
    [InlineData(Init.Normal)]
    public void OtherInitialisers_ZeroTheBias(Init init)
    {
        var weight = new float[20];
        float[] bias = [.. Enumerable.Repeat(9f, 4)];
        Initializer.Fill(weight, bias, init, Fan.In, 0.1, 5, 4, seed: 11, path: "Layer2");
        Assert.All(bias, b => Assert.Equal(0f, b));
        Assert.Contains(weight, w => w != 0f);
    }

    [Fact]
    public void InvalidArguments_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => Initializer.Fill(new float[11], [], Init.He, Fan.In, 0, 4, 3, 1, "L"));
        Assert.Throws<ArgumentException>(() => Initializer.Fill(new float[12], new float[4], Init.He, Fan.In, 0, 4, 3, 1, "L"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Initializer.Fill(new float[12], [], (Init)99, Fan.In, 0, 4, 3, 1, "L"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Initializer.Fill(new float[12], [], Init.He, (Fan)5, 0, 4, 3, 1, "L"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Initializer.Fill(new float[12], [], Init.Normal, Fan.In, -1, 4, 3, 1, "L"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Initializer.Fill(new float[12], [], Init.Normal, Fan.In, double.NaN, 4, 3, 1, "L"));
        Assert.Throws<ArgumentException>(() => Initializer.Fill(new float[12], [], Init.He, Fan.In, 0, 4, 3, 1, ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => Initializer.Variance(Init.He, Fan.In, 0, 0, 3));
    }

    private static float[] Draw(Init init, ulong seed, string path)
    {
        var weight = new float[64 * 32];
        Initializer.Fill(weight, [], init, Fan.In, 0, 64, 32, seed, path);
        return weight;
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
