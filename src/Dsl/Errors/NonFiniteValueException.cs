using System.Globalization;

namespace Dsl;

/// <summary>
/// A NaN or an infinity in the inputs or targets of a training step, an evaluation or a data set. Thrown before
/// anything changes; names the first bad value by row (sample) and column (element of the sample).
/// </summary>
public sealed class NonFiniteValueException : ArgumentException
{
    public NonFiniteValueException(string parameterName, int row, int column, float value)
        : base(string.Create(CultureInfo.InvariantCulture, $"'{parameterName}' holds {FiniteChecks.Describe(value)} at row {row}, column {column}; training and evaluation take finite values only. Nothing was changed."), parameterName)
    {
        Row = row;
        Column = column;
        Value = value;
    }

    /// <summary>The sample (row of the batch or data set) that holds the first non-finite value.</summary>
    public int Row { get; }

    /// <summary>Its position within the sample.</summary>
    public int Column { get; }

    /// <summary>NaN, +Infinity or -Infinity.</summary>
    public float Value { get; }
}
