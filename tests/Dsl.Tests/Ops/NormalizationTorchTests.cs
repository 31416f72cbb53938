using System.Text.Json;
using Dsl.Ops;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>LayerNorm and RMSNorm, forward and backward, against PyTorch's values (tests/fixtures/torch/norms.json).</summary>
public sealed class NormalizationTorchTests
{
    public static TheoryData<string> Cases => ["layer_norm", "layer_norm_no_affine", "layer_norm_wide", "rms_norm", "rms_norm_no_gain"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_PyTorch(string name)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", "norms.json")));
        JsonElement fixture = json.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        int rows = fixture.GetProperty("rows").GetInt32();
        int features = fixture.GetProperty("features").GetInt32();
        float epsilon = (float)fixture.GetProperty("eps").GetDouble();
        float[] x = Floats(fixture, "x")!;
        float[] dy = Floats(fixture, "dy")!;
        float[]? gain = Floats(fixture, "gain");
        float[]? bias = Floats(fixture, "bias");

        var y = new float[rows * features];
        var dx = new float[rows * features];
        var dGain = new float[gain?.Length ?? 0];
        var dBias = new float[bias?.Length ?? 0];
        if (fixture.GetProperty("op").GetString() == "layer_norm")
        {
            var mean = new float[rows];
            var rstd = new float[rows];
            LayerNorm.Forward(y, mean, rstd, x, gain, bias, rows, features, epsilon);
            LayerNorm.Backward(dx, dGain, dBias, dy, x, mean, rstd, gain, new float[2 * features], rows, features, accumulate: false);
        }
        else
        {
            var rrms = new float[rows];
            RmsNorm.Forward(y, rrms, x, gain, rows, features, epsilon);
            RmsNorm.Backward(dx, dGain, dy, x, rrms, gain, new float[features], rows, features, accumulate: false);
        }

        AssertClose(Floats(fixture, "y")!, y, "y");
        AssertClose(Floats(fixture, "dx")!, dx, "dx");
        if (gain is not null)
        {
            AssertClose(Floats(fixture, "dgain")!, dGain, "dgain");
        }

        if (bias is not null)
        {
            AssertClose(Floats(fixture, "dbias")!, dBias, "dbias");
        }
    }

    /// <summary>Within 2e-5 relative to the larger of 1 and the value: float32 sums over a row in another order.</summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-5 * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: PyTorch {expected[i]}, ours {actual[i]}");
        }
    }

    private static float[]? Floats(JsonElement fixture, string property)
        => fixture.TryGetProperty(property, out JsonElement values) ? values.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray() : null;
}
