namespace Dsl;

/// <summary>A batch with no samples: there is nothing to predict or train on, and a mean loss would be undefined.</summary>
public sealed class EmptyBatchException : ArgumentException
{
    public EmptyBatchException(string parameterName)
        : base($"'{parameterName}' holds no samples; a batch needs at least one.", parameterName)
    {
    }
}
