using Dsl.Generators.Emit;
using Dsl.Generators.Model;
using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.Generators;

/// <summary>
/// The pipeline: [Network] classes -> <see cref="NetworkSpec"/> (values only) -> one source file each.
/// Invalid declarations produce no spec and no code; the analyzers report why.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<NetworkSpec> networks = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                NetworkParser.NetworkAttributeName,
                predicate: static (node, _) => node is ClassDeclarationSyntax,
                transform: static (attributeContext, cancellationToken) =>
                    attributeContext.TargetSymbol is INamedTypeSymbol type
                        ? NetworkParser.Parse(type, cancellationToken).Spec
                        : null)
            .WithTrackingName(TrackingNames.ParsedNetworks)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.ValidNetworks);

        context.RegisterSourceOutput(networks, static (output, spec) =>
            output.AddSource(NetworkEmitter.HintName(spec), NetworkEmitter.Emit(spec)));
    }
}

/// <summary>Names of the tracked pipeline steps, asserted by the incrementality tests.</summary>
internal static class TrackingNames
{
    public const string ParsedNetworks = nameof(ParsedNetworks);
    public const string ValidNetworks = nameof(ValidNetworks);
}
