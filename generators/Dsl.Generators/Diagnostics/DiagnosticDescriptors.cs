using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;

namespace Dsl.Generators.Diagnostics;

/// <summary>
/// The one catalog of Dsl diagnostics. Each ID has its page at docs/diagnostics/ID.md (the help link)
/// and a test with markup in tests/Dsl.Analyzers.Tests. The analyzer reports them; the generator reports
/// a network's problems too when the network cannot take a generated part (see NetworkGenerator), so it
/// compiles this file as well.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Dsl.Declaration";
    private const string SignalCategory = "Dsl.Signal";
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

    public static readonly DiagnosticDescriptor ConstructorUnavailable = Error(
        DiagnosticIds.ConstructorUnavailable, "The network class cannot take the generated constructor");

    public static readonly DiagnosticDescriptor MemberLeftUninitialized = Warning(
        DiagnosticIds.MemberLeftUninitialized, "A non-nullable member is not initialised by the generated constructor");

    public static readonly DiagnosticDescriptor NameHidden = Error(
        DiagnosticIds.NameHidden, "A type in this project hides a name the generated code uses");

    public static readonly DiagnosticDescriptor SignalOutOfBand = Signal(
        DiagnosticIds.SignalOutOfBand, "The forward signal explodes or vanishes with depth at initialisation");

    public static readonly DiagnosticDescriptor GradientOutOfBand = Signal(
        DiagnosticIds.GradientOutOfBand, "The gradient explodes or vanishes with depth at initialisation");

    public static readonly DiagnosticDescriptor ResidualGrowth = Signal(
        DiagnosticIds.ResidualGrowth, "A residual stream grows exponentially with depth");

    public static readonly DiagnosticDescriptor DeepBatchNormWithoutSkips = Signal(
        DiagnosticIds.DeepBatchNormWithoutSkips, "A deep BatchNorm network without residual connections");

    public static readonly DiagnosticDescriptor FinalNormMissing = Signal(
        DiagnosticIds.FinalNormMissing, "A pre-norm residual stack needs a final normalisation");

    public static readonly DiagnosticDescriptor RedundantBias = Signal(
        DiagnosticIds.RedundantBias, "A bias right before BatchNorm is cancelled");

    public static readonly DiagnosticDescriptor BiasMeanCancelled = Create(
        DiagnosticIds.BiasMeanCancelled, "LayerNorm cancels the mean of the bias before it", DiagnosticSeverity.Info, SignalCategory);

    public static readonly DiagnosticDescriptor NormOnSkipPath = Signal(
        DiagnosticIds.NormOnSkipPath, "The skip path of a residual block must stay an identity");

    public static readonly DiagnosticDescriptor DropoutBeforeBatchNorm = Signal(
        DiagnosticIds.DropoutBeforeBatchNorm, "Dropout before BatchNorm shifts its variance between training and evaluation");

    public static readonly DiagnosticDescriptor PostNormWithoutWarmup = Signal(
        DiagnosticIds.PostNormWithoutWarmup, "A deep post-norm residual stack needs a learning-rate warm-up");

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
        ConstructorUnavailable,
        MemberLeftUninitialized,
        NameHidden,
        SignalOutOfBand,
        GradientOutOfBand,
        ResidualGrowth,
        DeepBatchNormWithoutSkips,
        FinalNormMissing,
        RedundantBias,
        BiasMeanCancelled,
        NormOnSkipPath,
        DropoutBeforeBatchNorm,
        PostNormWithoutWarmup,
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
    private static DiagnosticDescriptor Error(string id, string title) => Create(id, title, DiagnosticSeverity.Error);

    private static DiagnosticDescriptor Warning(string id, string title) => Create(id, title, DiagnosticSeverity.Warning);

    // What signal propagation predicts and the ordering rules: warnings, each severity settable in .editorconfig.
    private static DiagnosticDescriptor Signal(string id, string title) => Create(id, title, DiagnosticSeverity.Warning, SignalCategory);

    private static DiagnosticDescriptor Create(string id, string title, DiagnosticSeverity severity, string category = Category)
        => new(id, title, "{0}", category, severity, isEnabledByDefault: true, helpLinkUri: HelpRoot + id + ".md");
}
