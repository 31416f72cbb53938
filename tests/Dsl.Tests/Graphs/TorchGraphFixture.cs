using System.Text.Json;
using Dsl.Graphs;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Graphs;

/// <summary>
/// Reading the PyTorch graph fixtures (graphs.json, batchnorm.json): the layers a case lists, its tensors loaded
/// through the layer views, and the comparison of a tensor with PyTorch's.
/// </summary>
internal static class TorchGraphFixture
{
    /// <summary>
    /// Checks the network's layers against the case's list (paths, kinds, widths, bias, activation) and loads the case's
    /// initial parameters through each layer's Weight, Gain or Bias view into a buffer filled with NaN first, so a
    /// parameter the views miss spoils every result.
    /// </summary>
    public static void LoadParameters(GraphNetwork network, JsonElement fixture)
    {
        JsonElement[] layers = fixture.GetProperty("layers").EnumerateArray().ToArray();
        // The fixture lists the layers PyTorch has modules for; the residual adds are the network's layers too.
        Layer[] modules = [.. network.Layers.Where(l => l.Kind != LayerKind.Add)];
        Assert.Equal(layers.Select(l => l.GetProperty("path").GetString()), modules.Select(l => l.Name));
        for (int i = 0; i < layers.Length; i++)
        {
            Layer layer = modules[i];
            LayerKind kind = layers[i].GetProperty("kind").GetString() switch
            {
                "dense" => LayerKind.Dense,
                "layer_norm" => LayerKind.LayerNorm,
                "batch_norm" => LayerKind.BatchNorm,
                _ => LayerKind.Activation,
            };
            Assert.Equal(kind, layer.Kind);
            Assert.Equal(layers[i].GetProperty("fan_in").GetInt32(), layer.FanIn);
            Assert.Equal(layers[i].GetProperty("units").GetInt32(), layer.Units);
            Assert.Equal(layers[i].GetProperty("bias").GetBoolean(), layer.HasBias);
            Assert.Equal(layers[i].GetProperty("activation").GetString(), layer.Activation.ToString().ToLowerInvariant());
        }

        Assert.Equal(fixture.GetProperty("input").GetInt32(), network.InputSize);
        Assert.Equal(fixture.GetProperty("classes").GetInt32(), network.OutputSize);
        network.Parameters.Fill(float.NaN);
        foreach (JsonElement tensor in fixture.GetProperty("params").EnumerateArray())
        {
            Layer layer = Find(network, tensor.GetProperty("path").GetString()!);
            Span<float> view = tensor.GetProperty("name").GetString() switch
            {
                "weight" => layer.Weight,
                "gain" => layer.Gain,
                _ => layer.Bias,
            };
            float[] values = Floats(tensor.GetProperty("values"));
            Assert.Equal(values.Length, view.Length);
            values.CopyTo(view);
        }

        Assert.DoesNotContain(network.Parameters.ToArray(), float.IsNaN);
    }

    public static Layer Find(GraphNetwork network, string path) => network.Layers.Single(l => l.Name == path);

    public static string Describe(JsonElement tensor) => $"{tensor.GetProperty("path").GetString()}.{tensor.GetProperty("name").GetString()}";

    /// <summary>The tensors' values one after another: the fixture lists them in our parameter order.</summary>
    public static float[] Concatenate(JsonElement tensors) => tensors.EnumerateArray().SelectMany(t => Floats(t.GetProperty("values"))).ToArray();

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    public static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>Within <paramref name="relative"/> times the largest magnitude of the expected tensor; logs the largest relative error.</summary>
    public static void Check(ITestOutputHelper output, double relative, float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        Assert.True(scale > 0, what + ": all-zero fixture");
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            worst = Math.Max(worst, error / scale);
            Assert.True(error <= relative * scale, $"{what}[{i}]: {actual[i]} vs PyTorch {expected[i]} (error {error:E2}, allowed {relative * scale:E2})");
        }

        output.WriteLine($"{what}: max error {worst:E2} of the largest magnitude {scale:G4}");
    }
}
