using Dsl;
using Xunit;

namespace Dsl.Tests.Networks;

/// <summary>
/// Every generated network's analytic float32 gradients against central finite differences of the
/// float64 reference evaluation of the same declaration, at the same parameters.
/// </summary>
public sealed class GradientCheckTests
{
    public static TheoryData<string> Networks => ["NetA", "NetB", "NetC", "InitZoo", "ActivatedLogits", "Logistic", "Mnist1dMlp"];

    [Theory]
    [MemberData(nameof(Networks))]
    public void Gradients_match_central_differences_of_the_float64_reference(string name)
    {
        using Device device = Device.Cpu(1);
        INetwork network = Create(name, device, seed: 7);
        var random = new Random(11);
        int batch = 7;
        double[] x = Enumerable.Range(0, batch * network.InputSize).Select(_ => (random.NextDouble() * 4) - 2).ToArray();
        int[] labels = Enumerable.Range(0, batch).Select(_ => random.Next(network.OutputSize)).ToArray();
        double[] targets = Enumerable.Range(0, batch * network.OutputSize).Select(_ => random.NextDouble()).ToArray();
        if (network is Logistic)
        {
            // Zero init gives a flat loss surface; move off it so every gradient entry is exercised.
            for (int i = 0; i < network.Parameters.Length; i++)
            {
                network.Parameters[i] = (float)((random.NextDouble() * 0.2) - 0.1);
            }
        }

        float[] xf = x.Select(v => (float)v).ToArray();
        float loss = network switch
        {
            IClassifierNetwork classifier => classifier.ComputeGradients(xf, labels),
            IRegressionNetwork regression => regression.ComputeGradients(xf, targets.Select(v => (float)v).ToArray()),
            _ => throw new InvalidOperationException(),
        };

        double[] parameters = network.Parameters.ToArray().Select(v => (double)v).ToArray();
        double Loss(double[] p)
        {
            double[] outputs = ReferenceNetwork.Forward(network, p, x, batch);
            return network is IClassifierNetwork
                ? ReferenceNetwork.CrossEntropy(outputs, labels, network.OutputSize)
                : ReferenceNetwork.MeanSquaredError(outputs, targets);
        }

        double referenceLoss = Loss(parameters);
        Assert.Equal(referenceLoss, loss, 1e-5 * Math.Max(1, Math.Abs(referenceLoss)));

        float[] gradients = network.Gradients.ToArray();
        double largest = 0;
        var numeric = new double[parameters.Length];
        const double h = 1e-5;
        // Every parameter of the small networks; an evenly strided sample (every layer's weights and biases) of the large.
        int stride = parameters.Length > 3000 ? 13 : 1;
        var checkedIndices = Enumerable.Range(0, parameters.Length).Where(i => i % stride == 0).ToArray();
        foreach (int i in checkedIndices)
        {
            numeric[i] = Float64Reference.CentralDifference(parameters, i, h, Loss);
            largest = Math.Max(largest, Math.Abs(numeric[i]));
        }

        Assert.True(largest > 1e-4, $"{name}: gradients are all ~0 ({largest}); the check would be vacuous");
        foreach (int i in checkedIndices)
        {
            double tolerance = (1e-4 * largest) + (1e-3 * Math.Abs(numeric[i]));
            Assert.True(
                Math.Abs(gradients[i] - numeric[i]) <= tolerance,
                $"{name}: d loss / d parameter[{i}] = {gradients[i]}, finite differences {numeric[i]} (tolerance {tolerance})");
        }
    }

    internal static INetwork Create(string name, Device device, ulong seed) => name switch
    {
        "NetA" => new NetA(device, seed),
        "NetB" => new NetB(device, seed),
        "NetC" => new NetC(device, seed),
        "InitZoo" => new InitZoo(device, seed),
        "ActivatedLogits" => new ActivatedLogits(device, seed),
        "Logistic" => new Logistic(device, seed),
        "Mnist1dMlp" => new Mnist1dMlp(device, seed),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown test network"),
    };
}
