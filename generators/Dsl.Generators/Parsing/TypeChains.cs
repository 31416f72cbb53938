using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Dsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.Generators.Parsing;

/// <summary>
/// The declaration chain a generated part of a type repeats: its namespace and every type header from the
/// outermost containing type to the type itself.
/// </summary>
internal static class TypeChains
{
    /// <summary>
    /// The chain, or null when some type in it cannot take another part: a declaration without <c>partial</c>, a
    /// file-local type (its parts must all be in one file), or a type not declared in source.
    /// </summary>
    public static TypeChainSpec? TryCreate(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var headers = new List<TypeHeaderSpec>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            TypeHeaderSpec? header = Header(current, cancellationToken);
            if (header is null)
            {
                return null;
            }

            headers.Insert(0, header);
        }

        return new TypeChainSpec(CSharpNames.Namespace(type.ContainingNamespace), new EquatableArray<TypeHeaderSpec>(headers));
    }

    /// <summary>Whether every declaration of the type says <c>partial</c> (and there is one in source).</summary>
    public static bool IsPartialEverywhere(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        if (type.DeclaringSyntaxReferences.Length == 0)
        {
            return false;
        }

        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax declaration || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return false;
            }
        }

        return true;
    }

    private static TypeHeaderSpec? Header(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        if (type.IsFileLocal || !IsPartialEverywhere(type, cancellationToken))
        {
            return null;
        }

        var declaration = (TypeDeclarationSyntax)type.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken);
        string? keyword = declaration switch
        {
            RecordDeclarationSyntax record => record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
            ClassDeclarationSyntax => "class",
            StructDeclarationSyntax => "struct",
            InterfaceDeclarationSyntax => "interface",
            _ => null,
        };
        if (keyword is null)
        {
            return null;
        }

        // Partial declarations must repeat the type parameters' names and, on an interface, their variance (anywhere
        // else variance is the user's own error, CS1960, and is not copied).
        bool isInterface = type.TypeKind == TypeKind.Interface;
        string typeParameters = type.TypeParameters.Length == 0
            ? string.Empty
            : "<" + string.Join(", ", type.TypeParameters.Select(p => (isInterface ? Variance(p) : string.Empty) + CSharpNames.Identifier(p.Name))) + ">";
        return new TypeHeaderSpec(keyword, CSharpNames.Identifier(type.Name), typeParameters);
    }

    private static string Variance(ITypeParameterSymbol parameter) => parameter.Variance switch
    {
        VarianceKind.In => "in ",
        VarianceKind.Out => "out ",
        _ => string.Empty,
    };
}
