using System;
using System.Collections.Immutable;
using System.Threading;
using Dsl.Generators.Diagnostics;
using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Dsl.Analyzers;

/// <summary>
/// Reports what makes a [Network] declaration invalid, at the attribute or member that causes it,
/// using the generator's own parser and shape inference (one source of truth). For such a network
/// the generator emits only a part whose members throw, so these diagnostics are the build's only errors.
/// Declarations in files Roslyn treats as generated are analyzed too: a network a user wrote is never skipped.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class NetworkDeclarationAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.All);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
    }

    private static void AnalyzeType(SymbolAnalysisContext context)
        => Analyze((INamedTypeSymbol)context.Symbol, context.Compilation, context.ReportDiagnostic, context.CancellationToken);

    /// <summary>What the analyzer does for one type: if it is a [Network], reports each problem the parser finds.</summary>
    internal static void Analyze(INamedTypeSymbol type, Compilation compilation, Action<Diagnostic> report, CancellationToken cancellationToken)
    {
        bool isNetwork = false;
        bool isBlock = false;
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (attribute.AttributeClass is { Name: "NetworkAttribute" or "BlockAttribute", ContainingNamespace: { Name: "Dsl", ContainingNamespace.IsGlobalNamespace: true } } attributeClass)
            {
                isNetwork |= attributeClass.Name == "NetworkAttribute";
                isBlock |= attributeClass.Name == "BlockAttribute";
            }
        }

        if (!isNetwork && !isBlock)
        {
            return;
        }

        // A block's own problems are reported at the block; the networks that use it report only the shape errors that
        // depend on what feeds it.
        System.Collections.Generic.List<ParseDiagnostic> problems = isNetwork
            ? NetworkParser.Parse(type, compilation, cancellationToken).Diagnostics
            : type.TypeKind == TypeKind.Class && type.Name.Length > 0
                ? new ItemParser(compilation, cancellationToken).ParseBlock(type).Diagnostics
                : new System.Collections.Generic.List<ParseDiagnostic>();
        foreach (ParseDiagnostic problem in problems)
        {
            DiagnosticDescriptor? descriptor = DiagnosticDescriptors.ById(problem.Id);
            if (descriptor is not null)
            {
                ImmutableDictionary<string, string?>? properties = problem.Fix is null
                    ? null
                    : ImmutableDictionary<string, string?>.Empty.Add(ParseDiagnostic.FixProperty, problem.Fix);
                report(Diagnostic.Create(descriptor, problem.Location, properties, problem.Message));
            }
        }
    }
}
