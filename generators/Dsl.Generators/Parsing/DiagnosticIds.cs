namespace Dsl.Generators.Parsing;

/// <summary>
/// The IDs the parser reports. Titles, messages, severities and help links live in the analyzers'
/// one catalog (generators/Dsl.Generators/Diagnostics/DiagnosticDescriptors.cs); each ID has its page
/// under docs/diagnostics/.
/// </summary>
internal static class DiagnosticIds
{
    /// <summary>A [Network] class is not a top-level, non-generic partial class.</summary>
    public const string NetworkMustBePartial = "DSL0001";

    /// <summary>A [Network] class declares no layer.</summary>
    public const string NoLayers = "DSL0002";

    /// <summary>A width, input dimension or initialiser scale is zero or negative.</summary>
    public const string NonPositiveSize = "DSL0003";

    /// <summary>Attributes that do not make one layer: two layers on one property, two activations, an activation alone.</summary>
    public const string UnknownAttributeCombination = "DSL0004";

    /// <summary>Layers declared in more than one part of the partial class (their order would be undefined).</summary>
    public const string LayersSplitAcrossParts = "DSL0005";

    /// <summary>A shape mismatch along the declared path.</summary>
    public const string ShapeMismatch = "DSL0006";

    /// <summary>A layer property that the generator cannot implement: not partial, not a get-only Dsl.Layer, static or already implemented.</summary>
    public const string InvalidLayerProperty = "DSL0007";

    /// <summary>An attribute argument outside what can be generated: an undefined enum value, a non-finite number, sizes beyond an array's reach.</summary>
    public const string ArgumentOutOfRange = "DSL0008";

    /// <summary>A layer or other member named like a member the generator writes.</summary>
    public const string NameCollision = "DSL0009";

    /// <summary>The class cannot take the generated constructor: a primary constructor, or a base class without an accessible parameterless constructor.</summary>
    public const string ConstructorUnavailable = "DSL0010";

    /// <summary>A non-nullable field or auto-property without an initializer, which the generated constructor leaves null.</summary>
    public const string MemberLeftUninitialized = "DSL0011";

    /// <summary>A type declared in the project hides a namespace or type the generated code names (System.*, ILGPU.*, Dsl.*).</summary>
    public const string NameHidden = "DSL0012";

    /// <summary>The forward signal's second moment leaves the band over the network at initialisation.</summary>
    public const string SignalOutOfBand = "DSL0101";

    /// <summary>The gradient's squared norm leaves the band from the output to the input at initialisation.</summary>
    public const string GradientOutOfBand = "DSL0102";

    /// <summary>A residual stream grows exponentially with depth: no normalisation in the branches, no scale, no zero init.</summary>
    public const string ResidualGrowth = "DSL0103";

    /// <summary>Many BatchNorm layers and no residual connection: the gradient grows geometrically whatever the initialiser.</summary>
    public const string DeepBatchNormWithoutSkips = "DSL0104";

    /// <summary>A pre-norm residual stack feeds the head with no final normalisation.</summary>
    public const string FinalNormMissing = "DSL0105";

    /// <summary>A dense or convolution layer's bias feeds a BatchNorm, which cancels it.</summary>
    public const string RedundantBias = "DSL0106";

    /// <summary>A dense or convolution layer's bias feeds a LayerNorm, which cancels its mean (information).</summary>
    public const string BiasMeanCancelled = "DSL0107";

    /// <summary>A BatchNorm reads a residual add: the skip path is normalised.</summary>
    public const string NormOnSkipPath = "DSL0108";

    /// <summary>Dropout reaches a BatchNorm with no normalisation between.</summary>
    public const string DropoutBeforeBatchNorm = "DSL0109";

    /// <summary>A deep post-norm residual stack (a norm after each add) and no learning-rate warm-up declared.</summary>
    public const string PostNormWithoutWarmup = "DSL0110";
}
