using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Dsl.Generators.Diagnostics;
using Dsl.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Dsl.Generators.Parsing;

/// <summary>
/// The items of a network or block class as parsed: one per layer or block property in declaration order, each with
/// the location its diagnostics point at, and for a block property the parsed block (whose items have their own
/// locations), so a shape error found anywhere in the lowered graph maps back to its attribute.
/// </summary>
internal sealed class ParsedItems
{
    public List<ItemSpec> Items { get; } = new();

    public List<Location> Locations { get; } = new();

    /// <summary>Per item: the parsed block for a block property, null for a layer.</summary>
    public List<ParsedBlock?> Blocks { get; } = new();

    /// <summary>Something could not be read (the compiler reports it), or a used block has errors of its own.</summary>
    public bool Incomplete { get; set; }

    /// <summary>The first used block with errors of its own, for the fallback's message.</summary>
    public string? BrokenBlock { get; set; }

    /// <summary>The location of the item at <paramref name="origin"/> (item indices from here down), or null.</summary>
    public Location? LocationOf(EquatableArray<int> origin)
    {
        ParsedItems current = this;
        Location? location = null;
        for (int i = 0; i < origin.Count; i++)
        {
            int index = origin[i];
            if (index < 0 || index >= current.Locations.Count)
            {
                return location;
            }

            location = current.Locations[index];
            if (i + 1 < origin.Count)
            {
                if (current.Blocks[index] is not { Items: { } inner })
                {
                    return location;
                }

                current = inner;
            }
        }

        return location;
    }
}

/// <summary>A parsed [Block] class: its spec when valid, its items, and its own problems.</summary>
internal sealed class ParsedBlock
{
    public ParsedBlock(BlockSpec? spec, ParsedItems? items, List<ParseDiagnostic> diagnostics)
    {
        Spec = spec;
        Items = items;
        Diagnostics = diagnostics;
    }

    public BlockSpec? Spec { get; }

    public ParsedItems? Items { get; }

    public List<ParseDiagnostic> Diagnostics { get; }
}

/// <summary>
/// Reads the layer and block properties of a network or block class. Never throws on user code: what it cannot read
/// marks the items incomplete (the compiler reports it), what is wrong it reports.
/// </summary>
internal sealed class ItemParser
{
    private const string DenseAttributeName = "Dsl.DenseAttribute";
    private const string ActivationAttributeName = "Dsl.ActivationAttribute";
    private const string LayerNormAttributeName = "Dsl.LayerNormAttribute";
    private const string RmsNormAttributeName = "Dsl.RmsNormAttribute";
    private const string DropoutAttributeName = "Dsl.DropoutAttribute";
    private const string ScaleAttributeName = "Dsl.ScaleAttribute";
    private const string BatchNormAttributeName = "Dsl.BatchNormAttribute";
    private const string Conv1dAttributeName = "Dsl.Conv1dAttribute";
    private const string FlattenAttributeName = "Dsl.FlattenAttribute";
    private const string Conv2dAttributeName = "Dsl.Conv2dAttribute";
    private const string MaxPool1dAttributeName = "Dsl.MaxPool1dAttribute";
    private const string MaxPool2dAttributeName = "Dsl.MaxPool2dAttribute";
    private const string AvgPool1dAttributeName = "Dsl.AvgPool1dAttribute";
    private const string AvgPool2dAttributeName = "Dsl.AvgPool2dAttribute";
    private const string GlobalAvgPoolAttributeName = "Dsl.GlobalAvgPoolAttribute";
    private const string ResidualAttributeName = "Dsl.ResidualAttribute";
    private const string RepeatAttributeName = "Dsl.RepeatAttribute";
    public const string BlockAttributeName = "Dsl.BlockAttribute";
    private const string RepeatedTypeName = "Dsl.Repeated";

    /// <summary>Blocks nest at most this deep.</summary>
    private const int MaxBlockDepth = 16;

    private readonly Compilation _compilation;
    private readonly CancellationToken _cancellationToken;
    private readonly Dictionary<INamedTypeSymbol, ParsedBlock> _blocks = new(SymbolEqualityComparer.Default);
    private readonly List<INamedTypeSymbol> _visiting = new();

    public ItemParser(Compilation compilation, CancellationToken cancellationToken)
    {
        _compilation = compilation;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Whether an attribute class is one of the runtime's attributes for a layer or block property.</summary>
    public static bool IsLayerAttribute(INamedTypeSymbol? attributeClass)
        => attributeClass is not null and not IErrorTypeSymbol
            && (DeclaresLayer(NetworkParser.FullName(attributeClass)) || NetworkParser.FullName(attributeClass) is ResidualAttributeName or RepeatAttributeName
                || DerivesFrom(attributeClass, ActivationAttributeName));

    /// <summary>Whether an attribute's full name is one that declares a layer (every layer attribute but the activations).</summary>
    private static bool DeclaresLayer(string name)
        => name is DenseAttributeName or LayerNormAttributeName or RmsNormAttributeName or BatchNormAttributeName or DropoutAttributeName or ScaleAttributeName
            or Conv1dAttributeName or Conv2dAttributeName or FlattenAttributeName or MaxPool1dAttributeName or MaxPool2dAttributeName or AvgPool1dAttributeName
            or AvgPool2dAttributeName or GlobalAvgPoolAttributeName;

    /// <summary>Whether a property's type is one the generator implements block properties with: a [Block] class or Dsl.Repeated&lt;T&gt;.</summary>
    public static bool IsBlockPropertyType(ITypeSymbol? type)
        => type is INamedTypeSymbol named
            && (IsBlockClass(named) || (named.IsGenericType && NetworkParser.FullName(named) == RepeatedTypeName));

    public static bool IsBlockClass(INamedTypeSymbol type)
        => type.TypeKind == TypeKind.Class && type.GetAttributes().Any(a => NetworkParser.FullName(a.AttributeClass) == BlockAttributeName);

    /// <summary>Parses a [Block] class on its own: its class rules and its items (blocks it uses report their own problems).</summary>
    public ParsedBlock ParseBlock(INamedTypeSymbol type)
    {
        if (_blocks.TryGetValue(type, out ParsedBlock? parsed))
        {
            return parsed;
        }

        var diagnostics = new List<ParseDiagnostic>();
        Location classLocation = type.Locations.FirstOrDefault() ?? Location.None;
        DeclarationChecks.Check(type, _compilation, classLocation, diagnostics, _cancellationToken, block: true);
        _visiting.Add(type);
        ParsedItems items = Parse(type, diagnostics);
        _visiting.RemoveAt(_visiting.Count - 1);
        if (items.Items.Count == 0 && !items.Incomplete && !diagnostics.Any(d => d.Id == DiagnosticIds.UnknownAttributeCombination))
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.NoLayers,
                classLocation,
                string.Format(CultureInfo.InvariantCulture, "Block '{0}' declares no layers; add a property such as [Dense(10)] public partial Layer Output {{ get; }}", type.Name)));
        }

        items.Incomplete |= NetworkParser.DeclarationHasCompilerErrors(type, _compilation, _cancellationToken);
        bool valid = !items.Incomplete && !diagnostics.Any(d => DiagnosticDescriptors.ById(d.Id)?.DefaultSeverity != DiagnosticSeverity.Warning);
        BlockSpec? spec = valid
            ? new BlockSpec(CSharpNames.Namespace(type.ContainingNamespace), type.Name, TypeName(type), new EquatableArray<ItemSpec>(items.Items))
            : null;
        parsed = new ParsedBlock(spec, items, diagnostics);
        _blocks[type] = parsed;
        return parsed;
    }

    /// <summary>The items of <paramref name="type"/> in declaration order; its problems go to <paramref name="diagnostics"/>.</summary>
    public ParsedItems Parse(INamedTypeSymbol type, List<ParseDiagnostic> diagnostics)
    {
        var result = new ParsedItems();
        Location classLocation = type.Locations.FirstOrDefault() ?? Location.None;
        SyntaxNode? layersPart = null;
        foreach (IPropertySymbol property in NetworkParser.LayerPropertiesInDeclarationOrder(type))
        {
            _cancellationToken.ThrowIfCancellationRequested();
            ImmutableArray<AttributeData> attributes = property.GetAttributes();
            var layerAttributes = new List<AttributeData>();
            var activationAttributes = new List<AttributeData>();
            AttributeData? residual = null;
            AttributeData? repeat = null;
            foreach (AttributeData attribute in attributes)
            {
                if (attribute.AttributeClass is null or IErrorTypeSymbol)
                {
                    continue;
                }

                string name = NetworkParser.FullName(attribute.AttributeClass);
                if (DeclaresLayer(name))
                {
                    layerAttributes.Add(attribute);
                }
                else if (name == ResidualAttributeName)
                {
                    residual = attribute;
                }
                else if (name == RepeatAttributeName)
                {
                    repeat = attribute;
                }
                else if (DerivesFrom(attribute.AttributeClass, ActivationAttributeName))
                {
                    activationAttributes.Add(attribute);
                }
            }

            bool blockProperty = IsBlockPropertyType(property.Type) || residual is not null || repeat is not null;
            if (layerAttributes.Count == 0 && activationAttributes.Count == 0 && !blockProperty)
            {
                if (property.IsPartialDefinition && NetworkParser.FullName(property.Type as INamedTypeSymbol) == PartialProperties.LayerTypeName && !NetworkParser.IsGenerated(property))
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
            SyntaxNode? part = property.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(_cancellationToken).Parent;
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

            if (blockProperty)
            {
                if (layerAttributes.Count > 0 || activationAttributes.Count > 0)
                {
                    AttributeData extra = layerAttributes.Count > 0 ? layerAttributes[0] : activationAttributes[0];
                    diagnostics.Add(new ParseDiagnostic(
                        DiagnosticIds.UnknownAttributeCombination,
                        NetworkParser.AttributeLocation(extra, propertyLocation),
                        string.Format(CultureInfo.InvariantCulture, "Unknown combination of attributes on '{0}': a block property takes [Residual] and [Repeat] only; declare the layer in the block", property.Name)));
                    continue;
                }

                ParseBlockProperty(property, propertyLocation, residual, repeat, type, result, diagnostics);
                continue;
            }

            bool takesActivation = layerAttributes.Count == 1 && NetworkParser.FullName(layerAttributes[0].AttributeClass) is DenseAttributeName or Conv1dAttributeName or Conv2dAttributeName;
            if (layerAttributes.Count > 1 || activationAttributes.Count > 1 || (layerAttributes.Count == 1 && !takesActivation && activationAttributes.Count > 0))
            {
                string problem = layerAttributes.Count > 1
                    ? "a property declares exactly one layer"
                    : activationAttributes.Count > 1
                        ? "a layer takes at most one activation"
                        : "only a dense or convolution layer takes an activation on the same property; declare the activation as a layer of its own";
                Location at = NetworkParser.AttributeLocation(layerAttributes.Count > 1 ? layerAttributes[1] : activationAttributes.Last(), propertyLocation);
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.UnknownAttributeCombination,
                    at,
                    string.Format(CultureInfo.InvariantCulture, "Unknown combination of attributes on '{0}': {1}", property.Name, problem)));
                continue;
            }

            if (property.Type is IErrorTypeSymbol || PartialProperties.HasCompilerErrors(property, _compilation, _cancellationToken))
            {
                // The compiler reports what is wrong with the declaration; a generated part would only repeat it.
                result.Incomplete = true;
                continue;
            }

            PartialPropertySpec? implementation = NetworkParser.CheckLayerProperty(property, propertyLocation, diagnostics, _cancellationToken);
            CheckName(property, propertyLocation, type, diagnostics);

            AttributeData main = layerAttributes.Count == 1 ? layerAttributes[0] : activationAttributes[0];
            Location mainLocation = NetworkParser.AttributeLocation(main, propertyLocation);
            LayerSpec? layer = layerAttributes.Count == 0
                ? StandaloneActivation(property, activationAttributes[0], propertyLocation, diagnostics, result)
                : NetworkParser.FullName(main.AttributeClass) switch
                {
                    DenseAttributeName => Dense(property, main, activationAttributes.Count == 1 ? activationAttributes[0] : null, propertyLocation, diagnostics, result),
                    Conv1dAttributeName => Convolution(property, main, activationAttributes.Count == 1 ? activationAttributes[0] : null, twoDimensional: false, propertyLocation, diagnostics, result),
                    Conv2dAttributeName => Convolution(property, main, activationAttributes.Count == 1 ? activationAttributes[0] : null, twoDimensional: true, propertyLocation, diagnostics, result),
                    MaxPool1dAttributeName => Pool(property, main, LayerKind.MaxPool1d, mainLocation, diagnostics, result),
                    MaxPool2dAttributeName => Pool(property, main, LayerKind.MaxPool2d, mainLocation, diagnostics, result),
                    AvgPool1dAttributeName => Pool(property, main, LayerKind.AvgPool1d, mainLocation, diagnostics, result),
                    AvgPool2dAttributeName => Pool(property, main, LayerKind.AvgPool2d, mainLocation, diagnostics, result),
                    FlattenAttributeName => new LayerSpec(property.Name, NetworkParser.NoImplementation, LayerKind.Flatten, 0, false, InitKind.TorchDefault, FanKind.In, 0, ActivationKind.Identity, 0),
                    GlobalAvgPoolAttributeName => new LayerSpec(property.Name, NetworkParser.NoImplementation, LayerKind.GlobalAvgPool, 0, false, InitKind.TorchDefault, FanKind.In, 0, ActivationKind.Identity, 0),
                    DropoutAttributeName => Dropout(property, main, mainLocation, diagnostics, result),
                    ScaleAttributeName => Scale(property, main, mainLocation, diagnostics, result),
                    _ => Norm(property, main, mainLocation, diagnostics, result),
                };
            if (layer is null)
            {
                continue;
            }

            // Without an implementation (DSL0007 was reported) the layer still takes part in the shape and size checks.
            result.Items.Add(new ItemSpec(layer with { Implementation = implementation ?? NetworkParser.NoImplementation }, null));
            result.Locations.Add(mainLocation);
            result.Blocks.Add(null);
        }

        return result;
    }

    private static void CheckName(IPropertySymbol property, Location propertyLocation, INamedTypeSymbol type, List<ParseDiagnostic> diagnostics)
    {
        if (GeneratedMembers.IsReserved(property.Name) || property.Name == type.Name)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.NameCollision,
                propertyLocation,
                string.Format(CultureInfo.InvariantCulture, "Layer '{0}' has the name of a member the generator writes into '{1}'; rename the layer", property.Name, type.Name)));
        }
    }

    /// <summary>[Dense(units, Bias, Init, Fan, InitStd)] with at most one activation attribute.</summary>
    private static LayerSpec? Dense(IPropertySymbol property, AttributeData dense, AttributeData? activationAttribute, Location propertyLocation, List<ParseDiagnostic> diagnostics, ParsedItems result)
    {
        Location denseLocation = NetworkParser.AttributeLocation(dense, propertyLocation);
        if (dense.AttributeConstructor is null || dense.ConstructorArguments.Length != 1 || dense.ConstructorArguments[0].Value is not int units)
        {
            result.Incomplete = true;
            return null;
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
                    result.Incomplete = true;
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

        CheckInit("Dense layer", property, init, fan, initStd, denseLocation, diagnostics);
        ActivationKind activation = ActivationKind.Identity;
        double slope = 0;
        if (activationAttribute is not null && !Activation(property, activationAttribute, propertyLocation, diagnostics, result, out activation, out slope))
        {
            activation = ActivationKind.Identity;
        }

        return new LayerSpec(property.Name, NetworkParser.NoImplementation, LayerKind.Dense, units, hasBias, init, fan, initStd, activation, slope);
    }

    /// <summary>
    /// [Conv1d(outChannels, kernel)] or [Conv2d(outChannels, kernel)] / [Conv2d(outChannels, kernelHeight, kernelWidth)]
    /// with Stride, Padding, Dilation (both axes; per axis where given), Groups, Bias, Init, Fan and InitStd, and at most
    /// one activation attribute.
    /// </summary>
    private static LayerSpec? Convolution(
        IPropertySymbol property, AttributeData conv, AttributeData? activationAttribute, bool twoDimensional, Location propertyLocation, List<ParseDiagnostic> diagnostics, ParsedItems result)
    {
        string what = twoDimensional ? "Conv2d" : "Conv1d";
        Location location = NetworkParser.AttributeLocation(conv, propertyLocation);
        if (conv.AttributeConstructor is null || conv.ConstructorArguments.Length is < 2 or > 3 || (!twoDimensional && conv.ConstructorArguments.Length != 2)
            || conv.ConstructorArguments.Any(a => a.Value is not int))
        {
            result.Incomplete = true;
            return null;
        }

        int outChannels = (int)conv.ConstructorArguments[0].Value!;
        int kernelHeight = twoDimensional ? (int)conv.ConstructorArguments[1].Value! : 1;
        int kernelWidth = (int)conv.ConstructorArguments[conv.ConstructorArguments.Length - 1].Value!;
        int groups = 1;
        bool hasBias = true;
        InitKind init = InitKind.TorchDefault;
        FanKind fan = FanKind.In;
        double initStd = 0.01;
        var window = new Window(1, 0, 1);
        foreach (KeyValuePair<string, TypedConstant> argument in conv.NamedArguments)
        {
            object? value = argument.Value.Kind == TypedConstantKind.Error ? null : argument.Value.Value;
            switch (argument.Key)
            {
                case "Groups" when value is int v: groups = v; break;
                case "Bias" when value is bool b: hasBias = b; break;
                case "Init" when value is int i: init = (InitKind)i; break;
                case "Fan" when value is int f: fan = (FanKind)f; break;
                case "InitStd" when value is double d: initStd = d; break;
                default:
                    if (!window.Read(argument.Key, value, twoDimensional, dilation: true))
                    {
                        result.Incomplete = true;
                    }

                    break;
            }
        }

        window.Resolve(twoDimensional);
        var sizes = new List<(string Name, int Size)> { ("output channels", outChannels) };
        sizes.AddRange(window.Sizes(kernelHeight, kernelWidth, twoDimensional, dilation: true));
        sizes.Add(("groups", groups));
        CheckWindow(what, property, sizes, window, twoDimensional, location, diagnostics);
        CheckInit(what, property, init, fan, initStd, location, diagnostics);
        ActivationKind activation = ActivationKind.Identity;
        double slope = 0;
        if (activationAttribute is not null && !Activation(property, activationAttribute, propertyLocation, diagnostics, result, out activation, out slope))
        {
            activation = ActivationKind.Identity;
        }

        return new LayerSpec(property.Name, NetworkParser.NoImplementation, twoDimensional ? LayerKind.Conv2d : LayerKind.Conv1d, outChannels, hasBias, init, fan, initStd, activation, slope,
            Kernel: kernelWidth, Stride: window.StrideWidth, Padding: window.PaddingWidth, Dilation: window.DilationWidth, Groups: groups,
            KernelHeight: kernelHeight, StrideHeight: window.StrideHeight, PaddingHeight: window.PaddingHeight, DilationHeight: window.DilationHeight);
    }

    /// <summary>
    /// [MaxPool1d(kernel)], [AvgPool1d(kernel)], [MaxPool2d(kernel)] / [MaxPool2d(kernelHeight, kernelWidth)] and
    /// [AvgPool2d(...)]: the stride defaults to the kernel (PyTorch's default), padding to 0, a max pool's dilation to 1;
    /// PyTorch's limit on the padding (at most half the window) is checked here.
    /// </summary>
    private static LayerSpec? Pool(IPropertySymbol property, AttributeData pool, LayerKind kind, Location location, List<ParseDiagnostic> diagnostics, ParsedItems result)
    {
        bool twoDimensional = kind is LayerKind.MaxPool2d or LayerKind.AvgPool2d, average = kind is LayerKind.AvgPool1d or LayerKind.AvgPool2d;
        if (pool.AttributeConstructor is null || pool.ConstructorArguments.Length is < 1 or > 2 || (!twoDimensional && pool.ConstructorArguments.Length != 1)
            || pool.ConstructorArguments.Any(a => a.Value is not int))
        {
            result.Incomplete = true;
            return null;
        }

        int kernelHeight = twoDimensional ? (int)pool.ConstructorArguments[0].Value! : 1;
        int kernelWidth = (int)pool.ConstructorArguments[pool.ConstructorArguments.Length - 1].Value!;
        var window = new Window(0, 0, 1);
        foreach (KeyValuePair<string, TypedConstant> argument in pool.NamedArguments)
        {
            object? value = argument.Value.Kind == TypedConstantKind.Error ? null : argument.Value.Value;
            if (!window.Read(argument.Key, value, twoDimensional, dilation: !average))
            {
                result.Incomplete = true;
            }
        }

        // PyTorch's stride defaults to the kernel (a non-positive kernel is reported once, not again as its stride).
        window.Resolve(twoDimensional, defaultStrideHeight: twoDimensional ? System.Math.Max(kernelHeight, 1) : 1, defaultStrideWidth: System.Math.Max(kernelWidth, 1));
        string what = kind.ToString();
        CheckWindow(what, property, window.Sizes(kernelHeight, kernelWidth, twoDimensional, dilation: !average), window, twoDimensional, location, diagnostics);
        foreach ((string axis, int kernel, int padding, int dilation) in twoDimensional
            ? new[] { ("height", kernelHeight, window.PaddingHeight, window.DilationHeight), ("width", kernelWidth, window.PaddingWidth, window.DilationWidth) }
            : new[] { ("length", kernelWidth, window.PaddingWidth, window.DilationWidth) })
        {
            // PyTorch refuses padding beyond half the window: a max pool's dilated window, an average pool's kernel.
            long limit = average ? kernel / 2 : ((((long)kernel - 1) * dilation) + 1) / 2;
            if (kernel > 0 && dilation > 0 && padding > limit)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.ArgumentOutOfRange,
                    location,
                    string.Format(CultureInfo.InvariantCulture, "{0} '{1}' has padding {2} along its {3}; at most {4}, half its {5}, as PyTorch allows", what, property.Name, padding, axis, limit, average ? "kernel" : "dilated window")));
            }
        }

        return new LayerSpec(property.Name, NetworkParser.NoImplementation, kind, 0, false, InitKind.TorchDefault, FanKind.In, 0, ActivationKind.Identity, 0,
            Kernel: kernelWidth, Stride: window.StrideWidth, Padding: window.PaddingWidth, Dilation: window.DilationWidth,
            KernelHeight: kernelHeight, StrideHeight: window.StrideHeight, PaddingHeight: window.PaddingHeight, DilationHeight: window.DilationHeight);
    }

    /// <summary>DSL0003 for each size that is not positive; DSL0008 for a negative padding.</summary>
    private static void CheckWindow(string what, IPropertySymbol property, IEnumerable<(string Name, int Size)> sizes, Window window, bool twoDimensional, Location location, List<ParseDiagnostic> diagnostics)
    {
        foreach ((string name, int size) in sizes)
        {
            if (size <= 0)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.NonPositiveSize,
                    location,
                    string.Format(CultureInfo.InvariantCulture, "{0} '{1}' has {2} {3}; it must be positive", what, property.Name, size, name)));
            }
        }

        foreach ((string name, int padding) in twoDimensional
            ? new[] { ("PaddingHeight", window.PaddingHeight), ("PaddingWidth", window.PaddingWidth) }
            : new[] { ("Padding", window.PaddingWidth) })
        {
            if (padding < 0)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.ArgumentOutOfRange,
                    location,
                    string.Format(CultureInfo.InvariantCulture, "{0} '{1}' has {2} {3}; padding is zero or more", what, property.Name, name, padding)));
            }
        }
    }

    /// <summary>
    /// A window's stride, padding and dilation as named arguments give them: the both-axes value (Stride), and per axis
    /// (StrideHeight, StrideWidth) where given, which wins. 0 in a stride means "not given" until <see cref="Resolve"/>.
    /// </summary>
    private sealed class Window(int stride, int padding, int dilation)
    {
        private int? _stride, _padding, _dilation, _strideHeight, _strideWidth, _paddingHeight, _paddingWidth, _dilationHeight, _dilationWidth;

        public int StrideHeight { get; private set; } = stride;

        public int StrideWidth { get; private set; } = stride;

        public int PaddingHeight { get; private set; } = padding;

        public int PaddingWidth { get; private set; } = padding;

        public int DilationHeight { get; private set; } = dilation;

        public int DilationWidth { get; private set; } = dilation;

        /// <summary>Reads one named argument; false for one that is not the window's (or not an int).</summary>
        public bool Read(string name, object? value, bool twoDimensional, bool dilation)
        {
            if (value is not int v)
            {
                return false;
            }

            switch (name)
            {
                case "Stride": _stride = v; return true;
                case "Padding": _padding = v; return true;
                case "Dilation" when dilation: _dilation = v; return true;
                case "StrideHeight" when twoDimensional: _strideHeight = v; return true;
                case "StrideWidth" when twoDimensional: _strideWidth = v; return true;
                case "PaddingHeight" when twoDimensional: _paddingHeight = v; return true;
                case "PaddingWidth" when twoDimensional: _paddingWidth = v; return true;
                case "DilationHeight" when twoDimensional && dilation: _dilationHeight = v; return true;
                case "DilationWidth" when twoDimensional && dilation: _dilationWidth = v; return true;
                default: return false;
            }
        }

        /// <summary>Settles each axis: its own value, else the both-axes value, else the default (a one-dimensional op's height is 1, 0, 1).</summary>
        public void Resolve(bool twoDimensional, int defaultStrideHeight = 1, int defaultStrideWidth = 1)
        {
            StrideWidth = _strideWidth ?? _stride ?? (StrideWidth == 0 ? defaultStrideWidth : StrideWidth);
            PaddingWidth = _paddingWidth ?? _padding ?? PaddingWidth;
            DilationWidth = _dilationWidth ?? _dilation ?? DilationWidth;
            StrideHeight = twoDimensional ? _strideHeight ?? _stride ?? (StrideHeight == 0 ? defaultStrideHeight : StrideHeight) : 1;
            PaddingHeight = twoDimensional ? _paddingHeight ?? _padding ?? PaddingHeight : 0;
            DilationHeight = twoDimensional ? _dilationHeight ?? _dilation ?? DilationHeight : 1;
        }

        /// <summary>The sizes that must be positive, named as the messages name them.</summary>
        public IEnumerable<(string Name, int Size)> Sizes(int kernelHeight, int kernelWidth, bool twoDimensional, bool dilation)
        {
            if (twoDimensional)
            {
                yield return ("kernel height", kernelHeight);
                yield return ("kernel width", kernelWidth);
                yield return ("stride height", StrideHeight);
                yield return ("stride width", StrideWidth);
                if (dilation)
                {
                    yield return ("dilation height", DilationHeight);
                    yield return ("dilation width", DilationWidth);
                }
            }
            else
            {
                yield return ("kernel", kernelWidth);
                yield return ("stride", StrideWidth);
                if (dilation)
                {
                    yield return ("dilation", DilationWidth);
                }
            }
        }
    }

    /// <summary>DSL0008 for an undefined Init or Fan or a non-finite InitStd; DSL0003 for Init.Normal without a positive InitStd.</summary>
    private static void CheckInit(string what, IPropertySymbol property, InitKind init, FanKind fan, double initStd, Location location, List<ParseDiagnostic> diagnostics)
    {
        if (init is < InitKind.TorchDefault or > InitKind.Normal || fan is not (FanKind.In or FanKind.Out) || double.IsNaN(initStd) || double.IsInfinity(initStd))
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.ArgumentOutOfRange,
                location,
                string.Format(CultureInfo.InvariantCulture, "{0} '{1}' has Init = {2}, Fan = {3}, InitStd = {4}: each must be a defined value and InitStd a finite number", what, property.Name, (int)init, (int)fan, initStd)));
        }
        else if (init == InitKind.Normal && !(initStd > 0))
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.NonPositiveSize,
                location,
                string.Format(CultureInfo.InvariantCulture, "{0} '{1}' uses Init.Normal with InitStd {2}; the standard deviation must be positive", what, property.Name, initStd)));
        }
    }

    /// <summary>An activation attribute alone on a property: a layer of its own.</summary>
    private static LayerSpec? StandaloneActivation(IPropertySymbol property, AttributeData attribute, Location propertyLocation, List<ParseDiagnostic> diagnostics, ParsedItems result)
        => Activation(property, attribute, propertyLocation, diagnostics, result, out ActivationKind activation, out double slope)
            ? new LayerSpec(property.Name, NetworkParser.NoImplementation, LayerKind.Activation, 0, false, InitKind.TorchDefault, FanKind.In, 0, activation, slope)
            : null;

    /// <summary>Reads an activation attribute; false when it is not one the generator implements (reported) or cannot be read yet.</summary>
    private static bool Activation(IPropertySymbol property, AttributeData attribute, Location propertyLocation, List<ParseDiagnostic> diagnostics, ParsedItems result, out ActivationKind activation, out double slope)
    {
        slope = 0;
        activation = ActivationKind.Identity;
        switch (attribute.AttributeClass!.Name)
        {
            case "ReluAttribute": activation = ActivationKind.Relu; return true;
            case "LeakyReluAttribute":
                activation = ActivationKind.LeakyRelu;
                if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is double s)
                {
                    slope = s;
                    if (double.IsNaN(s) || s < 0 || s > float.MaxValue)
                    {
                        diagnostics.Add(new ParseDiagnostic(
                            DiagnosticIds.ArgumentOutOfRange,
                            NetworkParser.AttributeLocation(attribute, propertyLocation),
                            string.Format(CultureInfo.InvariantCulture, "LeakyRelu slope {0} on '{1}' must be a finite, non-negative single-precision number", s, property.Name)));
                    }
                }
                else
                {
                    result.Incomplete = true;
                }

                return true;
            case "GeluAttribute": activation = ActivationKind.Gelu; return true;
            case "SiluAttribute": activation = ActivationKind.Silu; return true;
            case "TanhAttribute": activation = ActivationKind.Tanh; return true;
            case "SigmoidAttribute": activation = ActivationKind.Sigmoid; return true;
            default:
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.UnknownAttributeCombination,
                    NetworkParser.AttributeLocation(attribute, propertyLocation),
                    string.Format(CultureInfo.InvariantCulture, "Unknown combination of attributes on '{0}': activation '{1}' is not one the generator implements", property.Name, attribute.AttributeClass.Name)));
                return false;
        }
    }

    /// <summary>[LayerNorm(Epsilon, Affine)], [RmsNorm(Epsilon, Affine)] or [BatchNorm(Epsilon, Momentum, Affine)].</summary>
    private static LayerSpec? Norm(IPropertySymbol property, AttributeData attribute, Location location, List<ParseDiagnostic> diagnostics, ParsedItems result)
    {
        string attributeName = NetworkParser.FullName(attribute.AttributeClass);
        LayerKind kind = attributeName == LayerNormAttributeName ? LayerKind.LayerNorm : attributeName == RmsNormAttributeName ? LayerKind.RmsNorm : LayerKind.BatchNorm;
        double epsilon = 1e-5;
        double momentum = 0.1;
        bool affine = true;
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            object? value = argument.Value.Kind == TypedConstantKind.Error ? null : argument.Value.Value;
            switch (argument.Key)
            {
                case "Epsilon" when value is double e:
                    epsilon = e;
                    break;
                case "Affine" when value is bool a:
                    affine = a;
                    break;
                case "Momentum" when value is double m && kind == LayerKind.BatchNorm:
                    momentum = m;
                    break;
                default:
                    result.Incomplete = true;
                    break;
            }
        }

        if (!(epsilon > 0) || epsilon > float.MaxValue || (float)epsilon == 0f)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.ArgumentOutOfRange,
                location,
                string.Format(CultureInfo.InvariantCulture, "{0} '{1}' has Epsilon {2}; it must be a positive number that single precision can hold", kind, property.Name, epsilon)));
        }

        if (!(momentum >= 0 && momentum <= 1))
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.ArgumentOutOfRange,
                location,
                string.Format(CultureInfo.InvariantCulture, "BatchNorm '{0}' has Momentum {1}; it must be in [0, 1]", property.Name, momentum)));
        }

        return new LayerSpec(property.Name, NetworkParser.NoImplementation, kind, 0, false, InitKind.TorchDefault, FanKind.In, 0, ActivationKind.Identity, 0, epsilon, affine, 0, momentum);
    }

    /// <summary>[Dropout(p)] with p in [0, 1).</summary>
    private static LayerSpec? Dropout(IPropertySymbol property, AttributeData attribute, Location location, List<ParseDiagnostic> diagnostics, ParsedItems result)
    {
        if (attribute.AttributeConstructor is null || attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not double probability)
        {
            result.Incomplete = true;
            return null;
        }

        if (!(probability >= 0 && probability < 1) || (float)probability >= 1f)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.ArgumentOutOfRange,
                location,
                string.Format(CultureInfo.InvariantCulture, "Dropout '{0}' has probability {1}; a drop probability is in [0, 1)", property.Name, probability)));
        }

        return new LayerSpec(property.Name, NetworkParser.NoImplementation, LayerKind.Dropout, 0, false, InitKind.TorchDefault, FanKind.In, 0, ActivationKind.Identity, 0, 0, false, probability);
    }

    /// <summary>[Scale(factor)] with a finite factor.</summary>
    private static LayerSpec? Scale(IPropertySymbol property, AttributeData attribute, Location location, List<ParseDiagnostic> diagnostics, ParsedItems result)
    {
        if (attribute.AttributeConstructor is null || attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not double factor)
        {
            result.Incomplete = true;
            return null;
        }

        if (double.IsNaN(factor) || double.IsInfinity(factor) || System.Math.Abs(factor) > float.MaxValue)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.ArgumentOutOfRange,
                location,
                string.Format(CultureInfo.InvariantCulture, "Scale '{0}' has factor {1}; it must be a finite single-precision number", property.Name, factor)));
        }

        return new LayerSpec(property.Name, NetworkParser.NoImplementation, LayerKind.Scale, 0, false, InitKind.TorchDefault, FanKind.In, 0, ActivationKind.Identity, 0, Factor: factor);
    }

    /// <summary>A block property: a [Block] class used once, or Repeated&lt;T&gt; with [Repeat(n)]; [Residual(Scale)] on either.</summary>
    private void ParseBlockProperty(IPropertySymbol property, Location location, AttributeData? residual, AttributeData? repeat, INamedTypeSymbol owner, ParsedItems result, List<ParseDiagnostic> diagnostics)
    {
        if (property.Type is IErrorTypeSymbol || PartialProperties.HasCompilerErrors(property, _compilation, _cancellationToken))
        {
            result.Incomplete = true;
            return;
        }

        var named = property.Type as INamedTypeSymbol;
        bool repeated = named is { IsGenericType: true } && NetworkParser.FullName(named) == RepeatedTypeName;
        INamedTypeSymbol? blockType = repeated ? named!.TypeArguments[0] as INamedTypeSymbol : named;
        string? problem = blockType is null || blockType is IErrorTypeSymbol ? null
            : !IsBlockClass(blockType) ? string.Format(CultureInfo.InvariantCulture, "its type '{0}' is not a [Block] class", blockType.Name)
            : blockType.DeclaringSyntaxReferences.Length == 0 ? string.Format(CultureInfo.InvariantCulture, "block '{0}' is not declared in this project; declare the block in the project that uses it", blockType.Name)
            : repeated && repeat is null ? "a Repeated<T> property needs [Repeat(n)]"
            : !repeated && repeat is not null ? string.Format(CultureInfo.InvariantCulture, "[Repeat] needs the property's type to be Dsl.Repeated<{0}>", blockType.Name)
            : _visiting.Contains(blockType, SymbolEqualityComparer.Default) || SymbolEqualityComparer.Default.Equals(blockType, owner)
                ? string.Format(CultureInfo.InvariantCulture, "block '{0}' contains itself", blockType.Name)
            : _visiting.Count >= MaxBlockDepth ? string.Format(CultureInfo.InvariantCulture, "blocks nest more than {0} deep", MaxBlockDepth)
            : null;
        if (blockType is null || blockType is IErrorTypeSymbol)
        {
            result.Incomplete = true;
            return;
        }

        if (problem is not null)
        {
            diagnostics.Add(new ParseDiagnostic(
                DiagnosticIds.InvalidLayerProperty,
                location,
                string.Format(CultureInfo.InvariantCulture, "Block property '{0}' cannot be generated: {1}", property.Name, problem)));
            return;
        }

        PartialPropertySpec? implementation = NetworkParser.CheckProperty(property, location, "Block property", diagnostics, _cancellationToken);
        CheckName(property, location, owner, diagnostics);

        int count = 0;
        if (repeat is not null)
        {
            if (repeat.AttributeConstructor is null || repeat.ConstructorArguments.Length != 1 || repeat.ConstructorArguments[0].Value is not int n)
            {
                result.Incomplete = true;
                return;
            }

            count = n;
            if (n <= 0)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.NonPositiveSize,
                    NetworkParser.AttributeLocation(repeat, location),
                    string.Format(CultureInfo.InvariantCulture, "Block property '{0}' repeats {1} times; a repeat count must be positive", property.Name, n)));
            }
        }

        double scale = 1.0;
        if (residual is not null)
        {
            foreach (KeyValuePair<string, TypedConstant> argument in residual.NamedArguments)
            {
                if (argument.Key == "Scale" && argument.Value.Kind != TypedConstantKind.Error && argument.Value.Value is double value)
                {
                    scale = value;
                }
                else
                {
                    result.Incomplete = true;
                }
            }

            if (double.IsNaN(scale) || double.IsInfinity(scale) || System.Math.Abs(scale) > float.MaxValue)
            {
                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.ArgumentOutOfRange,
                    NetworkParser.AttributeLocation(residual, location),
                    string.Format(CultureInfo.InvariantCulture, "Residual '{0}' has Scale {1}; it must be a finite single-precision number", property.Name, scale)));
            }
        }

        ParsedBlock block = ParseBlock(blockType);
        if (block.Spec is null)
        {
            // The block's own analysis reports its problems at the block; here the use says why it cannot be generated
            // yet (unless the block only waits for the compiler's errors to be fixed).
            result.Incomplete = true;
            result.BrokenBlock ??= blockType.Name;
            foreach (ParseDiagnostic first in block.Diagnostics)
            {
                if (DiagnosticDescriptors.ById(first.Id)?.DefaultSeverity != DiagnosticSeverity.Error)
                {
                    continue;
                }

                diagnostics.Add(new ParseDiagnostic(
                    DiagnosticIds.InvalidLayerProperty,
                    location,
                    string.Format(CultureInfo.InvariantCulture, "Block property '{0}' cannot be generated: block '{1}' has errors of its own, the first {2}: {3}", property.Name, blockType.Name, first.Id, first.Message)));
                break;
            }

            return;
        }

        var use = new BlockUseSpec(property.Name, implementation ?? NetworkParser.NoImplementation, block.Spec, residual is not null, scale, count);
        result.Items.Add(new ItemSpec(null, use));
        result.Locations.Add(residual is not null ? NetworkParser.AttributeLocation(residual, location) : repeat is not null ? NetworkParser.AttributeLocation(repeat, location) : location);
        result.Blocks.Add(block);
    }

    /// <summary>The class as generated code names it: global::Namespace.Name.</summary>
    private static string TypeName(INamedTypeSymbol type)
    {
        string ns = CSharpNames.Namespace(type.ContainingNamespace);
        return "global::" + (ns.Length == 0 ? string.Empty : ns + ".") + CSharpNames.Identifier(type.Name);
    }

    private static bool DerivesFrom(INamedTypeSymbol symbol, string baseName)
    {
        for (INamedTypeSymbol? current = symbol.BaseType; current is not null; current = current.BaseType)
        {
            if (NetworkParser.FullName(current) == baseName)
            {
                return true;
            }
        }

        return false;
    }
}
