using Xunit;

namespace Dsl.Tests.Signal;

/// <summary>A residual branch whose last dense layer has no activation: its add is fused into that layer's GEMM.</summary>
[Block]
public sealed partial class MeasuredBranch
{
    [Dense(6, Init = Init.He), Tanh] public partial Layer Up { get; }
    [Dense(6, Init = Init.He)] public partial Layer Down { get; }
}

/// <summary>
/// Every fusion the CPU plan makes: a dense layer's derivative applied by its consumer's dX GEMM (Hidden into Second),
/// a residual add in the branch's last GEMM, a dense layer reading the input.
/// </summary>
[Network(Input = [5])]
public sealed partial class MeasuredNet
{
    [Dense(6, Init = Init.He), Relu] public partial Layer Hidden { get; }
    [Dense(6, Init = Init.He), Gelu] public partial Layer Second { get; }
    [Residual(Scale = 0.5)] public partial MeasuredBranch Body { get; }
    [LayerNorm] public partial Layer Norm { get; }
    [Dense(3, Init = Init.He)] public partial Layer Head { get; }
}

[Network(Input = [5])]
public sealed partial class MeasuredBatchNormNet
{
    [Dense(7, Init = Init.He, Bias = false)] public partial Layer Hidden { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Relu] public partial Layer Act { get; }
    [Dropout(0.25)] public partial Layer Drop { get; }
    [Dense(3, Init = Init.He)] public partial Layer Head { get; }
}

/// <summary>
/// <see cref="Graphs.GraphNetwork.MeasureSignal"/> against a float64 reference built from the network's own outputs:
/// the forward moments of the output from <see cref="INetwork.Predict"/>, the input gradient's second moment from
/// central finite differences of sum(g * y); it changes nothing the network keeps; it refuses GPUs and one-row
/// batches of a BatchNorm network with typed errors.
/// </summary>
public sealed class MeasureSignalTests
{
    [Fact]
    public void TheMeasuredMomentsAreThoseOfTheOutputsAndOfTheFiniteDifferenceInputGradient()
    {
        using var network = new MeasuredNet(Device.Cpu(1), seed: 7);
        const int batch = 3;
        var random = new Random(11);
        float[] x = Enumerable.Range(0, batch * 5).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        float[] g = Enumerable.Range(0, batch * 3).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        SignalReport report = network.MeasureSignal(x, g);

        var y = new float[batch * 3];
        network.Predict(x, y);
        Assert.Equal(y.Average(v => (double)v * v), report.Values[^1].Forward, 1e-6);
        Assert.Equal(y.Average(v => (double)v), report.Values[^1].Mean, 1e-6);
        Assert.Equal(g.Average(v => (double)v * v), report.Values[^1].Backward, 1e-7);
        Assert.Equal(x.Average(v => (double)v * v), report.Values[0].Forward, 1e-7);

        // d sum(g y) / dx by central differences; the layers are smooth where the inputs are (ReLU's kink aside, which
        // random inputs miss at this step).
        double squares = 0;
        const float step = 1e-2f;
        var shifted = (float[])x.Clone();
        var up = new float[y.Length];
        var down = new float[y.Length];
        for (int i = 0; i < x.Length; i++)
        {
            shifted[i] = x[i] + step;
            network.Predict(shifted, up);
            shifted[i] = x[i] - step;
            network.Predict(shifted, down);
            shifted[i] = x[i];
            double derivative = 0;
            for (int j = 0; j < y.Length; j++)
            {
                derivative += g[j] * ((double)up[j] - down[j]) / (2 * step);
            }

            squares += derivative * derivative;
        }

        double reference = squares / x.Length;
        Assert.True(Math.Abs(report.Values[0].Backward - reference) <= 2e-3 * reference, $"measured {report.Values[0].Backward}, finite differences {reference}");
        Assert.Equal(network.PredictSignal().Values.Select(v => v.Path), report.Values.Select(v => v.Path));
        Assert.Equal(["", "Hidden", "Second", "Body.Up", "Body.Down", "Body", "Norm", "Head"], report.Values.Select(v => v.Path));
    }

    [Fact]
    public void MeasuringChangesNoParameterGradientOrRunningStatistic()
    {
        using var network = new MeasuredBatchNormNet(Device.Cpu(1), seed: 3);
        var random = new Random(5);
        float[] x = Enumerable.Range(0, 8 * 5).Select(_ => (float)random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, 8).Select(i => i % 3).ToArray();
        network.ComputeGradients(x, labels);
        Layer norm = network.Layers.Single(l => l.Kind == LayerKind.BatchNorm);
        float[] parameters = network.Parameters.ToArray(), gradients = network.Gradients.ToArray();
        float[] mean = norm.RunningMean.ToArray(), variance = norm.RunningVariance.ToArray();
        float loss = network.LastLoss;

        SignalReport report = network.MeasureSignal(x, Enumerable.Repeat(1f, 8 * 3).ToArray());
        Assert.Equal(parameters, network.Parameters.ToArray());
        Assert.Equal(gradients, network.Gradients.ToArray());
        Assert.Equal(mean, norm.RunningMean.ToArray());
        Assert.Equal(variance, norm.RunningVariance.ToArray());
        Assert.Equal(loss, network.LastLoss);
        // Training mode: dropout keeps 3 in 4 and scales by 4/3, so some of its outputs are zero.
        Assert.True(report.Values[4].Forward > 0);
    }

    [Fact]
    public void ABatchNormNetworkRefusesOneRowAndAGpuNetworkRefusesToMeasure()
    {
        using var network = new MeasuredBatchNormNet(Device.Cpu(1), seed: 3);
        var oneRow = Assert.Throws<ShapeMismatchException>(() => network.MeasureSignal(new float[5], new float[3]));
        Assert.Contains("at least 2 samples", oneRow.Message, StringComparison.Ordinal);
        Assert.Throws<ShapeMismatchException>(() => network.MeasureSignal(new float[10], new float[5]));

        using Device gpu = Device.GpuSimulator();
        using var onGpu = new MeasuredNet(gpu, seed: 1);
        var refused = Assert.Throws<NotSupportedException>(() => onGpu.MeasureSignal(new float[5], new float[3]));
        Assert.Contains("MeasureSignal runs on the CPU backend", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThePredictionNeedsABatchOfAtLeastFourAndPrintsOneLinePerValue()
    {
        using var network = new MeasuredNet(Device.Cpu(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => network.PredictSignal(3));
        string text = network.PredictSignal().ToString();
        Assert.StartsWith("forward gain ", text, StringComparison.Ordinal);
        Assert.Equal(2 + 8, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
