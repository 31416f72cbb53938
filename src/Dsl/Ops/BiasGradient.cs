using System.Globalization;
using System.Numerics.Tensors;

namespace Dsl.Ops;

/// <summary>
/// The bias gradient of a dense layer: dBias[j] = sum over the batch of dPreActivation[i, j] (a column sum),
/// accumulated row by row in float, eight columns per instruction.
/// </summary>
public static class BiasGradient
{
    /// <summary>Overwrites <paramref name="dBias"/> with the column sums of <paramref name="dPreActivation"/>.</summary>
    /// <param name="dBias">d loss / d bias, (units); overwritten.</param>
    /// <param name="dPreActivation">d loss / d z, (batch, units), row-major.</param>
    /// <param name="batch">Rows; zero gives a zero gradient.</param>
    /// <param name="units">Columns.</param>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions.</exception>
    public static void Compute(Span<float> dBias, ReadOnlySpan<float> dPreActivation, int batch, int units)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        if (dBias.Length != units || dPreActivation.Length != (long)batch * units)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected dBias ({units}) and dPreActivation ({batch}, {units}); got {dBias.Length} and {dPreActivation.Length} floats."));
        }

        if (batch == 0)
        {
            dBias.Clear();
            return;
        }

        dPreActivation[..units].CopyTo(dBias);
        for (int i = 1; i < batch; i++)
        {
            TensorPrimitives.Add(dBias, dPreActivation.Slice(i * units, units), dBias);
        }
    }
}
