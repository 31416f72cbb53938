namespace Dsl.Training;

/// <summary>Parameters [Start, Start + Length) of a network's parameter buffer.</summary>
internal readonly record struct ParameterRange(int Start, int Length)
{
    /// <summary>One past the last parameter.</summary>
    public int End => Start + Length;
}
