using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Dsl;

/// <summary>
/// The checks that keep NaN and infinity out of a network's parameters. Generated training steps check the batch's
/// inputs and targets before anything else, the loss after the forward pass (before the backward pass writes a
/// gradient), and on the CPU the gradients before the optimizer's update; each failure throws its typed exception
/// with nothing changed.
/// </summary>
public static class FiniteChecks
{
    /// <summary>Throws unless every value of a (rows, <paramref name="width"/>) buffer is finite.</summary>
    /// <exception cref="NonFiniteValueException">The first non-finite value, by row and column.</exception>
    public static void Values(ReadOnlySpan<float> values, int width, string parameterName)
    {
        int at = IndexOfNonFinite(values);
        if (at >= 0)
        {
            throw new NonFiniteValueException(parameterName, at / width, at % width, values[at]);
        }
    }

    /// <summary>Throws unless the step's mean loss is finite.</summary>
    /// <exception cref="NonFiniteLossException">It is NaN or infinite.</exception>
    public static void Loss(float loss)
    {
        if (!float.IsFinite(loss))
        {
            throw new NonFiniteLossException(loss);
        }
    }

    /// <summary>Throws unless every gradient of the network's parameter buffer (laid out as <paramref name="layers"/> say) is finite.</summary>
    /// <exception cref="NonFiniteGradientException">The first non-finite gradient, by layer, parameter, row and column.</exception>
    public static void Gradients(ReadOnlySpan<float> gradients, IReadOnlyList<Layer> layers)
    {
        int at = IndexOfNonFinite(gradients);
        if (at < 0)
        {
            return;
        }

        foreach (Layer layer in layers)
        {
            int weight = at - layer.WeightOffset;
            if (weight >= 0 && weight < layer.WeightLength)
            {
                // A dense weight is (Units, FanIn); a convolution's (OutChannels, InChannels / Groups * kernel taps); a norm's gain is one row.
                int columns = layer.WeightRowLength;
                throw new NonFiniteGradientException(layer.Name, layer.Kind is LayerKind.Dense or LayerKind.Conv1d or LayerKind.Conv2d ? "Weight" : "Gain", weight / columns, weight % columns, gradients[at]);
            }

            int bias = at - layer.BiasOffset;
            if (layer.HasBias && bias >= 0 && bias < layer.BiasLength)
            {
                throw new NonFiniteGradientException(layer.Name, "Bias", bias, 0, gradients[at]);
            }
        }

        throw new NonFiniteGradientException("(none)", "parameter " + at.ToString(CultureInfo.InvariantCulture), at, 0, gradients[at]);
    }

    /// <summary>The index of the first NaN or infinity, or -1 when every value is finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        // x - x is 0 for every finite x and NaN for NaN and the infinities, and NaN survives addition: one
        // compare per four vectors finds whether a block holds one, and the scalar loop finds which.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ref float start = ref MemoryMarshal.GetReference(values);
            int width = Vector<float>.Count;
            for (; i <= values.Length - (4 * width); i += 4 * width)
            {
                Vector<float> a = Vector.LoadUnsafe(ref start, (nuint)i);
                Vector<float> b = Vector.LoadUnsafe(ref start, (nuint)(i + width));
                Vector<float> c = Vector.LoadUnsafe(ref start, (nuint)(i + (2 * width)));
                Vector<float> d = Vector.LoadUnsafe(ref start, (nuint)(i + (3 * width)));
                Vector<float> any = (a - a) + (b - b) + (c - c) + (d - d);
                if (!Vector.EqualsAll(any, Vector<float>.Zero))
                {
                    break;
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>"NaN", "+Infinity" or "-Infinity" (or the number, for a finite one).</summary>
    public static string Describe(float value)
        => float.IsNaN(value) ? "NaN" : float.IsPositiveInfinity(value) ? "+Infinity" : float.IsNegativeInfinity(value) ? "-Infinity" : value.ToString("R", CultureInfo.InvariantCulture);
}
