using System;
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
/// The mechanical fix of a DSL0006 shape mismatch where a layer that reads features (a dense layer or a norm) receives
/// a shape of rank 2 or more, such as a convolution's (channels, length): the diagnostic carries
/// <see cref="ParseDiagnostic.FixProperty"/> = <see cref="ParseDiagnostic.InsertFlatten"/>, and the fix declares
/// <c>[Flatten] public partial Layer Flatten { get; }</c> just before the layer property the diagnostic is at, in the
/// network or block class that declares it. The inserted property takes the following one's indentation, blank lines
/// and attribute layout (on the declaration's line or a line of its own), its accessibility and its way of writing
/// <c>Layer</c>; comments above the following property stay with it. The attribute is written <c>[Flatten]</c> where
/// the Dsl namespace is in scope and qualified otherwise; the name is Flatten, or Flatten2, Flatten3, ... when a member
/// of the class (in any of its parts, or inherited) or the class itself already has it.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(InsertFlattenCodeFix)), Shared]
public sealed class InsertFlattenCodeFix : CodeFixProvider
{
    /// <summary>The name of the inserted property, before a number is appended to make it unique.</summary>
    private const string FlattenName = "Flatten";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.ShapeMismatch);

    /// <summary>
    /// Fixes every marked diagnostic of a document at once, so that two flatten layers inserted into one class get
    /// different names, and a property reported more than once (a block used by several networks) gets one.
    /// </summary>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(
        async (context, document, diagnostics) => await InsertFlattensAsync(
            document,
            diagnostics.Where(OffersFlatten).Select(diagnostic => diagnostic.Location.SourceSpan).ToList(),
            context.CancellationToken).ConfigureAwait(false));

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (OffersFlatten(diagnostic) && LayerPropertyAt(root, diagnostic.Location.SourceSpan) is { } property)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Insert a flatten layer before '{property.Identifier.ValueText}'",
                        token => InsertFlattensAsync(context.Document, new[] { diagnostic.Location.SourceSpan }, token),
                        equivalenceKey: ParseDiagnostic.InsertFlatten),
                    diagnostic);
            }
        }
    }

    /// <summary>A DSL0006 diagnostic in source whose mechanical fix is a flatten layer before the reported layer.</summary>
    private static bool OffersFlatten(Diagnostic diagnostic)
        => diagnostic.Id == DiagnosticIds.ShapeMismatch
            && diagnostic.Location.IsInSource
            && diagnostic.Properties.TryGetValue(ParseDiagnostic.FixProperty, out string? fix)
            && fix == ParseDiagnostic.InsertFlatten;

    /// <summary>The property declared directly in a class whose attribute the diagnostic at <paramref name="span"/> points at.</summary>
    private static PropertyDeclarationSyntax? LayerPropertyAt(SyntaxNode root, TextSpan span)
        => root.FindNode(span).FirstAncestorOrSelf<PropertyDeclarationSyntax>() is { Parent: ClassDeclarationSyntax, AttributeLists.Count: > 0 } property
            ? property
            : null;

    /// <summary>Declares a flatten layer before each property reported at <paramref name="spans"/>, once per property.</summary>
    private static async Task<Document> InsertFlattensAsync(Document document, IReadOnlyCollection<TextSpan> spans, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return document;
        }

        var targets = new HashSet<PropertyDeclarationSyntax>(spans.Select(span => LayerPropertyAt(root, span)).OfType<PropertyDeclarationSyntax>());
        if (targets.Count == 0)
        {
            return document;
        }

        string endOfLine = root.DescendantTrivia().FirstOrDefault(trivia => trivia.IsKind(SyntaxKind.EndOfLineTrivia)).ToFullString() is { Length: > 0 } found ? found : "\n";
        var classes = targets.Select(target => (ClassDeclarationSyntax)target.Parent!).Distinct().ToList();
        var inserted = new Dictionary<ClassDeclarationSyntax, List<(int Index, PropertyDeclarationSyntax Flatten)>>();
        foreach (ClassDeclarationSyntax type in classes)
        {
            HashSet<string> used = NamesInUse(type, model, cancellationToken);
            var flattens = new List<(int Index, PropertyDeclarationSyntax Flatten)>();
            for (int index = 0; index < type.Members.Count; index++)
            {
                if (type.Members[index] is PropertyDeclarationSyntax property && targets.Contains(property))
                {
                    string name = FreeName(used);
                    used.Add(name);
                    flattens.Add((index, FlattenBefore(property, name, model, endOfLine, cancellationToken)));
                }
            }

            inserted[type] = flattens;
        }

        // Nested classes may be rewritten first; their members keep their indices, which is all the insertion needs.
        SyntaxNode fixedRoot = root.ReplaceNodes(classes, (original, rewritten) =>
        {
            SyntaxList<MemberDeclarationSyntax> members = rewritten.Members;
            foreach ((int index, PropertyDeclarationSyntax flatten) in inserted[original].OrderByDescending(entry => entry.Index))
            {
                members = members.Insert(index, flatten);
            }

            return rewritten.WithMembers(members);
        });
        return document.WithSyntaxRoot(fixedRoot);
    }

    /// <summary>
    /// The names a new member of the class cannot take: its members in every part (the generated one included),
    /// the members of its base classes, its type parameters and its own name.
    /// </summary>
    private static HashSet<string> NamesInUse(ClassDeclarationSyntax type, SemanticModel model, CancellationToken cancellationToken)
    {
        var used = new HashSet<string>(StringComparer.Ordinal) { type.Identifier.ValueText };
        foreach (MemberDeclarationSyntax member in type.Members)
        {
            switch (member)
            {
                case PropertyDeclarationSyntax property:
                    used.Add(property.Identifier.ValueText);
                    break;
                case BaseTypeDeclarationSyntax nested:
                    used.Add(nested.Identifier.ValueText);
                    break;
            }
        }

        if (model.GetDeclaredSymbol(type, cancellationToken) is { } symbol)
        {
            used.UnionWith(symbol.MemberNames);
            used.UnionWith(symbol.GetTypeMembers().Select(nested => nested.Name));
            used.UnionWith(symbol.TypeParameters.Select(parameter => parameter.Name));
            for (INamedTypeSymbol? baseType = symbol.BaseType; baseType is not null; baseType = baseType.BaseType)
            {
                used.UnionWith(baseType.MemberNames);
            }
        }

        return used;
    }

    /// <summary>Flatten, or the first of Flatten2, Flatten3, ... that is not in <paramref name="used"/>.</summary>
    private static string FreeName(HashSet<string> used)
    {
        if (!used.Contains(FlattenName))
        {
            return FlattenName;
        }

        int suffix = 2;
        while (used.Contains(FlattenName + suffix.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            suffix++;
        }

        return FlattenName + suffix.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// <c>[Flatten] public partial Layer <paramref name="name"/> { get; }</c>, laid out to stand before
    /// <paramref name="next"/>: the blank lines that open the following property's leading trivia and its indentation
    /// (comments and directives stay with it), its attribute layout and accessibility, and its spelling of the layer type.
    /// </summary>
    private static PropertyDeclarationSyntax FlattenBefore(PropertyDeclarationSyntax next, string name, SemanticModel model, string endOfLine, CancellationToken cancellationToken)
    {
        SyntaxTriviaList leading = next.GetLeadingTrivia();
        SyntaxTriviaList blankLines = SyntaxFactory.TriviaList();
        for (int i = 0; i < leading.Count && leading[i].Kind() is SyntaxKind.WhitespaceTrivia or SyntaxKind.EndOfLineTrivia; i++)
        {
            if (leading[i].IsKind(SyntaxKind.EndOfLineTrivia))
            {
                blankLines = SyntaxFactory.TriviaList(leading.Take(i + 1));
            }
        }

        string indentation = leading.Count > 0 && leading[leading.Count - 1].IsKind(SyntaxKind.WhitespaceTrivia) ? leading[leading.Count - 1].ToFullString() : string.Empty;
        SyntaxToken previous = next.GetFirstToken().GetPreviousToken();
        bool ownLine = previous.IsKind(SyntaxKind.None)
            || previous.TrailingTrivia.Any(SyntaxKind.EndOfLineTrivia)
            || leading.Any(trivia => trivia.IsKind(SyntaxKind.EndOfLineTrivia) || trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia));
        bool attributeOnItsOwnLine = next.AttributeLists[next.AttributeLists.Count - 1].CloseBracketToken.TrailingTrivia.Any(SyntaxKind.EndOfLineTrivia);

        string accessibility = string.Concat(next.Modifiers
            .Where(modifier => modifier.Kind() is SyntaxKind.PublicKeyword or SyntaxKind.InternalKeyword or SyntaxKind.ProtectedKeyword or SyntaxKind.PrivateKeyword)
            .Select(modifier => modifier.Text + " "));
        bool layerAsWritten = model.GetTypeInfo(next.Type, cancellationToken).Type is INamedTypeSymbol
        {
            Name: "Layer", ContainingNamespace: { Name: "Dsl", ContainingNamespace.IsGlobalNamespace: true },
        };
        string text = "[global::Dsl.Flatten]" + (attributeOnItsOwnLine ? endOfLine + indentation : " ")
            + accessibility + "partial " + (layerAsWritten ? next.Type.WithoutTrivia().ToString() : "global::Dsl.Layer") + " " + name + " { get; }";
        var flatten = (PropertyDeclarationSyntax)SyntaxFactory.ParseMemberDeclaration(text, options: next.SyntaxTree.Options)!;

        // The qualified names shrink to what the scope allows: [Flatten] under using Dsl;, [Dsl.Flatten] without it.
        flatten = flatten.ReplaceNodes(
            flatten.DescendantNodes().OfType<AliasQualifiedNameSyntax>().Select(alias => (NameSyntax)alias.Parent!),
            (_, qualified) => qualified.WithAdditionalAnnotations(Simplifier.Annotation));
        return flatten
            .WithLeadingTrivia(indentation.Length == 0 ? blankLines : blankLines.Add(SyntaxFactory.Whitespace(indentation)))
            .WithTrailingTrivia(ownLine ? SyntaxFactory.EndOfLine(endOfLine) : SyntaxFactory.Space);
    }
}
