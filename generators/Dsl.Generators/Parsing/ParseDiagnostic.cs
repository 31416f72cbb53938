using Microsoft.CodeAnalysis;

namespace Dsl.Generators.Parsing;

/// <summary>
/// A problem found while parsing a declaration. Holds a <see cref="Location"/>, so it never enters a
/// generator model: the generator only checks that there are none, and the analyzer reports them.
/// </summary>
internal readonly record struct ParseDiagnostic(string Id, Location Location, string Message);
