namespace Dsl;

/// <summary>What is wrong with a parameter file (see <see cref="ParameterFileException"/>).</summary>
public enum ParameterFileProblem
{
    /// <summary>The bytes do not start with the parameter file's magic: not a file written by <c>ParameterFile.Save</c>.</summary>
    NotAParameterFile,

    /// <summary>A format version this library does not read (written by a newer one).</summary>
    UnsupportedVersion,

    /// <summary>The stream ended before the file did.</summary>
    Truncated,

    /// <summary>The bytes are complete but inconsistent: a length out of range, a checksum that does not match, bytes after the end.</summary>
    Corrupt,

    /// <summary>The file is intact but holds another network's parameters: the layers, their widths or activations, or the input differ.</summary>
    NetworkMismatch,

    /// <summary>A training checkpoint is intact but holds another optimizer's state: another type, or SGD with and without momentum.</summary>
    OptimizerMismatch,
}

/// <summary>
/// A parameter file or training checkpoint could not be loaded; <see cref="Problem"/> says why and the message names the details
/// (the offset, the expected and actual values, the layer that differs). A refused load changes nothing.
/// </summary>
public sealed class ParameterFileException : IOException
{
    public ParameterFileException(ParameterFileProblem problem, string message)
        : base(message)
    {
        Problem = problem;
    }

    /// <summary>Which kind of problem it is.</summary>
    public ParameterFileProblem Problem { get; }
}
