namespace Dsl;

/// <summary>A class label outside [0, classes).</summary>
public sealed class LabelOutOfRangeException : ArgumentOutOfRangeException
{
    public LabelOutOfRangeException(string parameterName, int index, int label, int classes)
        : base(parameterName, label, $"Label {label} at index {index} is outside [0, {classes}).")
    {
        Index = index;
        Label = label;
        Classes = classes;
    }

    /// <summary>Position of the first bad label in the batch.</summary>
    public int Index { get; }

    public int Label { get; }

    public int Classes { get; }
}
