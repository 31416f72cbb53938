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
    public ParseResult(NetworkSpec? spec, List<ParseDiagnostic> diagnostics, string? brokenBlock = null)
    {
        Spec = spec;
        Diagnostics = diagnostics;
        BrokenBlock = brokenBlock;
    }

    /// <summary>A block the network uses that has errors of its own (reported at the block), or null.</summary>
    public string? BrokenBlock { get; }

    /// <summary>The model, or null when the declaration has an error (ours or the compiler's); warnings leave it.</summary>
    public NetworkSpec? Spec { get; }

    public List<ParseDiagnostic> Diagnostics { get; }

    /// <summary>With a model: its items as parsed, whose locations map a graph node's origin to its attribute (the analyzer's signal rules).</summary>
    public ParsedItems? Items { get; init; }

    /// <summary>With a model: the [Network] attribute, where a problem of the whole network is reported.</summary>
    public Location? NetworkLocation { get; init; }

    /// <summary>With a model of a graph network: its lowered graph, as the shape checks lowered it (null for a dense chain).</summary>
    public LoweredGraph? Graph { get; init; }
}

/// <summary>
/// Turns a [Network] class symbol into a <see cref="NetworkSpec"/>. With the other files of Parsing/, the only
/// place that reads Roslyn symbols. Never throws on user code, however incomplete: what it cannot read it
/// reports or skips. The class-level rules are in <see cref="DeclarationChecks"/>.
/// </summary>
internal static class NetworkParser
{
    public const string NetworkAttributeName = "Dsl.NetworkAttribute";

    /// <summary>Whether the type carries [Network] (a class with both [Network] and [Block] is a network).</summary>
    public static bool IsNetwork(INamedTypeSymbol type) => type.GetAttributes().Any(a => FullName(a.AttributeClass) == NetworkAttributeName);

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

        TrainingSpec? training = TrainingParser.Parse(type, classLocation, diagnostics, ref incomplete);

        var itemParser = new ItemParser(compilation, cancellationToken);
        ParsedItems parsed = itemParser.Parse(type, diagnostics);
        incomplete |= parsed.Incomplete;
        bool graph = parsed.Items.Any(item => item.Layer is not { Kind: LayerKind.Dense });
        var layers = graph ? new List<LayerSpec>() : parsed.Items.Select(item => item.Layer!).ToList();
        var layerLocations = graph ? new List<Location>() : parsed.Locations;
        if (parsed.Items.Count == 0 && !incomplete && !diagnostics.Any(d => d.Id == DiagnosticIds.UnknownAttributeCombination))
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.NoLayers,
                classLocation,
                string.Format(CultureInfo.InvariantCulture, "Network '{0}' declares no layers; add a property such as [Dense(10)] public partial Layer Output {{ get; }}", type.Name)));
        }

        CheckSizes(input, layers, layerLocations, networkLocation, type.Name, diagnostics);

        // A graph network's shapes, sizes and parameter count come from its lowered graph, once every size is readable
        // and valid; each error at the attribute that causes it, inside a block if that is where it is.
        LoweredGraph? lowered = null;
        if (graph && !incomplete && inputValid && !diagnostics.Any(d => d.Id is DiagnosticIds.NonPositiveSize or DiagnosticIds.ArgumentOutOfRange))
        {
            lowered = GraphLowering.Lower(type.Name, input, parsed.Items, loss);
            foreach (GraphError error in lowered.Errors)
            {
                // An error inside a block is reported at its attribute there, and at the network's property that uses
                // the block, so the network's own declaration says why it has no model.
                EquatableArray<int> top = error.Origin.Count == 0 ? error.Origin : new EquatableArray<int>(new[] { error.Origin[0] });
                Location useSite = parsed.LocationOf(top) ?? networkLocation;
                if (error.IsSize)
                {
                    diagnostics.Add(new ParseDiagnostic(DiagnosticIds.ArgumentOutOfRange, useSite, "Network too large: " + error.Message));
                    continue;
                }

                Location at = parsed.LocationOf(error.Origin) ?? networkLocation;
                diagnostics.Add(new ParseDiagnostic(DiagnosticIds.ShapeMismatch, at, "Shape mismatch: " + error.Message, error.NeedsFlatten ? ParseDiagnostic.InsertFlatten : null));
                if (error.Origin.Count > 1)
                {
                    diagnostics.Add(new ParseDiagnostic(
                        DiagnosticIds.ShapeMismatch,
                        useSite,
                        "Shape mismatch inside the block this property uses (reported at its attribute there): " + error.Message));
                }
            }
        }

        // Shapes: only meaningful once every width is readable and positive.
        if (!graph && !incomplete && inputValid && layers.Count > 0 && layers.All(l => l.Units > 0))
        {
            foreach (ShapeError error in ShapeInference.Infer(input, layers, loss, out _))
            {
                Location at = error.LayerIndex < 0 ? networkLocation : layerLocations[error.LayerIndex];
                diagnostics.Add(new ParseDiagnostic(DiagnosticIds.ShapeMismatch, at, "Shape mismatch: " + error.Message, error.NeedsFlatten ? ParseDiagnostic.InsertFlatten : null));
            }
        }

        // A class the compiler already reports at (a name another type or namespace has, say) gets no model either:
        // the model would repeat that error in the generated file.
        incomplete |= DeclarationHasCompilerErrors(type, compilation, cancellationToken);
        if (incomplete || diagnostics.Any(d => DiagnosticDescriptors.ById(d.Id)?.DefaultSeverity != DiagnosticSeverity.Warning))
        {
            return new ParseResult(null, diagnostics, parsed.BrokenBlock);
        }

        var spec = new NetworkSpec(
            CSharpNames.Namespace(type.ContainingNamespace), type.Name, new EquatableArray<int>(input), loss, new EquatableArray<LayerSpec>(layers),
            new EquatableArray<ItemSpec>(parsed.Items), training);
        return new ParseResult(spec, diagnostics, null) { Items = parsed, NetworkLocation = networkLocation, Graph = lowered };
    }

    /// <summary>Whether the compiler reports an error at the class's name in any of its declarations.</summary>
    public static bool DeclarationHasCompilerErrors(INamedTypeSymbol type, Compilation compilation, CancellationToken cancellationToken)
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
    public static readonly PartialPropertySpec NoImplementation = new(string.Empty, default);

    /// <summary>DSL0007 unless the property is one the generator can implement; returns its implementing declaration.</summary>
    public static PartialPropertySpec? CheckLayerProperty(IPropertySymbol property, Location location, List<ParseDiagnostic> diagnostics, CancellationToken cancellationToken)
        => CheckProperty(property, location, "Layer property", diagnostics, cancellationToken);

    /// <summary>DSL0007 unless the layer or block property (<paramref name="what"/>) is one the generator can implement.</summary>
    public static PartialPropertySpec? CheckProperty(IPropertySymbol property, Location location, string what, List<ParseDiagnostic> diagnostics, CancellationToken cancellationToken)
    {
        PartialPropertySpec? implementation = null;
        string? problem = property.IsIndexer ? "an indexer cannot be a layer"
            : what == "Layer property" && FullName(property.Type as INamedTypeSymbol) != PartialProperties.LayerTypeName ? "its type must be Dsl.Layer"
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
                string.Format(CultureInfo.InvariantCulture, "{2} '{0}' cannot be generated: {1}", property.Name, problem, what)));
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
    public static IEnumerable<IPropertySymbol> LayerPropertiesInDeclarationOrder(INamedTypeSymbol type)
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

    public static Location AttributeLocation(AttributeData attribute, Location fallback)
        => attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? fallback;

    /// <summary>Whether an attribute class is one of the runtime's layer attributes ([Dense] or an activation).</summary>
    public static bool IsLayerAttribute(INamedTypeSymbol? attributeClass) => ItemParser.IsLayerAttribute(attributeClass);

    /// <summary>Namespace-qualified name without escapes or type arguments, e.g. "Dsl.Layer"; "" for null.</summary>
    public static string FullName(INamedTypeSymbol? symbol)
    {
        if (symbol is null)
        {
            return string.Empty;
        }

        return symbol.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() + "." + symbol.Name : symbol.Name;
    }
}
