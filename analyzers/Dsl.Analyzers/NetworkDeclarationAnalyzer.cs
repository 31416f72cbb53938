using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Dsl.Generators.Diagnostics;
using Dsl.Generators.Graph;
using Dsl.Generators.Model;
using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Dsl.Analyzers;

/// <summary>
/// Reports what makes a [Network] declaration invalid, at the attribute or member that causes it,
/// using the generator's own parser and shape inference (one source of truth). For such a network
/// the generator emits only a part whose members throw, so these diagnostics are the build's only errors.
/// Declarations in files Roslyn treats as generated are analyzed too: a network a user wrote is never skipped.
/// For a valid network it then reports what <see cref="SignalAnalysis"/> predicts at initialisation (signal and gradient
/// out of the band, residual growth, ordering rules), with the thresholds of the class's .editorconfig
/// (<see cref="SignalOptions"/>).
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
    {
        var type = (INamedTypeSymbol)context.Symbol;
        SignalOptions options = SignalOptions.Default;
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            var config = context.Options.AnalyzerConfigOptionsProvider.GetOptions(reference.SyntaxTree);
            options = SignalOptions.Read(key => config.TryGetValue(key, out string? value) ? value : null);
            break;
        }

        Analyze(type, context.Compilation, context.ReportDiagnostic, context.CancellationToken, options);
    }

    /// <summary>
    /// What the analyzer does for one type: if it is a [Network], reports each problem the parser finds and, for a valid
    /// network, each signal finding; if it is a [Block], the block's own problems.
    /// </summary>
    internal static void Analyze(INamedTypeSymbol type, Compilation compilation, Action<Diagnostic> report, CancellationToken cancellationToken, SignalOptions? signalOptions = null)
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
        ParseResult? network = isNetwork ? NetworkParser.Parse(type, compilation, cancellationToken) : null;
        System.Collections.Generic.List<ParseDiagnostic> problems = network is not null
            ? network.Diagnostics
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

        if (network is { Spec: { } spec, Items: { } items })
        {
            LoweredGraph graph = network.Graph ?? GraphLowering.Lower(spec.ClassName, spec.InputShape.ToArray(), spec.Items.ToArray(), spec.Loss);
            ReportSignal(spec, graph, items, network.NetworkLocation ?? Location.None, signalOptions ?? SignalOptions.Default, report, cancellationToken);
        }
    }

    /// <summary>
    /// Lowers the valid network and reports each signal finding at the attribute its origin names: the network's for an
    /// empty origin, the using property's for one inside a block.
    /// </summary>
    /// <param name="graph">The network's lowered graph: the parser's when it lowered one (a graph network), else lowered here.</param>
    private static void ReportSignal(NetworkSpec spec, LoweredGraph graph, ParsedItems items, Location networkLocation, SignalOptions options, Action<Diagnostic> report, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (SignalFinding finding in SignalAnalysis.Analyze(spec.ClassName, graph, options, spec.Training))
        {
            DiagnosticDescriptor? descriptor = DiagnosticDescriptors.ById(finding.Id);
            if (descriptor is null)
            {
                continue;
            }

            // A finding inside a block is reported at the network's property that uses the block (the message names the
            // layer by its path): the block alone is not at fault, and a diagnostic stays in the file of the network it
            // is about, where the IDE computes it as the user types.
            EquatableArray<int> origin = finding.Origin.Count > 1 ? new EquatableArray<int>(new[] { finding.Origin[0] }) : finding.Origin;
            Location at = origin.Count == 0 ? networkLocation : items.LocationOf(origin) ?? networkLocation;
            ImmutableDictionary<string, string?>? properties = null;
            var also = new System.Collections.Generic.List<Location>();
            if (finding is { FixArgument: { } argument, FixValue: { } value })
            {
                // The fix sets one named argument on each attribute: the additional locations when there are several.
                properties = ImmutableDictionary<string, string?>.Empty.Add(ParseDiagnostic.FixArgumentProperty, argument).Add(ParseDiagnostic.FixValueProperty, value);
                foreach (EquatableArray<int> layerOrigin in finding.FixOrigins)
                {
                    if (items.LocationOf(layerOrigin) is { IsInSource: true } layer)
                    {
                        also.Add(layer);
                    }
                }
            }

            report(Diagnostic.Create(descriptor, at, also, properties, finding.Message));
        }
    }
}
