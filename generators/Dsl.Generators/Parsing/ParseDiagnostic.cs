using Microsoft.CodeAnalysis;

namespace Dsl.Generators.Parsing;

/// <summary>
/// A problem found while parsing a declaration. Holds a <see cref="Location"/>, so it never enters a
/// generator model: the generator only checks that there are none, and the analyzer reports them.
/// <paramref name="Fix"/> names the mechanical fix a code fix can apply (one of <see cref="ParseDiagnostic"/>'s
/// constants), carried to the reported diagnostic as its <see cref="FixProperty"/> property; null when none applies.
/// </summary>
internal readonly record struct ParseDiagnostic(string Id, Location Location, string Message, string? Fix = null)
{
    /// <summary>The diagnostic property that carries <see cref="Fix"/>.</summary>
    public const string FixProperty = "DslFix";

    /// <summary>Insert a flatten layer before the property the diagnostic is at.</summary>
    public const string InsertFlatten = "InsertFlatten";

    /// <summary>A signal diagnostic's fix: the property naming the attribute argument to set (Init, Bias, Scale).</summary>
    public const string FixArgumentProperty = "DslFixArgument";

    /// <summary>The property holding the C# expression the argument is set to, on the diagnostic's attribute and on each additional location's.</summary>
    public const string FixValueProperty = "DslFixValue";
}
