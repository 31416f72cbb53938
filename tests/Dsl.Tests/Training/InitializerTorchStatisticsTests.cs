using System.Text.Json;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary>
/// Each initialiser against PyTorch's on the same (256 out, 384 in) weight (tests/fixtures/torch/init_stats.json):
/// the empirical variance agrees with PyTorch's empirical variance, and uniform initialisers share its bound.
/// </summary>
public sealed class InitializerTorchStatisticsTests
{
    private const int FanOut = 256;
    private const int FanIn = 384;

    [Theory]
    [InlineData("torch_default", Init.TorchDefault, Fan.In, 0.0)]
    [InlineData("he_normal_fan_in", Init.He, Fan.In, 0.0)]
    [InlineData("he_normal_fan_out", Init.He, Fan.Out, 0.0)]
    [InlineData("he_uniform_fan_in", Init.HeUniform, Fan.In, 0.0)]
    [InlineData("he_uniform_fan_out", Init.HeUniform, Fan.Out, 0.0)]
    [InlineData("xavier_normal", Init.Xavier, Fan.In, 0.0)]
    [InlineData("xavier_uniform", Init.XavierUniform, Fan.In, 0.0)]
    [InlineData("lecun_normal", Init.LeCun, Fan.In, 0.0)]
    [InlineData("zero", Init.Zero, Fan.In, 0.0)]
    [InlineData("normal_0.02", Init.Normal, Fan.In, 0.02)]
    public void Variance_and_bounds_match_pytorch(string name, Init init, Fan fan, double std)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", "init_stats.json")));
        JsonElement root = json.RootElement;
        Assert.Equal(FanIn, root.GetProperty("fan_in").GetInt32());
        Assert.Equal(FanOut, root.GetProperty("fan_out").GetInt32());
        JsonElement torch = root.GetProperty("inits").GetProperty(name);

        var weight = new float[FanOut * FanIn];
        Initializer.Fill(weight, [], init, fan, std, FanIn, FanOut, seed: 3, path: "Layer0");
        double mean = weight.Average(v => (double)v);
        double variance = weight.Average(v => (v - mean) * (v - mean));

        double torchVariance = torch.GetProperty("var").GetDouble();
        Assert.Equal(torch.GetProperty("expected_var").GetDouble(), Initializer.Variance(init, fan, std, FanIn, FanOut), 12);
        if (torchVariance == 0)
        {
            Assert.All(weight, v => Assert.Equal(0f, v));
            return;
        }

        // 98,304 draws: the standard error of a variance estimate is ~0.45% (normal) or less (uniform);
        // two such estimates (ours and PyTorch's) agree within 3%.
        Assert.InRange(variance / torchVariance, 0.97, 1.03);
        Assert.InRange(Math.Abs(mean), 0, 4 * Math.Sqrt(torchVariance / weight.Length));
        if (torch.TryGetProperty("bound", out JsonElement bound))
        {
            double b = bound.GetDouble();
            Assert.All(weight, v => Assert.InRange(v, -b - 1e-7, b + 1e-7));
            Assert.True(weight.Max() > 0.99 * b && weight.Min() < -0.99 * b, "a uniform draw this large reaches close to both bounds");
            Assert.Equal(torch.GetProperty("max").GetDouble(), weight.Max(), 2);
        }
    }

    [Fact]
    public void Torch_default_bias_has_pytorchs_bound()
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", "init_stats.json")));
        JsonElement torch = json.RootElement.GetProperty("torch_default_bias");
        double bound = torch.GetProperty("bound").GetDouble();
        Assert.Equal(1 / Math.Sqrt(FanIn), bound, 12);

        var weight = new float[FanOut * FanIn];
        var bias = new float[FanOut];
        Initializer.Fill(weight, bias, Init.TorchDefault, Fan.In, 0, FanIn, FanOut, seed: 3, path: "Layer0");
        Assert.All(bias, v => Assert.InRange(v, -bound, bound));
        Assert.True(bias.Distinct().Count() > FanOut / 2, "biases are drawn, not constant");
        Assert.InRange(torch.GetProperty("max").GetDouble(), 0, bound);
    }
}
