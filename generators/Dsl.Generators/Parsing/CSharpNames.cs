using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Dsl.Generators.Parsing;

/// <summary>How generated code writes the names it takes from user code.</summary>
internal static class CSharpNames
{
    /// <summary>
    /// A type's full name as written from <c>global::</c>, with nullability annotations and every keyword escaped:
    /// the form the generated code uses for the types of the members it implements.
    /// </summary>
    public static readonly SymbolDisplayFormat FullyQualified = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier | SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    /// <summary>An identifier as C# writes it: any keyword, reserved or contextual, gets an '@' (always legal, never ambiguous).</summary>
    public static string Identifier(string name)
        => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    /// <summary>The namespace as a <c>namespace</c> declaration writes it ("" for the global namespace), each part escaped.</summary>
    public static string Namespace(INamespaceSymbol? ns)
    {
        if (ns is null || ns.IsGlobalNamespace)
        {
            return string.Empty;
        }

        string outer = Namespace(ns.ContainingNamespace);
        return outer.Length == 0 ? Identifier(ns.Name) : outer + "." + Identifier(ns.Name);
    }

    /// <summary>The namespace's parts joined by '.', without escapes (for file names and messages).</summary>
    public static string PlainNamespace(INamespaceSymbol? ns)
    {
        if (ns is null || ns.IsGlobalNamespace)
        {
            return string.Empty;
        }

        string outer = PlainNamespace(ns.ContainingNamespace);
        return outer.Length == 0 ? ns.Name : outer + "." + ns.Name;
    }

    /// <summary>Whether a type, or any type it is built from (elements, arguments, pointees), failed to bind.</summary>
    public static bool ContainsErrorType(ITypeSymbol? type)
    {
        switch (type)
        {
            case null:
            case IErrorTypeSymbol:
                return true;
            case IArrayTypeSymbol array:
                return ContainsErrorType(array.ElementType);
            case IPointerTypeSymbol pointer:
                return ContainsErrorType(pointer.PointedAtType);
            case INamedTypeSymbol named:
                foreach (ITypeSymbol argument in named.TypeArguments)
                {
                    if (ContainsErrorType(argument))
                    {
                        return true;
                    }
                }

                return named.ContainingType is not null && ContainsErrorType(named.ContainingType);
            case IFunctionPointerTypeSymbol:
                // Written rarely enough that the generator does not try to reproduce it.
                return true;
            default:
                return false;
        }
    }
}
