using Dsl.Generators.Diagnostics;
using Dsl.Generators.Emit;
using Dsl.Generators.Model;
using Dsl.Generators.Pipeline;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Dsl.Generators;

/// <summary>
/// The pipeline: [Network] types -> <see cref="NetworkOutput"/> (values only) -> one source file each.
/// A valid declaration gets its whole model. Any other gets a part that implements its partial layer
/// properties by throwing, so the only errors a build shows are the analyzer's DSL diagnostics at their
/// cause; where no part can join the type at all, the generator reports those diagnostics itself.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<NetworkOutput> networks = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parsing.NetworkParser.NetworkAttributeName,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: static (attributeContext, cancellationToken) => NetworkInput.Create(attributeContext, cancellationToken))
            .WithTrackingName(TrackingNames.ParsedNetworks)
            .Where(static network => network is not null)
            .Select(static (network, _) => network!)
            .WithTrackingName(TrackingNames.Networks);

        // [Block] classes: each gets a part of its own (its constructor appends its layers to a network's builder).
        IncrementalValuesProvider<NetworkOutput> blocks = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parsing.ItemParser.BlockAttributeName,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: static (attributeContext, cancellationToken) => NetworkInput.CreateBlock(attributeContext, cancellationToken))
            .Where(static block => block is not null)
            .Select(static (block, _) => block!)
            .WithTrackingName(TrackingNames.Blocks);

        // Unchanged (an empty array) unless file names collide, so one network's edit re-emits only that network.
        IncrementalValueProvider<EquatableArray<HintSuffix>> collisions = networks
            .Collect()
            .Combine(blocks.Collect())
            .Select(static (all, _) => HintNames.Collisions(all.Left.AddRange(all.Right)))
            .WithTrackingName(TrackingNames.HintCollisions);

        context.RegisterSourceOutput(networks.Combine(collisions), static (output, pair) => Emit(output, pair.Left, pair.Right));
        context.RegisterSourceOutput(blocks.Combine(collisions), static (output, pair) => Emit(output, pair.Left, pair.Right));
    }

    private static void Emit(SourceProductionContext output, NetworkOutput network, EquatableArray<HintSuffix> suffixes)
    {
        foreach (DiagnosticInfo diagnostic in network.Diagnostics)
        {
            Report(output, diagnostic);
        }

        string? source = network.Spec is not null ? GraphEmitter.Emit(network.Spec)
            : network.Block is not null ? GraphEmitter.EmitBlock(network.Block)
            : network.Fallback is not null ? FallbackEmitter.Emit(network.Fallback)
            : null;
        if (source is not null)
        {
            output.AddSource(HintNames.Final(network, suffixes), source);
        }
    }

    private static void Report(SourceProductionContext output, DiagnosticInfo diagnostic)
    {
        DiagnosticDescriptor? descriptor = DiagnosticDescriptors.ById(diagnostic.Id);
        if (descriptor is null)
        {
            return;
        }

        LocationInfo at = diagnostic.Location;
        Location location = Location.Create(
            at.FilePath,
            new TextSpan(at.Start, at.Length),
            new LinePositionSpan(new LinePosition(at.StartLine, at.StartCharacter), new LinePosition(at.EndLine, at.EndCharacter)));
        output.ReportDiagnostic(Diagnostic.Create(descriptor, location, diagnostic.Message));
    }
}

/// <summary>Names of the tracked pipeline steps, asserted by the incrementality tests.</summary>
internal static class TrackingNames
{
    public const string ParsedNetworks = nameof(ParsedNetworks);
    public const string Networks = nameof(Networks);
    public const string HintCollisions = nameof(HintCollisions);
    public const string Blocks = nameof(Blocks);
}
