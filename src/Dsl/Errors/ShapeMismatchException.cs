namespace Dsl;

/// <summary>An argument's length or shape does not match what the network expects.</summary>
public sealed class ShapeMismatchException : ArgumentException
{
    public ShapeMismatchException(string parameterName, string expected, string actual)
        : base($"'{parameterName}' has the wrong shape: expected {expected}, got {actual}.", parameterName)
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>What was expected, in words (e.g. "a multiple of 40 floats (batch, 40)").</summary>
    public string Expected { get; }

    /// <summary>What was passed (e.g. "41 floats").</summary>
    public string Actual { get; }
}
