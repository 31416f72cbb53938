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
using Microsoft.CodeAnalysis.Simplification;

namespace Dsl.CodeFixes;

/// <summary>
/// The mechanical fix of DSL0110 (a deep post-norm stack with no warm-up): declares <c>[Warmup(n)]</c> on the network
/// class the diagnostic is in, n from the diagnostic (<see cref="ParseDiagnostic.FixValueProperty"/>), as its own
/// attribute list above the class's first one, with that list's indentation. The name is written from
/// <c>global::Dsl</c> and simplified, so it reads <c>[Warmup(1000)]</c> where the Dsl namespace is in scope.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddWarmupCodeFix)), Shared]
public sealed class AddWarmupCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.PostNormWithoutWarmup);

    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (diagnostic.Properties.TryGetValue(ParseDiagnostic.FixValueProperty, out string? steps) && int.TryParse(steps, out int value) && value > 0
                && root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<ClassDeclarationSyntax>() is { } network)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Add [Warmup({value})] to '{network.Identifier.ValueText}'",
                        token => AddAsync(context.Document, network, value, token),
                        equivalenceKey: "Warmup"),
                    diagnostic);
            }
        }
    }

    private static async Task<Document> AddAsync(Document document, ClassDeclarationSyntax network, int steps, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        AttributeSyntax warmup = SyntaxFactory.Attribute(
            SyntaxFactory.ParseName("global::Dsl.Warmup").WithAdditionalAnnotations(Simplifier.Annotation),
            SyntaxFactory.ParseAttributeArgumentList("(" + steps.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")"));
        SyntaxTriviaList indentation = network.AttributeLists.Count > 0 ? network.AttributeLists[0].GetLeadingTrivia() : network.GetLeadingTrivia();
        SyntaxTriviaList lineIndent = SyntaxFactory.TriviaList(indentation.Reverse().TakeWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Reverse());
        // The file's own line ending (the first one written in it), so the new line matches its neighbours.
        SyntaxTrivia endOfLine = root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        AttributeListSyntax list = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(warmup))
            .WithTrailingTrivia(endOfLine.IsKind(SyntaxKind.EndOfLineTrivia) ? endOfLine : SyntaxFactory.LineFeed);
        ClassDeclarationSyntax fixedClass;
        if (network.AttributeLists.Count > 0)
        {
            // Above the first list: the new list takes its leading trivia (comments, indentation), the old one the indentation.
            AttributeListSyntax first = network.AttributeLists[0];
            fixedClass = network.WithAttributeLists(network.AttributeLists
                .Replace(first, first.WithLeadingTrivia(lineIndent))
                .Insert(0, list.WithLeadingTrivia(first.GetLeadingTrivia())));
        }
        else
        {
            fixedClass = network.WithoutLeadingTrivia().WithAttributeLists(SyntaxFactory.SingletonList(list.WithLeadingTrivia(network.GetLeadingTrivia())))
                .WithModifiers(network.Modifiers.Count > 0 ? network.Modifiers.Replace(network.Modifiers[0], network.Modifiers[0].WithLeadingTrivia(lineIndent)) : network.Modifiers);
        }

        return document.WithSyntaxRoot(root.ReplaceNode(network, fixedClass));
    }
}
