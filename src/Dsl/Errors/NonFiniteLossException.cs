using System.Globalization;

namespace Dsl;

/// <summary>
/// A training step whose loss came out NaN or infinite from finite inputs: the parameters, or the inputs' scale, are
/// beyond what float32 holds (a diverging run, typically a learning rate too large). Thrown after the forward pass and
/// before the backward pass, so the parameters, the gradients, the optimizer's state and its step count are those
/// from before the step.
/// </summary>
public sealed class NonFiniteLossException : ArithmeticException
{
    public NonFiniteLossException(float loss)
        : base(string.Create(CultureInfo.InvariantCulture, $"The batch's mean loss is {FiniteChecks.Describe(loss)}: with finite inputs the parameters or the inputs are beyond float32's range (a diverging run: lower the learning rate). Nothing was changed."))
    {
        Loss = loss;
    }

    /// <summary>NaN, +Infinity or -Infinity.</summary>
    public float Loss { get; }
}
