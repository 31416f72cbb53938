using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;

namespace Dsl.Analyzers.Diagnostics;

/// <summary>
/// The one catalog of Dsl diagnostics. Each ID has its page at docs/diagnostics/ID.md (the help link)
/// and a test with markup in tests/Dsl.Analyzers.Tests.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Dsl.Declaration";
    private const string HelpRoot = "https://github.com/dsl-nn/dsl/blob/main/docs/diagnostics/";

    public static readonly DiagnosticDescriptor NetworkMustBePartial = Error(
        DiagnosticIds.NetworkMustBePartial, "A network must be a top-level partial class");

    public static readonly DiagnosticDescriptor NoLayers = Error(
        DiagnosticIds.NoLayers, "A network needs at least one layer");

    public static readonly DiagnosticDescriptor NonPositiveSize = Error(
        DiagnosticIds.NonPositiveSize, "Widths, input dimensions and initialiser scales must be positive");

    public static readonly DiagnosticDescriptor UnknownAttributeCombination = Error(
        DiagnosticIds.UnknownAttributeCombination, "Unknown combination of layer attributes");

    public static readonly DiagnosticDescriptor LayersSplitAcrossParts = Error(
        DiagnosticIds.LayersSplitAcrossParts, "Layers must be declared in one part of the partial class");

    public static readonly DiagnosticDescriptor ShapeMismatch = Error(
        DiagnosticIds.ShapeMismatch, "Shape mismatch");

    public static readonly DiagnosticDescriptor InvalidLayerProperty = Error(
        DiagnosticIds.InvalidLayerProperty, "A layer must be a partial, get-only property of type Dsl.Layer");

    public static readonly DiagnosticDescriptor ArgumentOutOfRange = Error(
        DiagnosticIds.ArgumentOutOfRange, "Attribute argument out of range");

    public static readonly DiagnosticDescriptor NameCollision = Error(
        DiagnosticIds.NameCollision, "Name collides with a generated member");

    /// <summary>Every descriptor, in ID order.</summary>
    public static readonly DiagnosticDescriptor[] All =
    [
        NetworkMustBePartial,
        NoLayers,
        NonPositiveSize,
        UnknownAttributeCombination,
        LayersSplitAcrossParts,
        ShapeMismatch,
        InvalidLayerProperty,
        ArgumentOutOfRange,
        NameCollision,
    ];

    public static DiagnosticDescriptor? ById(string id)
    {
        foreach (DiagnosticDescriptor descriptor in All)
        {
            if (descriptor.Id == id)
            {
                return descriptor;
            }
        }

        return null;
    }

    // The parser writes the whole message (it knows the names and numbers); the title is the rule.
    private static DiagnosticDescriptor Error(string id, string title)
        => new(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpRoot + id + ".md");
}
