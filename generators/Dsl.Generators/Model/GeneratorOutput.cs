namespace Dsl.Generators.Model;

// What the generator's transform hands to its output step for one [Network] type: plain values only.

/// <summary>
/// One [Network] type as the output step sees it: either a valid <see cref="NetworkSpec"/> (the whole
/// model is written), or a <see cref="FallbackSpec"/> (a part that implements the declared partial
/// members and throws, so the only errors the build shows are the DSL diagnostics), or neither (the
/// type cannot take a generated part at all).
/// </summary>
/// <param name="TypeKey">The type's metadata name (namespace, containing types with '+', arity with '`'): unique per type.</param>
/// <param name="HintName">The generated file's name before collisions are resolved (see Emit/HintNames).</param>
/// <param name="Diagnostics">
/// Problems the generator itself reports: only when the type cannot take a generated part and its partial members
/// stay unimplemented, so the compiler's declaration errors would hide the analyzer's diagnostics in a build.
/// </param>
internal sealed record NetworkOutput(
    string TypeKey,
    string HintName,
    NetworkSpec? Spec,
    FallbackSpec? Fallback,
    EquatableArray<DiagnosticInfo> Diagnostics,
    BlockSpec? Block = null);

/// <summary>
/// The part written for a declaration that yields no model: the type's declaration chain and, for every partial
/// property the generator owns, an implementation that throws <see cref="System.InvalidOperationException"/> with
/// <paramref name="Reason"/>.
/// </summary>
internal sealed record FallbackSpec(
    TypeChainSpec Type,
    string Reason,
    EquatableArray<PartialPropertySpec> Properties);

/// <summary>Where a type is declared: its namespace and the chain of (partial) type headers, outermost first, the type itself last.</summary>
/// <param name="Namespace">The namespace as C# writes it (keywords escaped), or "" for the global namespace.</param>
internal sealed record TypeChainSpec(string Namespace, EquatableArray<TypeHeaderSpec> Types);

/// <summary>One type header of a generated part: <c>partial {Keyword} {Name}{TypeParameters}</c>.</summary>
/// <param name="Keyword">"class", "struct", "interface", "record" or "record struct", with "ref"/"readonly" where the declaration has them.</param>
/// <param name="Name">The identifier as C# writes it (a keyword gets its '@').</param>
/// <param name="TypeParameters">"" or "&lt;T, U&gt;".</param>
internal sealed record TypeHeaderSpec(string Keyword, string Name, string TypeParameters);

/// <summary>
/// The implementing declaration of one partial property, written as its definition declares it: the same
/// modifiers, type (with its nullability), name or indexer parameters, and accessors.
/// </summary>
/// <param name="Header">Everything before the body, e.g. "public virtual partial global::Dsl.Layer? Hidden".</param>
/// <param name="Accessors">The accessors with their modifiers ("get", "private set", "init"); a lone plain "get" is written as an expression body.</param>
internal sealed record PartialPropertySpec(string Header, EquatableArray<string> Accessors)
{
    public bool IsGetOnly => Accessors.Count == 1 && Accessors[0] == "get";
}

/// <summary>A diagnostic as values: its ID, its whole message and where it points.</summary>
internal sealed record DiagnosticInfo(string Id, string Message, LocationInfo Location);

/// <summary>A source location as values (a <c>Location</c> would hold its syntax tree and defeat caching).</summary>
internal sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartCharacter, int EndLine, int EndCharacter);
