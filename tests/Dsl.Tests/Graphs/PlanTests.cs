using System.Runtime.CompilerServices;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Graphs;

/// <summary>
/// The plan of a network as it runs (<see cref="INetwork.Plan"/>: values, ops, parameter offsets, the backward's
/// accumulations and fusions) against the text in Plans/NAME.txt, the runtime's half of the generator's snapshots.
/// On a mismatch the new text is written beside it as NAME.received.txt.
/// </summary>
public sealed class PlanTests
{
    [Fact]
    public void A_dense_chain_fuses_each_derivative_into_the_next_layers_dx_gemm()
    {
        using Device device = Device.Cpu(1);
        using var network = new Mnist1dMlp(device);
        AssertMatches("Mnist1dMlp", network.Plan);
        Assert.Equal("Mnist1dMlp: 40 -> 10, 3 steps, 15,210 parameters on cpu (1 thread)", network.ToString());
    }

    [Fact]
    public void A_residual_network_accumulates_its_skips_and_fuses_its_standalone_activation()
    {
        using Device device = Device.Cpu(1);
        using var network = new PlanNet(device);
        AssertMatches("PlanNet", network.Plan);
    }

    private static void AssertMatches(string name, string actual, [CallerFilePath] string thisFile = "")
    {
        string directory = Path.Combine(Path.GetDirectoryName(thisFile)!, "Plans");
        string expectedPath = Path.Combine(directory, name + ".txt");
        string receivedPath = Path.Combine(directory, name + ".received.txt");
        string? expected = File.Exists(expectedPath) ? File.ReadAllText(expectedPath) : null;
        if (expected != actual)
        {
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"The plan of {name} differs from {expectedPath}; the new one is in {receivedPath}.");
        }

        File.Delete(receivedPath);
    }
}
