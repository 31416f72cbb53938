using System.Globalization;
using System.Text;

namespace Dsl;

/// <summary>
/// One value of a network at initialisation, predicted or measured: its second moment E[v^2] and mean E[v] per
/// element (<see cref="Forward"/>, <see cref="Mean"/>), and the second moment per element of the loss gradient that
/// reaches it (<see cref="Backward"/>) when the network's output receives a unit Gaussian gradient.
/// </summary>
/// <param name="Path">The layer that writes the value (<c>Blocks[3].Up</c>); empty for the network's input.</param>
/// <param name="Width">Floats of the value per sample.</param>
public readonly record struct SignalMoment(string Path, int Width, double Forward, double Mean, double Backward)
{
    /// <summary>The gradient's squared norm per sample, <see cref="Backward"/> times <see cref="Width"/>.</summary>
    public double GradientNorm => Backward * Width;
}

/// <summary>
/// The moments of every value of a network at initialisation, in the order the layers run: the input first (second
/// moment 1 for standardised inputs), the output last. <see cref="Graphs.GraphNetwork.PredictSignal"/> predicts them from the
/// declaration, as the analyzers do; <see cref="Graphs.GraphNetwork.MeasureSignal"/> measures them with the runtime.
/// </summary>
public sealed class SignalReport
{
    internal SignalReport(SignalMoment[] values) => Values = values;

    public IReadOnlyList<SignalMoment> Values { get; }

    /// <summary>The output's second moment over the input's.</summary>
    public double ForwardGain => Values[^1].Forward / Values[0].Forward;

    /// <summary>The input gradient's squared norm over the output gradient's, per sample.</summary>
    public double BackwardGain => Values[0].GradientNorm / Values[^1].GradientNorm;

    /// <summary>One line per value: path, width, E[v^2], E[v], E[g^2] and the gradient's squared norm.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"forward gain {ForwardGain:G4}, backward gain {BackwardGain:G4}\n");
        text.Append("value | width | E[v^2] | E[v] | E[g^2] | |g|^2\n");
        foreach (SignalMoment value in Values)
        {
            text.Append(CultureInfo.InvariantCulture, $"{(value.Path.Length == 0 ? "input" : value.Path)} | {value.Width} | {value.Forward:G4} | {value.Mean:G4} | {value.Backward:G4} | {value.GradientNorm:G4}\n");
        }

        return text.ToString();
    }
}
