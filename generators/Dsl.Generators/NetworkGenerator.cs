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

        // Unchanged (an empty array) unless file names collide, so one network's edit re-emits only that network.
        IncrementalValueProvider<EquatableArray<HintSuffix>> collisions = networks
            .Collect()
            .Select(static (all, _) => HintNames.Collisions(all))
            .WithTrackingName(TrackingNames.HintCollisions);

        context.RegisterSourceOutput(networks.Combine(collisions), static (output, pair) =>
        {
            (NetworkOutput network, EquatableArray<HintSuffix> suffixes) = pair;
            foreach (DiagnosticInfo diagnostic in network.Diagnostics)
            {
                Report(output, diagnostic);
            }

            string? source = network.Spec is not null ? NetworkEmitter.Emit(network.Spec)
                : network.Fallback is not null ? FallbackEmitter.Emit(network.Fallback)
                : null;
            if (source is not null)
            {
                output.AddSource(HintNames.Final(network, suffixes), source);
            }
        });
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
}
