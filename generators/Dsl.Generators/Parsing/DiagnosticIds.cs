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
}
