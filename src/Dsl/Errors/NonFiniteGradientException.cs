using System.Globalization;

namespace Dsl;

/// <summary>
/// A training step whose loss was finite but whose backward pass overflowed: a gradient is NaN or infinite. Thrown
/// before the optimizer's update, so the parameters, the optimizer's state and its step count are those from before
/// the step; <c>Gradients</c> holds what the backward pass computed, for inspection.
/// </summary>
public sealed class NonFiniteGradientException : ArithmeticException
{
    public NonFiniteGradientException(string layer, string parameter, int row, int column, float value)
        : base(string.Create(CultureInfo.InvariantCulture, $"The gradient of {parameter} of layer '{layer}' is {FiniteChecks.Describe(value)} at [{row}, {column}]: the backward pass overflowed float32. The parameters and the optimizer were not changed."))
    {
        Layer = layer;
        Parameter = parameter;
        Row = row;
        Column = column;
        Value = value;
    }

    /// <summary>The layer (its property name) whose parameter has the first non-finite gradient.</summary>
    public string Layer { get; }

    /// <summary>"Weight" or "Bias".</summary>
    public string Parameter { get; }

    /// <summary>The weight's row (output unit), or the bias's index.</summary>
    public int Row { get; }

    /// <summary>The weight's column (input); 0 for a bias.</summary>
    public int Column { get; }

    /// <summary>NaN, +Infinity or -Infinity.</summary>
    public float Value { get; }
}
