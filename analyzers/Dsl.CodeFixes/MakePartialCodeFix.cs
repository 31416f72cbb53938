using System;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.CodeFixes;

/// <summary>
/// The mechanical fixes of two declaration errors, offered only where the fix leaves nothing else wrong:
/// DSL0001 for a network class whose only problem is a missing <c>partial</c> (top level, not generic, static,
/// a record or file-local): add it to every declaration of the class that lacks it;
/// DSL0007 for a layer property whose type is <c>Dsl.Layer</c>, in a class that is not static, that does not
/// implement an interface member explicitly and has no implementing part written by the user: make it an instance
/// <c>partial</c> property with only a getter and no body (dropping <c>static</c>, <c>required</c>, <c>abstract</c>,
/// <c>extern</c>, a setter or <c>init</c>, an initializer or a body). Attributes, comments and layout are kept.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : CodeFixProvider
{
    /// <summary>Modifiers a get-only partial layer property cannot carry.</summary>
    private static readonly SyntaxKind[] DroppedPropertyModifiers =
        [SyntaxKind.StaticKeyword, SyntaxKind.RequiredKeyword, SyntaxKind.AbstractKeyword, SyntaxKind.ExternKeyword];

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.NetworkMustBePartial, DiagnosticIds.InvalidLayerProperty);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        SemanticModel? model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            SyntaxNode node = root.FindNode(diagnostic.Location.SourceSpan);
            if (diagnostic.Id == DiagnosticIds.NetworkMustBePartial
                && node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is ClassDeclarationSyntax type
                && model.GetDeclaredSymbol(type, context.CancellationToken) is { } typeSymbol
                && OnlyPartialIsMissing(typeSymbol))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Make '{type.Identifier.ValueText}' partial",
                        token => AddPartialToClassAsync(context.Document.Project.Solution, typeSymbol, token),
                        equivalenceKey: DiagnosticIds.NetworkMustBePartial),
                    diagnostic);
            }
            else if (diagnostic.Id == DiagnosticIds.InvalidLayerProperty
                && node.FirstAncestorOrSelf<PropertyDeclarationSyntax>() is { } property
                && model.GetDeclaredSymbol(property, context.CancellationToken) is { } propertySymbol
                && CanBecomeLayerDefinition(property, propertySymbol, context.CancellationToken))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Make '{property.Identifier.ValueText}' a partial get-only layer property",
                        token => FixLayerPropertyAsync(context.Document, property, token),
                        equivalenceKey: DiagnosticIds.InvalidLayerProperty),
                    diagnostic);
            }
        }
    }

    /// <summary>A top-level, non-generic, non-static class (not a record, not file-local): only <c>partial</c> can be missing.</summary>
    private static bool OnlyPartialIsMissing(INamedTypeSymbol type)
        => type.ContainingType is null && !type.IsGenericType && !type.IsStatic && !type.IsRecord && !type.IsFileLocal;

    /// <summary>
    /// Whether the property can simply become <c>partial Layer Name { get; }</c>: its bound type is Dsl.Layer, it implements
    /// no interface member explicitly, its class is not static, and no other declaration of the name exists outside
    /// generated files (the user's own implementing part, which is to be deleted, not kept).
    /// </summary>
    private static bool CanBecomeLayerDefinition(PropertyDeclarationSyntax property, IPropertySymbol symbol, CancellationToken cancellationToken)
    {
        if (property.ExplicitInterfaceSpecifier is not null || symbol.ContainingType.IsStatic
            || symbol.Type is not INamedTypeSymbol { Name: "Layer", ContainingNamespace: { Name: "Dsl", ContainingNamespace.IsGlobalNamespace: true } })
        {
            return false;
        }

        int declarations = symbol.ContainingType.DeclaringSyntaxReferences
            .Where(reference => !IsGenerated(reference.SyntaxTree))
            .SelectMany(reference => reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax part
                ? part.Members.OfType<PropertyDeclarationSyntax>()
                : Enumerable.Empty<PropertyDeclarationSyntax>())
            .Count(member => member.Identifier.ValueText == symbol.Name && member.ExplicitInterfaceSpecifier is null);
        return declarations == 1;
    }

    /// <summary>The generator's output (its hint names end in .Dsl.g.cs); other generated files count as the user's.</summary>
    private static bool IsGenerated(SyntaxTree tree) => tree.FilePath.EndsWith(".Dsl.g.cs", StringComparison.Ordinal);

    private static async Task<Solution> AddPartialToClassAsync(Solution solution, INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (var group in type.DeclaringSyntaxReferences.GroupBy(reference => reference.SyntaxTree))
        {
            DocumentId? id = solution.GetDocumentId(group.Key);
            if (id is null)
            {
                continue;
            }

            SyntaxNode root = await group.Key.GetRootAsync(cancellationToken).ConfigureAwait(false);
            var parts = group.Select(reference => reference.GetSyntax(cancellationToken)).OfType<ClassDeclarationSyntax>()
                .Where(part => !part.Modifiers.Any(SyntaxKind.PartialKeyword)).ToList();
            solution = solution.WithDocumentSyntaxRoot(id, root.ReplaceNodes(parts, (original, _) => WithPartial(original)));
        }

        return solution;
    }

    /// <summary>The class with <c>partial</c> as its last modifier, just before <c>class</c>, as C# requires.</summary>
    private static ClassDeclarationSyntax WithPartial(ClassDeclarationSyntax type)
    {
        (SyntaxTokenList modifiers, SyntaxToken keyword) = AppendPartial(type.Modifiers, type.Keyword);
        return type.WithModifiers(modifiers).WithKeyword(keyword);
    }

    /// <summary>
    /// <paramref name="modifiers"/> with <c>partial</c> last, written "partial " in the place the following token
    /// (<paramref name="next"/>, the keyword or type) started: when there are no modifiers it takes that token's
    /// leading trivia, so the line keeps its indentation.
    /// </summary>
    private static (SyntaxTokenList Modifiers, SyntaxToken Next) AppendPartial(SyntaxTokenList modifiers, SyntaxToken next)
    {
        if (modifiers.Count == 0)
        {
            SyntaxToken first = SyntaxFactory.Token(next.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
            return (SyntaxFactory.TokenList(first), next.WithLeadingTrivia(SyntaxFactory.TriviaList()));
        }

        SyntaxToken partial = SyntaxFactory.Token(SyntaxFactory.TriviaList(), SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
        return (modifiers.Add(partial), next);
    }

    private static async Task<Document> FixLayerPropertyAsync(Document document, PropertyDeclarationSyntax property, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        // Drop what a get-only partial definition cannot carry; a dropped token's leading trivia (indentation) moves on.
        SyntaxTokenList modifiers = SyntaxFactory.TokenList();
        SyntaxTriviaList carried = SyntaxFactory.TriviaList();
        foreach (SyntaxToken modifier in property.Modifiers)
        {
            if (DroppedPropertyModifiers.Any(kind => modifier.IsKind(kind)))
            {
                carried = carried.AddRange(modifier.LeadingTrivia);
                continue;
            }

            modifiers = modifiers.Add(carried.Count == 0 ? modifier : modifier.WithLeadingTrivia(carried.AddRange(modifier.LeadingTrivia)));
            carried = SyntaxFactory.TriviaList();
        }

        TypeSyntax typeSyntax = carried.Count == 0 ? property.Type : property.Type.WithLeadingTrivia(carried.AddRange(property.Type.GetLeadingTrivia()));
        SyntaxToken typeFirstToken = typeSyntax.GetFirstToken();
        if (!modifiers.Any(SyntaxKind.PartialKeyword))
        {
            (modifiers, SyntaxToken moved) = AppendPartial(modifiers, typeFirstToken);
            typeSyntax = typeSyntax.ReplaceToken(typeFirstToken, moved);
        }

        // After the name: whitespace and line breaks go (the accessor list brings its own space); a block comment stays
        // there; a line comment moves to the end of the declaration, where it cannot swallow the accessors.
        SyntaxToken identifier = property.Identifier;
        SyntaxTriviaList inline = SyntaxFactory.TriviaList();
        SyntaxTriviaList endOfLine = SyntaxFactory.TriviaList();
        foreach (SyntaxTrivia trivia in identifier.TrailingTrivia)
        {
            if (trivia.IsKind(SyntaxKind.MultiLineCommentTrivia))
            {
                inline = inline.Add(SyntaxFactory.Space).Add(trivia);
            }
            else if (trivia.IsKind(SyntaxKind.SingleLineCommentTrivia))
            {
                endOfLine = endOfLine.Add(SyntaxFactory.Space).Add(trivia);
            }
        }

        AccessorListSyntax getOnly = SyntaxFactory.AccessorList(SyntaxFactory.SingletonList(
                SyntaxFactory.AccessorDeclaration(SyntaxKind.GetAccessorDeclaration)
                    .WithKeyword(SyntaxFactory.Token(SyntaxFactory.TriviaList(), SyntaxKind.GetKeyword, SyntaxFactory.TriviaList()))
                    .WithSemicolonToken(SyntaxFactory.Token(SyntaxFactory.TriviaList(), SyntaxKind.SemicolonToken, SyntaxFactory.TriviaList(SyntaxFactory.Space)))))
            .WithOpenBraceToken(SyntaxFactory.Token(SyntaxFactory.TriviaList(SyntaxFactory.Space), SyntaxKind.OpenBraceToken, SyntaxFactory.TriviaList(SyntaxFactory.Space)))
            .WithCloseBraceToken(SyntaxFactory.Token(SyntaxFactory.TriviaList(), SyntaxKind.CloseBraceToken, EndOfDeclaration(property.GetLastToken().TrailingTrivia, endOfLine)));
        PropertyDeclarationSyntax fixedProperty = property
            .WithModifiers(modifiers)
            .WithType(typeSyntax)
            .WithIdentifier(identifier.WithTrailingTrivia(inline))
            .WithExpressionBody(null)
            .WithInitializer(null)
            .WithSemicolonToken(default)
            .WithAccessorList(getOnly);
        return document.WithSyntaxRoot(root.ReplaceNode(property, fixedProperty));
    }

    /// <summary>The declaration's own trailing trivia with <paramref name="comments"/> placed before its line break.</summary>
    private static SyntaxTriviaList EndOfDeclaration(SyntaxTriviaList trailing, SyntaxTriviaList comments)
    {
        if (comments.Count == 0)
        {
            return trailing;
        }

        int lineBreak = trailing.IndexOf(SyntaxKind.EndOfLineTrivia);
        return lineBreak < 0 ? trailing.AddRange(comments) : trailing.InsertRange(lineBreak, comments);
    }
}
