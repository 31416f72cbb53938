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
/// The mechanical fixes of two declaration errors:
/// DSL0001 for a top-level, non-generic, non-static network class that is not partial: add <c>partial</c> to every
/// declaration of the class that lacks it;
/// DSL0007 for a layer property declared with type <c>Layer</c>: make it an instance <c>partial</c> property with only a
/// getter and no body (drop <c>static</c>, the setter or <c>init</c>, an initializer or a body).
/// Nothing is offered where the fix is a choice (a nested or generic class, a property of another type, a layer
/// property the user has implemented in another part).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.NetworkMustBePartial, DiagnosticIds.InvalidLayerProperty);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            SyntaxNode node = root.FindNode(diagnostic.Location.SourceSpan);
            if (diagnostic.Id == DiagnosticIds.NetworkMustBePartial
                && node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is ClassDeclarationSyntax type
                && IsPlainTopLevel(type))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Make '{type.Identifier.ValueText}' partial",
                        token => AddPartialToClassAsync(context.Document.Project.Solution, context.Document, type, token),
                        equivalenceKey: DiagnosticIds.NetworkMustBePartial),
                    diagnostic);
            }
            else if (diagnostic.Id == DiagnosticIds.InvalidLayerProperty
                && node.FirstAncestorOrSelf<PropertyDeclarationSyntax>() is { } property
                && IsLayerTyped(property)
                && !HasOtherPart(property))
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

    /// <summary>Top level (in a namespace or the file), not generic, not static, not file-local: only <c>partial</c> can be missing.</summary>
    private static bool IsPlainTopLevel(ClassDeclarationSyntax type)
        => type.Parent is BaseNamespaceDeclarationSyntax or CompilationUnitSyntax
            && type.TypeParameterList is null
            && !type.Modifiers.Any(SyntaxKind.StaticKeyword)
            && !type.Modifiers.Any(SyntaxKind.FileKeyword);

    /// <summary>Declared as <c>Layer</c> or <c>Dsl.Layer</c> (the generator's type; another type is the user's choice to change).</summary>
    private static bool IsLayerTyped(PropertyDeclarationSyntax property) => property.Type switch
    {
        IdentifierNameSyntax name => name.Identifier.ValueText == "Layer",
        QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText == "Layer" && qualified.Left.ToString().Replace("global::", string.Empty) == "Dsl",
        AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText == "Layer",
        _ => false,
    };

    /// <summary>Whether the containing type declares another property of this name (the user's own implementing part).</summary>
    private static bool HasOtherPart(PropertyDeclarationSyntax property)
        => property.Parent is TypeDeclarationSyntax type
            && type.Members.OfType<PropertyDeclarationSyntax>().Any(other => other != property && other.Identifier.ValueText == property.Identifier.ValueText);

    private static async Task<Solution> AddPartialToClassAsync(Solution solution, Document document, ClassDeclarationSyntax type, CancellationToken cancellationToken)
    {
        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        INamedTypeSymbol? symbol = model?.GetDeclaredSymbol(type, cancellationToken);
        // Every declaration of the class, in whichever document it is.
        var declarations = symbol is null
            ? new[] { (document.Id, type.SyntaxTree, (SyntaxNode)type) }
            : symbol.DeclaringSyntaxReferences
                .Select(reference => (Id: solution.GetDocumentId(reference.SyntaxTree), reference.SyntaxTree, Node: reference.GetSyntax(cancellationToken)))
                .Where(part => part.Id is not null)
                .Select(part => (part.Id!, part.SyntaxTree, part.Node))
                .ToArray();
        foreach (var group in declarations.GroupBy(part => part.Item1))
        {
            Document part = solution.GetDocument(group.Key)!;
            SyntaxNode? root = await part.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (root is null)
            {
                continue;
            }

            var nodes = group.Select(declaration => declaration.Item3).OfType<ClassDeclarationSyntax>()
                .Where(declaration => !declaration.Modifiers.Any(SyntaxKind.PartialKeyword)).ToList();
            root = root.ReplaceNodes(nodes, (original, _) => WithPartial(original));
            solution = solution.WithDocumentSyntaxRoot(group.Key, root);
        }

        return solution;
    }

    /// <summary>The class with <c>partial</c> as its last modifier, just before <c>class</c>, as C# requires.</summary>
    private static ClassDeclarationSyntax WithPartial(ClassDeclarationSyntax type)
    {
        if (type.Modifiers.Count == 0)
        {
            SyntaxToken keyword = type.Keyword;
            return type
                .WithKeyword(keyword.WithLeadingTrivia(SyntaxFactory.TriviaList()))
                .WithModifiers(SyntaxFactory.TokenList(SyntaxFactory.Token(keyword.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space))));
        }

        return type.WithModifiers(type.Modifiers.Add(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space)));
    }

    private static async Task<Document> FixLayerPropertyAsync(Document document, PropertyDeclarationSyntax property, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        SyntaxTokenList modifiers = property.Modifiers;
        SyntaxToken? staticKeyword = modifiers.Cast<SyntaxToken?>().FirstOrDefault(token => token!.Value.IsKind(SyntaxKind.StaticKeyword));
        if (staticKeyword is { } found)
        {
            modifiers = modifiers.Remove(found);
        }

        if (!modifiers.Any(SyntaxKind.PartialKeyword))
        {
            modifiers = modifiers.Add(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space));
        }

        AccessorListSyntax getOnly = SyntaxFactory.AccessorList(SyntaxFactory.SingletonList(
                SyntaxFactory.AccessorDeclaration(SyntaxKind.GetAccessorDeclaration).WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken))))
            .WithOpenBraceToken(SyntaxFactory.Token(SyntaxKind.OpenBraceToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space))
            .WithCloseBraceToken(SyntaxFactory.Token(SyntaxKind.CloseBraceToken).WithLeadingTrivia(SyntaxFactory.Space));
        SyntaxTriviaList trailing = property.GetTrailingTrivia();
        PropertyDeclarationSyntax fixedProperty = property
            .WithModifiers(modifiers)
            .WithIdentifier(property.Identifier.WithTrailingTrivia(SyntaxFactory.TriviaList()))
            .WithExpressionBody(null)
            .WithInitializer(null)
            .WithSemicolonToken(default)
            .WithAccessorList(getOnly.WithTrailingTrivia(trailing));
        return document.WithSyntaxRoot(root.ReplaceNode(property, fixedProperty));
    }
}
