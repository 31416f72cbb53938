using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Dsl.Generators.Diagnostics;
using Dsl.Generators.Graph;
using Dsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Dsl.Generators.Parsing;

/// <summary>What parsing one [Network] class gives: a valid spec, or the problems that prevent one.</summary>
internal sealed class ParseResult
{
    public ParseResult(NetworkSpec? spec, List<ParseDiagnostic> diagnostics)
    {
        Spec = spec;
        Diagnostics = diagnostics;
    }

    /// <summary>The model, or null when the declaration has an error (ours or the compiler's); warnings leave it.</summary>
    public NetworkSpec? Spec { get; }

    public List<ParseDiagnostic> Diagnostics { get; }
}

/// <summary>
/// Turns a [Network] class symbol into a <see cref="NetworkSpec"/>. With the other files of Parsing/, the only
/// place that reads Roslyn symbols. Never throws on user code, however incomplete: what it cannot read it
/// reports or skips. The class-level rules are in <see cref="DeclarationChecks"/>.
/// </summary>
internal static class NetworkParser
{
    public const string NetworkAttributeName = "Dsl.NetworkAttribute";
    private const string DenseAttributeName = "Dsl.DenseAttribute";
    private const string ActivationAttributeName = "Dsl.ActivationAttribute";

    /// <summary>Parses one [Network] type of <paramref name="compilation"/> (the compilation is read for names it must not hide).</summary>
    public static ParseResult Parse(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellationToken)
    {
        var diagnostics = new List<ParseDiagnostic>();
        if (type.TypeKind != TypeKind.Class || type.Name.Length == 0)
        {
            // [Network] on an enum or delegate is the compiler's error (CS0592); a class without a name is half-typed.
            return new ParseResult(null, diagnostics);
        }

        bool incomplete = false;
        Location classLocation = type.Locations.FirstOrDefault() ?? Location.None;

        AttributeData? network = type.GetAttributes().FirstOrDefault(a => FullName(a.AttributeClass) == NetworkAttributeName);
        if (network is null)
        {
            return new ParseResult(null, diagnostics);
        }

        DeclarationChecks.Check(type, compilation, classLocation, diagnostics, cancellationToken);

        // Input shape and loss from the [Network] attribute's named arguments.
        var input = new List<int>();
        bool inputRead = false;
        LossKind loss = LossKind.SoftmaxCrossEntropy;
        Location networkLocation = AttributeLocation(network, classLocation);
        foreach (KeyValuePair<string, TypedConstant> argument in network.NamedArguments)
        {
            if (argument.Value.Kind == TypedConstantKind.Error)
            {
                incomplete = true;
                continue;
            }

            if (argument.Key == "Input" && argument.Value.Kind == TypedConstantKind.Array && !argument.Value.IsNull)
            {
                inputRead = true;
                foreach (TypedConstant dimension in argument.Value.Values)
                {
                    if (dimension.Value is int value)
                    {
                        input.Add(value);
                    }
                    else
                    {
                        incomplete = true;
                    }
                }
            }
            else if (argument.Key == "Loss" && argument.Value.Value is int lossValue)
            {
                loss = (LossKind)lossValue;
                if (lossValue is not ((int)LossKind.SoftmaxCrossEntropy or (int)LossKind.MeanSquaredError))
                {
                    diagnostics.Add(new ParseDiagnostic(
                        DiagnosticIds.ArgumentOutOfRange,
                        networkLocation,
                        string.Format(CultureInfo.InvariantCulture, "Loss value {0} of network '{1}' is not a defined Dsl.Loss", lossValue, type.Name)));
                }
            }
        }

        if (!inputRead && NamesArgument(network, "Input"))
        {
            // Input is being typed (e.g. "Input = [)"): the compiler reports it; no shape to check yet.
            incomplete = true;
        }

        bool inputValid = true;
        foreach (int dimension in input)
        {
            if (dimension <= 0)
            {
                inputValid = false;
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.NonPositiveSize,
                    networkLocation,
                    string.Format(CultureInfo.InvariantCulture, "Input dimension {0} of network '{1}' must be positive", dimension, type.Name)));
            }
        }

        var layers = new List<LayerSpec>();
        var layerLocations = new List<Location>();
        SyntaxNode? layersPart = null;
        foreach (IPropertySymbol property in LayerPropertiesInDeclarationOrder(type))
        {
            cancellationToken.ThrowIfCancellationRequested();
            ImmutableArray<AttributeData> attributes = property.GetAttributes();
            var layerAttributes = new List<AttributeData>();
            var activationAttributes = new List<AttributeData>();
            foreach (AttributeData attribute in attributes)
            {
                if (attribute.AttributeClass is null or IErrorTypeSymbol)
                {
                    continue;
                }

                if (FullName(attribute.AttributeClass) == DenseAttributeName)
                {
                    layerAttributes.Add(attribute);
                }
                else if (DerivesFrom(attribute.AttributeClass, ActivationAttributeName))
                {
                    activationAttributes.Add(attribute);
                }
            }

            if (layerAttributes.Count == 0 && activationAttributes.Count == 0)
            {
                if (property.IsPartialDefinition && FullName(property.Type as INamedTypeSymbol) == PartialProperties.LayerTypeName && !IsGenerated(property))
                {
                    diagnostics.Add(new ParseDiagnostic(
                        DiagnosticIds.UnknownAttributeCombination,
                        property.Locations.FirstOrDefault() ?? classLocation,
                        string.Format(CultureInfo.InvariantCulture, "Layer property '{0}' has no layer attribute; declare what it is, e.g. [Dense(10)] public partial Layer {0} {{ get; }}", property.Name)));
                }

                continue;
            }

            Location propertyLocation = property.Locations.FirstOrDefault() ?? classLocation;

            // All layers must live in one part of the partial class, so declaration order is defined.
            SyntaxNode? part = property.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken).Parent;
            if (layersPart is null)
            {
                layersPart = part;
            }
            else if (part is not null && part != layersPart)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.LayersSplitAcrossParts,
                    propertyLocation,
                    string.Format(CultureInfo.InvariantCulture, "Layer '{0}' is declared in another part of partial class '{1}' than the first layer; declare all layers in one part so their order is defined", property.Name, type.Name)));
            }

            if (layerAttributes.Count != 1 || activationAttributes.Count > 1)
            {
                string problem = layerAttributes.Count == 0
                    ? "an activation needs a layer on the same property, e.g. [Dense(100), Relu]"
                    : layerAttributes.Count > 1
                        ? "a property declares exactly one layer"
                        : "a layer takes at most one activation";
                Location at = AttributeLocation((layerAttributes.Count > 1 ? layerAttributes[1] : activationAttributes.Last()), propertyLocation);
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.UnknownAttributeCombination,
                    at,
                    string.Format(CultureInfo.InvariantCulture, "Unknown combination of attributes on '{0}': {1}", property.Name, problem)));
                continue;
            }

            if (property.Type is IErrorTypeSymbol || PartialProperties.HasCompilerErrors(property, compilation, cancellationToken))
            {
                // The compiler reports what is wrong with the declaration; a generated part would only repeat it.
                incomplete = true;
                continue;
            }

            PartialPropertySpec? implementation = CheckLayerProperty(property, propertyLocation, diagnostics, cancellationToken);
            if (GeneratedMembers.IsReserved(property.Name) || property.Name == type.Name)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.NameCollision,
                    propertyLocation,
                    string.Format(CultureInfo.InvariantCulture, "Layer '{0}' has the name of a member the generator writes into '{1}'; rename the layer", property.Name, type.Name)));
            }

            AttributeData dense = layerAttributes[0];
            Location denseLocation = AttributeLocation(dense, propertyLocation);
            if (dense.AttributeConstructor is null || dense.ConstructorArguments.Length != 1 || dense.ConstructorArguments[0].Value is not int units)
            {
                incomplete = true;
                continue;
            }

            bool hasBias = true;
            InitKind init = InitKind.TorchDefault;
            FanKind fan = FanKind.In;
            double initStd = 0.01;
            foreach (KeyValuePair<string, TypedConstant> argument in dense.NamedArguments)
            {
                object? value = argument.Value.Kind == TypedConstantKind.Error ? null : argument.Value.Value;
                switch (argument.Key)
                {
                    case "Bias" when value is bool b:
                        hasBias = b;
                        break;
                    case "Init" when value is int i:
                        init = (InitKind)i;
                        break;
                    case "Fan" when value is int f:
                        fan = (FanKind)f;
                        break;
                    case "InitStd" when value is double s:
                        initStd = s;
                        break;
                    default:
                        incomplete = true;
                        break;
                }
            }

            if (units <= 0)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.NonPositiveSize,
                    denseLocation,
                    string.Format(CultureInfo.InvariantCulture, "Dense layer '{0}' has width {1}; a width must be positive", property.Name, units)));
            }

            if (init is < InitKind.TorchDefault or > InitKind.Normal || fan is not (FanKind.In or FanKind.Out) || double.IsNaN(initStd) || double.IsInfinity(initStd))
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.ArgumentOutOfRange,
                    denseLocation,
                    string.Format(CultureInfo.InvariantCulture, "Dense layer '{0}' has Init = {1}, Fan = {2}, InitStd = {3}: each must be a defined value and InitStd a finite number", property.Name, (int)init, (int)fan, initStd)));
            }
            else if (init == InitKind.Normal && !(initStd > 0))
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.NonPositiveSize,
                    denseLocation,
                    string.Format(CultureInfo.InvariantCulture, "Dense layer '{0}' uses Init.Normal with InitStd {1}; the standard deviation must be positive", property.Name, initStd)));
            }

            ActivationKind activation = ActivationKind.Identity;
            double slope = 0;
            if (activationAttributes.Count == 1)
            {
                AttributeData attribute = activationAttributes[0];
                switch (attribute.AttributeClass!.Name)
                {
                    case "ReluAttribute": activation = ActivationKind.Relu; break;
                    case "LeakyReluAttribute":
                        activation = ActivationKind.LeakyRelu;
                        if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is double s)
                        {
                            slope = s;
                            if (double.IsNaN(s) || s < 0 || s > float.MaxValue)
                            {
                                diagnostics.Add(new ParseDiagnostic(
                                    DiagnosticIds.ArgumentOutOfRange,
                                    AttributeLocation(attribute, propertyLocation),
                                    string.Format(CultureInfo.InvariantCulture, "LeakyRelu slope {0} on '{1}' must be a finite, non-negative single-precision number", s, property.Name)));
                            }
                        }
                        else
                        {
                            incomplete = true;
                        }

                        break;
                    case "GeluAttribute": activation = ActivationKind.Gelu; break;
                    case "SiluAttribute": activation = ActivationKind.Silu; break;
                    case "TanhAttribute": activation = ActivationKind.Tanh; break;
                    case "SigmoidAttribute": activation = ActivationKind.Sigmoid; break;
                    default:
                        diagnostics.Add(new ParseDiagnostic(
                            DiagnosticIds.UnknownAttributeCombination,
                            AttributeLocation(attribute, propertyLocation),
                            string.Format(CultureInfo.InvariantCulture, "Unknown combination of attributes on '{0}': activation '{1}' is not one the generator implements", property.Name, attribute.AttributeClass.Name)));
                        break;
                }
            }

            // Without an implementation (DSL0007 was reported) the layer still takes part in the shape and size checks.
            layers.Add(new LayerSpec(property.Name, implementation ?? NoImplementation, LayerKind.Dense, units, hasBias, init, fan, initStd, activation, slope));
            layerLocations.Add(denseLocation);
        }

        if (layers.Count == 0 && layerLocations.Count == 0 && !incomplete && !diagnostics.Any(d => d.Id == DiagnosticIds.UnknownAttributeCombination))
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.NoLayers,
                classLocation,
                string.Format(CultureInfo.InvariantCulture, "Network '{0}' declares no layers; add a property such as [Dense(10)] public partial Layer Output {{ get; }}", type.Name)));
        }

        CheckSizes(input, layers, layerLocations, networkLocation, type.Name, diagnostics);

        // Shapes: only meaningful once every width is readable and positive.
        if (!incomplete && inputValid && layers.Count > 0 && layers.All(l => l.Units > 0))
        {
            foreach (ShapeError error in ShapeInference.Infer(input, layers, loss, out _))
            {
                Location at = error.LayerIndex < 0 ? networkLocation : layerLocations[error.LayerIndex];
                diagnostics.Add(new ParseDiagnostic(DiagnosticIds.ShapeMismatch, at, "Shape mismatch: " + error.Message));
            }
        }

        // A class the compiler already reports at (a name another type or namespace has, say) gets no model either:
        // the model would repeat that error in the generated file.
        incomplete |= DeclarationHasCompilerErrors(type, compilation, cancellationToken);
        if (incomplete || diagnostics.Any(d => DiagnosticDescriptors.ById(d.Id)?.DefaultSeverity != DiagnosticSeverity.Warning))
        {
            return new ParseResult(null, diagnostics);
        }

        var spec = new NetworkSpec(CSharpNames.Namespace(type.ContainingNamespace), type.Name, new EquatableArray<int>(input), loss, new EquatableArray<LayerSpec>(layers));
        return new ParseResult(spec, diagnostics);
    }

    /// <summary>Whether the compiler reports an error at the class's name in any of its declarations.</summary>
    private static bool DeclarationHasCompilerErrors(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (compilation.ContainsSyntaxTree(reference.SyntaxTree) && reference.GetSyntax(cancellationToken) is BaseTypeDeclarationSyntax declaration)
            {
                foreach (Diagnostic diagnostic in compilation.GetSemanticModel(reference.SyntaxTree).GetDeclarationDiagnostics(declaration.Identifier.Span, cancellationToken))
                {
                    if (diagnostic.Severity == DiagnosticSeverity.Error)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    /// <summary>Stands in for the implementation of a layer property reported with DSL0007 (the spec is then never built).</summary>
    private static readonly PartialPropertySpec NoImplementation = new(string.Empty, default);

    /// <summary>DSL0007 unless the property is one the generator can implement; returns its implementing declaration.</summary>
    private static PartialPropertySpec? CheckLayerProperty(IPropertySymbol property, Location location, List<ParseDiagnostic> diagnostics, CancellationToken cancellationToken)
    {
        PartialPropertySpec? implementation = null;
        string? problem = property.IsIndexer ? "an indexer cannot be a layer"
            : FullName(property.Type as INamedTypeSymbol) != PartialProperties.LayerTypeName ? "its type must be Dsl.Layer"
            : property.RefKind != RefKind.None ? "it must not return by reference"
            : property.IsStatic ? "it must not be static"
            : property.ExplicitInterfaceImplementations.Length > 0 ? "it must not implement an interface member explicitly"
            : !property.IsPartialDefinition ? "it must be a partial property declaration without a body: public partial Layer Name { get; }"
            : property.PartialImplementationPart is { } existing && !IsGenerated(existing) ? "the generator implements it; remove your implementation"
            : property.SetMethod is not null || property.GetMethod is null ? "it must have exactly a getter: { get; }"
            : (implementation = PartialProperties.Implementation(property, cancellationToken)) is not { IsGetOnly: true } ? "it must have exactly a getter: { get; }"
            : null;
        if (problem is not null)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.InvalidLayerProperty,
                location,
                string.Format(CultureInfo.InvariantCulture, "Layer property '{0}' cannot be generated: {1}", property.Name, problem)));
            return null;
        }

        return implementation;
    }

    /// <summary>
    /// Whether every declaration of a symbol is this generator's output. The analyzers see generated trees too;
    /// the compiler and the IDE name each one {generator assembly}/{generator type}/{hint name}, so a user file that
    /// merely ends in .Dsl.g.cs is not mistaken for one.
    /// </summary>
    public static bool IsGenerated(ISymbol symbol)
        => symbol.DeclaringSyntaxReferences.Length > 0 && symbol.DeclaringSyntaxReferences.All(r => IsGeneratedPath(r.SyntaxTree.FilePath));

    private static bool IsGeneratedPath(string path)
    {
        if (!path.EndsWith(GeneratedFileSuffix, System.StringComparison.Ordinal))
        {
            return false;
        }

        string[] parts = path.Split('/', '\\');
        return parts.Length >= 3 && parts[parts.Length - 2] == GeneratorTypeName && parts[parts.Length - 3] == GeneratorAssemblyName;
    }

    /// <summary>Every generated file's name ends so (see Emit/HintNames).</summary>
    public const string GeneratedFileSuffix = ".Dsl.g.cs";

    private const string GeneratorAssemblyName = "Dsl.Generators";
    private const string GeneratorTypeName = "Dsl.Generators.NetworkGenerator";

    /// <summary>The class's properties in source order (by file, then position), definitions only.</summary>
    private static IEnumerable<IPropertySymbol> LayerPropertiesInDeclarationOrder(INamedTypeSymbol type)
    {
        return type.GetMembers()
            .OfType<IPropertySymbol>()
            .Where(p => p.DeclaringSyntaxReferences.Length > 0 && !(p.PartialDefinitionPart is not null))
            .OrderBy(p => p.DeclaringSyntaxReferences[0].SyntaxTree.FilePath, System.StringComparer.Ordinal)
            .ThenBy(p => p.DeclaringSyntaxReferences[0].Span.Start);
    }

    /// <summary>Every buffer must be addressable by an int: the input size and the running parameter count.</summary>
    private static void CheckSizes(List<int> input, List<LayerSpec> layers, List<Location> layerLocations, Location networkLocation, string networkName, List<ParseDiagnostic> diagnostics)
    {
        long fanIn = 1;
        foreach (int dimension in input)
        {
            fanIn *= System.Math.Max(dimension, 1);
            if (fanIn > int.MaxValue)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.ArgumentOutOfRange,
                    networkLocation,
                    string.Format(CultureInfo.InvariantCulture, "Input of network '{0}' has more than {1} elements", networkName, int.MaxValue)));
                return;
            }
        }

        long total = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            long units = System.Math.Max(layers[i].Units, 1);
            total += (units * fanIn) + (layers[i].HasBias ? units : 0);
            if (total > MaxParameters)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.ArgumentOutOfRange,
                    layerLocations[i],
                    string.Format(CultureInfo.InvariantCulture, "Network '{0}' reaches {1} parameters at layer '{2}'; one parameter buffer holds at most {3}", networkName, total, layers[i].PropertyName, MaxParameters)));
                return;
            }

            fanIn = units;
        }
    }

    /// <summary>The largest float array .NET allocates.</summary>
    private const long MaxParameters = 0x7FFFFFC7;

    /// <summary>Whether the attribute's syntax names an argument, whatever its value's state.</summary>
    private static bool NamesArgument(AttributeData attribute, string name)
        => attribute.ApplicationSyntaxReference?.GetSyntax() is AttributeSyntax syntax
            && syntax.ArgumentList is not null
            && syntax.ArgumentList.Arguments.Any(a => a.NameEquals?.Name.Identifier.ValueText == name);

    private static Location AttributeLocation(AttributeData attribute, Location fallback)
        => attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? fallback;

    /// <summary>Whether an attribute class is one of the runtime's layer attributes ([Dense] or an activation).</summary>
    public static bool IsLayerAttribute(INamedTypeSymbol? attributeClass)
        => attributeClass is not null and not IErrorTypeSymbol
            && (FullName(attributeClass) == DenseAttributeName || DerivesFrom(attributeClass, ActivationAttributeName));

    /// <summary>Namespace-qualified name without escapes or type arguments, e.g. "Dsl.Layer"; "" for null.</summary>
    public static string FullName(INamedTypeSymbol? symbol)
    {
        if (symbol is null)
        {
            return string.Empty;
        }

        return symbol.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() + "." + symbol.Name : symbol.Name;
    }

    private static bool DerivesFrom(INamedTypeSymbol symbol, string baseName)
    {
        for (INamedTypeSymbol? current = symbol.BaseType; current is not null; current = current.BaseType)
        {
            if (FullName(current) == baseName)
            {
                return true;
            }
        }

        return false;
    }
}
