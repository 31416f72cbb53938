using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Dsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.Generators.Parsing;

/// <summary>
/// The partial properties a network's generated part implements, and their implementing declarations. A
/// property is the generator's when it is a partial definition (no body) that carries a Dsl layer attribute or
/// has the type <c>Dsl.Layer</c>; other partial members are the user's to implement.
/// </summary>
internal static class PartialProperties
{
    public const string LayerTypeName = "Dsl.Layer";

    /// <summary>
    /// Implementations for the generator's properties of <paramref name="type"/> that have none yet and that a part can
    /// implement without an error of its own: types that bind, no instance member in a static class, and no definition
    /// the compiler already reports an error at (a modifier it refuses, a second declaration of the same name), whose
    /// copy would repeat that error inside the generated file.
    /// </summary>
    public static List<PartialPropertySpec> Implementable(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellationToken)
    {
        var implementations = new List<PartialPropertySpec>();
        foreach (IPropertySymbol property in type.GetMembers().OfType<IPropertySymbol>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!IsOwnedByGenerator(property) || property.PartialImplementationPart is not null || (type.IsStatic && !property.IsStatic)
                || HasCompilerErrors(property, compilation, cancellationToken))
            {
                continue;
            }

            PartialPropertySpec? implementation = Implementation(property, cancellationToken);
            if (implementation is not null)
            {
                implementations.Add(implementation);
            }
        }

        // Two definitions of one signature are the user's error (CS0102, CS0111): implementing them would be another.
        return implementations.GroupBy(i => NameOf(i.Header)).Where(g => g.Count() == 1).Select(g => g.Single()).ToList();
    }

    /// <summary>
    /// Whether the compiler reports an error at the property's declaration (its modifiers, type, accessors) other than
    /// the missing implementation (CS9248) that the generator is there to supply.
    /// </summary>
    public static bool HasCompilerErrors(IPropertySymbol property, Compilation compilation, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in property.DeclaringSyntaxReferences)
        {
            if (!compilation.ContainsSyntaxTree(reference.SyntaxTree))
            {
                continue;
            }

            SemanticModel model = compilation.GetSemanticModel(reference.SyntaxTree);
            foreach (Diagnostic diagnostic in model.GetDeclarationDiagnostics(reference.Span, cancellationToken))
            {
                if (diagnostic.Severity == DiagnosticSeverity.Error && diagnostic.Id != "CS9248")
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The implemented member's name (or "this[...]") in a header: what two declarations must not share.</summary>
    private static string NameOf(string header)
    {
        int indexer = header.IndexOf(" this[", System.StringComparison.Ordinal);
        return indexer >= 0 ? header.Substring(indexer + 1) : header.Substring(header.LastIndexOf(' ') + 1);
    }

    /// <summary>A partial definition with a Dsl layer attribute or of type Dsl.Layer.</summary>
    public static bool IsOwnedByGenerator(IPropertySymbol property)
    {
        if (!property.IsPartialDefinition)
        {
            return false;
        }

        if (NetworkParser.FullName(property.Type as INamedTypeSymbol) == LayerTypeName || ItemParser.IsBlockPropertyType(property.Type))
        {
            return true;
        }

        foreach (AttributeData attribute in property.GetAttributes())
        {
            if (NetworkParser.IsLayerAttribute(attribute.AttributeClass))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The implementing declaration, written as the definition declares it (modifiers, type with nullability,
    /// name or indexer parameters, accessors), or null when that cannot be written: a type that does not bind,
    /// an explicit interface implementation, a definition not found in source.
    /// </summary>
    public static PartialPropertySpec? Implementation(IPropertySymbol property, CancellationToken cancellationToken)
    {
        if (property.ExplicitInterfaceImplementations.Length > 0
            || CSharpNames.ContainsErrorType(property.Type)
            || property.Parameters.Any(p => CSharpNames.ContainsErrorType(p.Type))
            || property.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is not BasePropertyDeclarationSyntax syntax)
        {
            return null;
        }

        // Partial parts must agree on accessibility, static, virtual/override/sealed/new, required and params;
        // copying the definition's modifiers as written satisfies all of them. extern and abstract would leave no body.
        var modifiers = syntax.Modifiers
            .Where(m => !m.IsKind(SyntaxKind.ExternKeyword) && !m.IsKind(SyntaxKind.AbstractKeyword))
            .Select(m => m.Text)
            .ToList();
        if (!modifiers.Contains("partial"))
        {
            return null;
        }

        string refKind = property.RefKind switch
        {
            RefKind.Ref => "ref ",
            RefKind.RefReadOnly => "ref readonly ",
            _ => string.Empty,
        };
        string name = property.IsIndexer
            ? "this[" + string.Join(", ", property.Parameters.Select(Parameter)) + "]"
            : CSharpNames.Identifier(property.Name);
        string header = string.Join(" ", modifiers) + " " + refKind + property.Type.ToDisplayString(CSharpNames.FullyQualified) + " " + name;

        var accessors = new List<string>();
        if (syntax.AccessorList is not null)
        {
            foreach (AccessorDeclarationSyntax accessor in syntax.AccessorList.Accessors)
            {
                if (accessor.Keyword.IsMissing || !(accessor.Keyword.IsKind(SyntaxKind.GetKeyword) || accessor.Keyword.IsKind(SyntaxKind.SetKeyword) || accessor.Keyword.IsKind(SyntaxKind.InitKeyword)))
                {
                    return null;
                }

                accessors.Add(string.Join(" ", accessor.Modifiers.Select(m => m.Text).Append(accessor.Keyword.Text)));
            }
        }

        return accessors.Count == 0 ? null : new PartialPropertySpec(header, new EquatableArray<string>(accessors));
    }

    private static string Parameter(IParameterSymbol parameter)
    {
        string scoped = parameter.ScopedKind == ScopedKind.None ? string.Empty : "scoped ";
        string refKind = parameter.RefKind switch
        {
            RefKind.Ref => "ref ",
            RefKind.Out => "out ",
            RefKind.In => "in ",
            RefKind.RefReadOnlyParameter => "ref readonly ",
            _ => string.Empty,
        };
        string paramsKeyword = parameter.IsParams ? "params " : string.Empty;
        return scoped + paramsKeyword + refKind + parameter.Type.ToDisplayString(CSharpNames.FullyQualified) + " " + CSharpNames.Identifier(parameter.Name);
    }
}
