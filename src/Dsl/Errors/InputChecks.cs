using System.Globalization;

namespace Dsl;

/// <summary>
/// The argument checks generated methods run before touching any state, each throwing a typed
/// exception that names the expected and the actual value.
/// </summary>
public static class InputChecks
{
    /// <summary>Returns the number of samples in a flat (batch, sampleSize) buffer of <paramref name="length"/> floats.</summary>
    /// <exception cref="EmptyBatchException">length is 0.</exception>
    /// <exception cref="ShapeMismatchException">length is not a multiple of sampleSize.</exception>
    public static int BatchSize(int length, int sampleSize, string parameterName)
    {
        if (length == 0)
        {
            throw new EmptyBatchException(parameterName);
        }

        if (length % sampleSize != 0)
        {
            throw new ShapeMismatchException(
                parameterName,
                string.Create(CultureInfo.InvariantCulture, $"a multiple of {sampleSize} floats (batch, {sampleSize})"),
                string.Create(CultureInfo.InvariantCulture, $"{length} floats ({length / sampleSize} samples and {length % sampleSize} left over)"));
        }

        return length / sampleSize;
    }

    /// <exception cref="ShapeMismatchException">actual differs from expected.</exception>
    public static void Length(int actual, int expected, string parameterName)
    {
        if (actual != expected)
        {
            throw new ShapeMismatchException(
                parameterName,
                string.Create(CultureInfo.InvariantCulture, $"{expected} elements"),
                string.Create(CultureInfo.InvariantCulture, $"{actual} elements"));
        }
    }

    /// <summary>Checks one label per sample, each in [0, classes).</summary>
    /// <exception cref="ShapeMismatchException">labels.Length differs from batch.</exception>
    /// <exception cref="LabelOutOfRangeException">a label is outside [0, classes).</exception>
    public static void Labels(ReadOnlySpan<int> labels, int batch, int classes, string parameterName)
    {
        if (labels.Length != batch)
        {
            throw new ShapeMismatchException(
                parameterName,
                string.Create(CultureInfo.InvariantCulture, $"one label per sample ({batch})"),
                string.Create(CultureInfo.InvariantCulture, $"{labels.Length} labels"));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                throw new LabelOutOfRangeException(parameterName, i, labels[i], classes);
            }
        }
    }

    /// <exception cref="ArgumentOutOfRangeException">value is zero or negative.</exception>
    public static void Positive(int value, string parameterName)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(parameterName, value, $"'{parameterName}' must be positive.");
        }
    }
}
