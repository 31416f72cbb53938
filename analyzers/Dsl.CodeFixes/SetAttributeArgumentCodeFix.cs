using System.Collections.Generic;
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
using Microsoft.CodeAnalysis.Text;

namespace Dsl.CodeFixes;

/// <summary>
/// The mechanical fixes of the signal diagnostics, each one named argument set on attributes: DSL0101 and DSL0102
/// <c>Init = Init.He</c> (or the initialiser the message names) on every dense and convolution layer of the network
/// and of the blocks it uses (the diagnostic's additional locations, possibly in other files); DSL0103
/// <c>Scale = s</c> on the residual block's attribute; DSL0106 <c>Bias = false</c> on the layer before the BatchNorm.
/// The diagnostic carries the argument and its value (<see cref="ParseDiagnostic.FixArgumentProperty"/>,
/// <see cref="ParseDiagnostic.FixValueProperty"/>); an argument already written is replaced, else it is appended.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SetAttributeArgumentCodeFix)), Shared]
public sealed class SetAttributeArgumentCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(
        DiagnosticIds.SignalOutOfBand, DiagnosticIds.GradientOutOfBand, DiagnosticIds.ResidualGrowth, DiagnosticIds.RedundantBias);

    public override FixAllProvider? GetFixAllProvider() => null;

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(ParseDiagnostic.FixArgumentProperty, out string? argument) || argument is null
                || !diagnostic.Properties.TryGetValue(ParseDiagnostic.FixValueProperty, out string? value) || value is null)
            {
                continue;
            }

            IReadOnlyList<Location> targets = diagnostic.AdditionalLocations.Count > 0 ? diagnostic.AdditionalLocations : new[] { diagnostic.Location };
            string shown = value.Replace("global::Dsl.", string.Empty);
            string title = targets.Count > 1 ? $"Set {argument} = {shown} on every layer" : $"Set {argument} = {shown}";
            context.RegisterCodeFix(
                CodeAction.Create(title, token => SetAsync(context.Document.Project.Solution, targets, argument, value, token), equivalenceKey: argument + "=" + value),
                diagnostic);
        }

        return Task.CompletedTask;
    }

    /// <summary>Sets <paramref name="argument"/> = <paramref name="value"/> on the attribute at each location, document by document.</summary>
    private static async Task<Solution> SetAsync(Solution solution, IReadOnlyList<Location> targets, string argument, string value, CancellationToken cancellationToken)
    {
        foreach (IGrouping<SyntaxTree, TextSpan> file in targets.Where(t => t.IsInSource).GroupBy(t => t.SourceTree!, t => t.SourceSpan))
        {
            Document? document = solution.GetDocument(file.Key);
            if (document is null || await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false) is not { } root)
            {
                continue;
            }

            var attributes = file.Select(span => root.FindNode(span).FirstAncestorOrSelf<AttributeSyntax>()).OfType<AttributeSyntax>().Distinct().ToList();
            SyntaxNode fixedRoot = root.ReplaceNodes(attributes, (_, attribute) => WithArgument(attribute, argument, value));
            solution = solution.WithDocumentSyntaxRoot(document.Id, fixedRoot);
        }

        return solution;
    }

    /// <summary>The attribute with <c>argument = value</c>: the named argument replaced where written, else appended.</summary>
    private static AttributeSyntax WithArgument(AttributeSyntax attribute, string argument, string value)
    {
        ExpressionSyntax expression = SyntaxFactory.ParseExpression(value).WithAdditionalAnnotations(Simplifier.Annotation);
        AttributeArgumentListSyntax list = attribute.ArgumentList ?? SyntaxFactory.AttributeArgumentList();
        for (int i = 0; i < list.Arguments.Count; i++)
        {
            AttributeArgumentSyntax existing = list.Arguments[i];
            if (existing.NameEquals?.Name.Identifier.ValueText == argument)
            {
                return attribute.WithArgumentList(list.WithArguments(list.Arguments.Replace(existing, existing.WithExpression(expression.WithTriviaFrom(existing.Expression)))));
            }
        }

        AttributeArgumentSyntax added = SyntaxFactory.AttributeArgument(
            SyntaxFactory.NameEquals(SyntaxFactory.IdentifierName(argument), SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space)),
            null,
            expression);
        if (list.Arguments.Count == 0)
        {
            return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SingletonSeparatedList(added)));
        }

        // ", " before the new argument, the written separators kept as they are.
        var separators = list.Arguments.GetSeparators().ToList();
        separators.Add(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space));
        return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SeparatedList(list.Arguments.Append(added), separators)));
    }
}
