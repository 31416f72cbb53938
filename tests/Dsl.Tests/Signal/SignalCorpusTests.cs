using System.Globalization;
using System.Reflection;
using Dsl.Tests.Signal.Corpus;
using Xunit;
using Xunit.Abstractions;

namespace Dsl.Tests.Signal;

/// <summary>
/// The prediction must match reality: for every network of the corpus, the runtime measures its forward and backward
/// gains at initialisation (geometric mean over seeds) and the test checks the measured verdict against the network's
/// [Expect], the predicted verdict against it too, and the predicted gain within a factor of 2 of the measured one
/// wherever both lie in [1e-6, 1e6] (a network whose [Expect] names a miss must be one).
/// </summary>
public sealed class SignalCorpusTests(ITestOutputHelper output)
{
    private const int Batch = 128;
    private const int Seeds = 3;

    public static TheoryData<string> Networks()
    {
        var data = new TheoryData<string>();
        foreach (Type type in CorpusTypes())
        {
            data.Add(type.Name);
        }

        return data;
    }

    [Fact]
    public void TheCorpusHasAtLeastSixtyArchitectures() => Assert.True(CorpusTypes().Count() >= 60, $"{CorpusTypes().Count()} networks");

    [Theory]
    [MemberData(nameof(Networks))]
    public void PredictionMatchesMeasurement(string name)
    {
        Type type = CorpusTypes().Single(t => t.Name == name);
        Measurement measured = Measure(type);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: forward predicted {measured.PredictedForward:G3} measured {measured.Forward:G3}; backward predicted {measured.PredictedBackward:G3} measured {measured.Backward:G3}"));
        ExpectAttribute expected = type.GetCustomAttribute<ExpectAttribute>() ?? throw new InvalidOperationException($"{name} has no [Expect]");

        Assert.Equal(expected.Forward, VerdictOf(measured.Forward));
        Assert.Equal(expected.Backward, VerdictOf(measured.Backward));
        Assert.Equal(expected.Forward, VerdictOf(measured.PredictedForward));
        Assert.Equal(expected.Backward, VerdictOf(measured.PredictedBackward));
        bool forwardClose = WithinFactorTwo(measured.PredictedForward, measured.Forward);
        bool backwardClose = WithinFactorTwo(measured.PredictedBackward, measured.Backward);
        if (expected.Miss is null)
        {
            Assert.True(forwardClose, string.Create(CultureInfo.InvariantCulture, $"forward: predicted {measured.PredictedForward:G4}, measured {measured.Forward:G4}"));
            Assert.True(backwardClose, string.Create(CultureInfo.InvariantCulture, $"backward: predicted {measured.PredictedBackward:G4}, measured {measured.Backward:G4}"));
        }
        else
        {
            Assert.False(forwardClose && backwardClose, $"{name} is marked as a miss ({expected.Miss}) but its predictions are within a factor of 2: remove the mark");
        }
    }

    internal static IEnumerable<Type> CorpusTypes()
        => typeof(Verdict).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(Verdict).Namespace && t.GetCustomAttribute<NetworkAttribute>() is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    internal static Verdict VerdictOf(double gain) => gain > 10 ? Verdict.Explode : gain < 0.1 ? Verdict.Vanish : Verdict.Healthy;

    /// <summary>The gains measured over <see cref="Seeds"/> seeds (geometric means) and predicted from the declaration.</summary>
    internal static Measurement Measure(Type type)
    {
        double logForward = 0, logBackward = 0;
        SignalReport? prediction = null;
        for (int seed = 0; seed < Seeds; seed++)
        {
            using var network = (INetwork)Activator.CreateInstance(type, Device.Cpu(), (ulong)(seed + 1))!;
            prediction ??= network.PredictSignal(Batch);
            var random = new Random(1000 + seed);
            float[] inputs = Normal(random, Batch * network.InputSize);
            float[] gradients = Normal(random, Batch * network.OutputSize);
            SignalReport report = network.MeasureSignal(inputs, gradients);
            logForward += Math.Log(report.ForwardGain);
            logBackward += Math.Log(report.BackwardGain);
        }

        return new Measurement(Math.Exp(logForward / Seeds), Math.Exp(logBackward / Seeds), prediction!.ForwardGain, prediction.BackwardGain);
    }

    /// <summary>Whether the prediction is within a factor of 2 of the measurement, or either lies outside [1e-6, 1e6] (not compared).</summary>
    internal static bool WithinFactorTwo(double predicted, double measured)
        => predicted is < 1e-6 or > 1e6 || measured is < 1e-6 or > 1e6 || predicted / measured is >= 0.5 and <= 2;

    private static float[] Normal(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Box-Muller: a standard normal from two uniforms.
            double u = 1.0 - random.NextDouble(), v = random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }

        return values;
    }

    internal readonly record struct Measurement(double Forward, double Backward, double PredictedForward, double PredictedBackward);
}
