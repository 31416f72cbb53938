using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Dsl.Generators.Model;
using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.Generators.Pipeline;

/// <summary>
/// The generator's transform: one [Network] type (as ForAttributeWithMetadataName finds it) to the values its
/// output step writes from: the model, or else the fallback part, or else the diagnostics the build must show.
/// </summary>
internal static class NetworkInput
{
    public static NetworkOutput? Create(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || type.Name.Length == 0 || !IsFirstPart(type, context.TargetNode, NetworkParser.NetworkAttributeName, cancellationToken))
        {
            return null;
        }

        Compilation compilation = context.SemanticModel.Compilation;
        ParseResult result = NetworkParser.Parse(type, compilation, cancellationToken);
        string key = MetadataName(type);
        string hint = HintNames.Base(type);
        if (result.Spec is not null)
        {
            return new NetworkOutput(key, hint, result.Spec, null, default);
        }

        return Fallback(type, compilation, key, hint, Reason(type, result), result.Diagnostics, cancellationToken);
    }

    /// <summary>The output for one [Block] class: its part, or a fallback part while it has errors (its analyzer reports them).</summary>
    public static NetworkOutput? CreateBlock(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || type.Name.Length == 0 || type.TypeKind != TypeKind.Class
            || NetworkParser.IsNetwork(type) || !IsFirstPart(type, context.TargetNode, ItemParser.BlockAttributeName, cancellationToken))
        {
            return null;
        }

        Compilation compilation = context.SemanticModel.Compilation;
        ParsedBlock block = new ItemParser(compilation, cancellationToken).ParseBlock(type);
        string key = MetadataName(type);
        string hint = HintNames.Base(type);
        if (block.Spec is not null)
        {
            return new NetworkOutput(key, hint, null, null, default, block.Spec);
        }

        List<ParseDiagnostic> errors = block.Diagnostics;
        string why = errors.Count == 0
            ? "its declaration does not compile yet"
            : errors[0].Id + ": " + errors[0].Message + (errors.Count > 1 ? string.Format(CultureInfo.InvariantCulture, " (and {0} more)", errors.Count - 1) : string.Empty);
        string reason = string.Format(CultureInfo.InvariantCulture, "Block '{0}' was not generated: {1}. Build the project to see every diagnostic.", type.Name, why);
        return Fallback(type, compilation, key, hint, reason, errors, cancellationToken);
    }

    private static NetworkOutput Fallback(INamedTypeSymbol type, Compilation compilation, string key, string hint, string reason, List<ParseDiagnostic> problems, CancellationToken cancellationToken)
    {

        List<PartialPropertySpec> implementable = PartialProperties.Implementable(type, compilation, cancellationToken);
        TypeChainSpec? chain = TypeChains.TryCreate(type, cancellationToken);
        bool exceptionNameable = !HiddenNames.Find(compilation, cancellationToken).Any(h => h.Name is "System" || h.Name == HiddenNames.FallbackException);
        if (chain is not null && exceptionNameable)
        {
            FallbackSpec? fallback = implementable.Count == 0 ? null : new FallbackSpec(chain, reason, new EquatableArray<PartialPropertySpec>(implementable));
            return new NetworkOutput(key, hint, null, fallback, default);
        }

        // No part can join this type, so its partial members stay unimplemented: the compiler reports that in the
        // user's files (CS9248, CS0751), and with those errors a build reports no analyzer diagnostic. The generator
        // reports the network's problems itself, so the build says why.
        bool leavesMembersUnimplemented = type.GetMembers().OfType<IPropertySymbol>().Any(p => PartialProperties.IsOwnedByGenerator(p) && p.PartialImplementationPart is null);
        EquatableArray<DiagnosticInfo> diagnostics = leavesMembersUnimplemented
            ? new EquatableArray<DiagnosticInfo>(problems.Where(d => d.Location.IsInSource).Select(Info))
            : default;
        return new NetworkOutput(key, hint, null, null, diagnostics);
    }

    /// <summary>
    /// [Network] written on two parts of one class (the compiler's CS0579) gives two targets for one type: only the
    /// part that carries the first [Network] attribute is the network's.
    /// </summary>
    private static bool IsFirstPart(INamedTypeSymbol type, SyntaxNode target, string attributeName, CancellationToken cancellationToken)
    {
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (NetworkParser.FullName(attribute.AttributeClass) == attributeName)
            {
                SyntaxNode? declaration = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).FirstAncestorOrSelf<TypeDeclarationSyntax>();
                return declaration is null || declaration == target;
            }
        }

        return true;
    }

    /// <summary>What the fallback part's members throw: the first problem, so a run that reaches one names it.</summary>
    private static string Reason(INamedTypeSymbol type, ParseResult result)
    {
        List<ParseDiagnostic> errors = result.Diagnostics;
        string why = errors.Count == 0
            ? result.BrokenBlock is { } block ? "block '" + block + "' it uses has errors" : "its declaration does not compile yet"
            : errors[0].Id + ": " + errors[0].Message + (errors.Count > 1 ? string.Format(CultureInfo.InvariantCulture, " (and {0} more)", errors.Count - 1) : string.Empty);
        return string.Format(CultureInfo.InvariantCulture, "Network '{0}' was not generated: {1}. Build the project to see every diagnostic.", type.Name, why);
    }

    private static DiagnosticInfo Info(ParseDiagnostic diagnostic)
    {
        Location location = diagnostic.Location;
        FileLinePositionSpan lines = location.GetLineSpan();
        return new DiagnosticInfo(
            diagnostic.Id,
            diagnostic.Message,
            new LocationInfo(lines.Path, location.SourceSpan.Start, location.SourceSpan.Length, lines.StartLinePosition.Line, lines.StartLinePosition.Character, lines.EndLinePosition.Line, lines.EndLinePosition.Character));
    }

    /// <summary>Namespace, containing types joined by '+', arity after '`': unique per type of a compilation.</summary>
    private static string MetadataName(INamedTypeSymbol type)
    {
        string name = type.MetadataName;
        if (type.ContainingType is not null)
        {
            return MetadataName(type.ContainingType) + "+" + name;
        }

        string ns = CSharpNames.PlainNamespace(type.ContainingNamespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }
}
