using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dsl.Generators.Graph;
using Dsl.Generators.Model;

namespace Dsl.Generators.Emit;

/// <summary>
/// Writes a graph network (one that uses blocks, residuals, norms, dropout or standalone activations) and each [Block]
/// class. The generated code is orchestration only: the constructor appends every layer to a runtime
/// <c>Dsl.Graphs.GraphBuilder</c> in the order the layers run, a block's constructor appends its own layers, and a
/// repeated block is one loop, so a file's size follows the declaration, not the depth. Everything that does not depend
/// on the network (buffers, the forward and backward sequences, batch slicing, Evaluate) is the runtime's
/// <c>Dsl.Graphs.GraphNetwork</c>, to which the network's members forward.
/// </summary>
internal static class GraphEmitter
{
    public static string Emit(NetworkSpec spec)
    {
        LoweredGraph graph = GraphLowering.Lower(spec.ClassName, spec.InputShape.ToArray(), spec.Items.ToArray(), spec.Loss);
        bool classifier = spec.Loss == LossKind.SoftmaxCrossEntropy;
        int parameters = (int)graph.ParameterCount;
        string input = ShapeInference.Format(spec.InputShape.ToArray());
        var w = new SourceWriter();
        Header(w, "[Network] declaration of " + spec.ClassName, spec.Namespace);
        w.Doc(string.Format(
            CultureInfo.InvariantCulture,
            "<summary>\n{0}: input {1} -> output [{2}], {3:N0} parameters, {4} loss; {5} layers as run, on the CPU graph runtime.\n<list type=\"bullet\">",
            spec.ClassName, input, graph.OutputWidth, parameters, classifier ? "softmax cross-entropy" : "mean squared error", graph.Nodes.Count - 1));
        foreach (ItemSpec item in spec.Items)
        {
            w.Doc("<item><description>" + Describe(item) + "</description></item>");
        }

        w.Doc("</list>\n</summary>");
        string interfaceName = classifier ? "global::Dsl.IClassifierNetwork" : "global::Dsl.IRegressionNetwork";
        w.Line($"partial class {CSharpName(spec.ClassName)} : {interfaceName}");
        w.OpenBrace();
        w.Line($"private const int ParameterTotal = {parameters.ToString(CultureInfo.InvariantCulture)};");
        w.Line("private readonly global::Dsl.Graphs.GraphNetwork _graph;");
        Fields(w, spec.Items);
        w.Line();
        w.Doc("<summary>\nCreates the network on <paramref name=\"device\"/> (the CPU backend) with parameters drawn from the declared initialisers,\neach layer's from a stream keyed by its path: the same seed gives the same parameters on every machine.\n</summary>\n<exception cref=\"global::System.NotSupportedException\">The device is a GPU.</exception>");
        ConstructorPragma(w, () =>
        {
            w.Line($"public {CSharpName(spec.ClassName)}(global::Dsl.Device device, ulong seed = 0)");
        });
        w.OpenBrace();
        w.Line("global::System.ArgumentNullException.ThrowIfNull(device);");
        w.Line($"global::Dsl.Graphs.GraphBuilder builder = new global::Dsl.Graphs.GraphBuilder({Literal(spec.ClassName)}, [{string.Join(", ", spec.InputShape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}]);");
        Items(w, spec.Items);
        w.Line($"_graph = builder.Build(device, global::Dsl.Loss.{(classifier ? "SoftmaxCrossEntropy" : "MeanSquaredError")}, seed, ParameterTotal);");
        w.CloseBrace();
        w.Line();
        Properties(w, spec.Items, more: true);
        Forwarders(w, classifier, parameters);
        w.CloseBrace();
        return w.ToString();
    }

    public static string EmitBlock(BlockSpec block)
    {
        var w = new SourceWriter();
        Header(w, "[Block] declaration of " + block.ClassName, block.Namespace);
        w.Doc("<summary>\n" + block.ClassName + ": a block of the layers below, each instance with its own parameters; widths follow its input.\n<list type=\"bullet\">");
        foreach (ItemSpec item in block.Items)
        {
            w.Doc("<item><description>" + Describe(item) + "</description></item>");
        }

        w.Doc("</list>\n</summary>");
        w.Line($"partial class {CSharpName(block.ClassName)}");
        w.OpenBrace();
        Fields(w, block.Items);
        w.Line();
        w.Doc("<summary>Appends this block's layers to <paramref name=\"builder\"/>: called by the generated constructors of the networks and blocks that use it.</summary>");
        ConstructorPragma(w, () =>
        {
            // Generated code creates every instance, so it cannot set required members: DSL0011 warns at them.
            w.Line("[global::System.Diagnostics.CodeAnalysis.SetsRequiredMembers]");
            w.Line($"internal {CSharpName(block.ClassName)}(global::Dsl.Graphs.GraphBuilder builder)");
        });
        w.OpenBrace();
        Items(w, block.Items);
        w.CloseBrace();
        w.Line();
        Properties(w, block.Items, more: false);
        w.CloseBrace();
        return w.ToString();
    }

    private static void Header(SourceWriter w, string what, string ns)
    {
        w.Line("// <auto-generated/>");
        w.Line("// Generated by Dsl.Generators from the " + what + ". Do not edit.");
        w.Line("#nullable enable");
        w.Line("// Every type is named from global:: and no extension method is called, so no name in the user's code can");
        w.Line("// change what this file binds to.");
        w.Line();
        if (ns.Length > 0)
        {
            w.Line("namespace " + ns + ";");
            w.Line();
        }
    }

    private static void ConstructorPragma(SourceWriter w, System.Action signature)
    {
        w.Line("// User fields and auto-properties are the user's to initialise: DSL0011 warns at any non-nullable one without an");
        w.Line("// initializer, so the compiler's CS8618 for this constructor would only repeat it here.");
        w.Line("#pragma warning disable CS8618");
        signature();
        w.Line("#pragma warning restore CS8618");
    }

    /// <summary>The layer views of this class's own layer properties, and its block instances, in declaration order.</summary>
    private static void Fields(SourceWriter w, EquatableArray<ItemSpec> items)
    {
        int layers = items.Count(i => i.Layer is not null);
        int blocks = items.Count - layers;
        w.Line($"private readonly global::Dsl.Layer[] _layers = new global::Dsl.Layer[{layers.ToString(CultureInfo.InvariantCulture)}];");
        w.Line($"private readonly object[] _blocks = new object[{blocks.ToString(CultureInfo.InvariantCulture)}];");
    }

    /// <summary>One builder call per layer; a block property enters the block (and its residual) around its constructor.</summary>
    private static void Items(SourceWriter w, EquatableArray<ItemSpec> items)
    {
        int layer = 0;
        int block = 0;
        foreach (ItemSpec item in items)
        {
            if (item.Layer is { } spec)
            {
                w.Line($"_layers[{I(layer++)}] = {LayerCall(spec)};");
                continue;
            }

            BlockUseSpec use = item.Block!;
            string name = Literal(use.PropertyName);
            if (use.Repeat == 0)
            {
                w.Line($"builder.EnterBlock({name});");
                BlockBody(w, use, $"_blocks[{I(block++)}]");
                w.Line("builder.ExitBlock();");
                continue;
            }

            // One sequence, run once per repetition over its own parameters: the file does not grow with the count.
            w.OpenBrace();
            w.Line($"{use.Block.TypeName}[] repetitions = new {use.Block.TypeName}[{I(use.Repeat)}];");
            w.Line($"for (int repetition = 0; repetition < {I(use.Repeat)}; repetition++)");
            w.OpenBrace();
            w.Line($"builder.EnterBlock({Literal(use.PropertyName + "[")} + repetition.ToString(global::System.Globalization.CultureInfo.InvariantCulture) + \"]\");");
            BlockBody(w, use, "repetitions[repetition]");
            w.Line("builder.ExitBlock();");
            w.CloseBrace();
            w.Line($"_blocks[{I(block++)}] = new global::Dsl.Repeated<{use.Block.TypeName}>(repetitions);");
            w.CloseBrace();
        }
    }

    private static void BlockBody(SourceWriter w, BlockUseSpec use, string target)
    {
        if (use.Residual)
        {
            w.Line("builder.BeginResidual();");
        }

        w.Line($"{target} = new {use.Block.TypeName}(builder);");
        if (use.Residual)
        {
            w.Line($"builder.EndResidual({NetworkEmitter.F(use.Scale)});");
        }
    }

    private static string LayerCall(LayerSpec layer)
    {
        string name = Literal(layer.PropertyName);
        string activation = "global::Dsl.Activation." + layer.Activation;
        string phi = "global::Dsl.Ops." + layer.Activation;
        switch (layer.Kind)
        {
            case LayerKind.Dense:
                return $"builder.Dense<{phi}>({name}, {I(layer.Units)}, {Bool(layer.HasBias)}, global::Dsl.Init.{(InitKind)layer.Init}, global::Dsl.Fan.{layer.Fan}, {NetworkEmitter.D(layer.InitStd)}, {activation}, {NetworkEmitter.F(layer.Slope)}, {NetworkEmitter.ActivationValue(layer)})";
            case LayerKind.Activation:
                return $"builder.Activation<{phi}>({name}, {activation}, {NetworkEmitter.F(layer.Slope)}, {NetworkEmitter.ActivationValue(layer)})";
            case LayerKind.LayerNorm:
                return $"builder.LayerNorm({name}, {NetworkEmitter.F(layer.Epsilon)}, {Bool(layer.Affine)})";
            case LayerKind.RmsNorm:
                return $"builder.RmsNorm({name}, {NetworkEmitter.F(layer.Epsilon)}, {Bool(layer.Affine)})";
            case LayerKind.BatchNorm:
                return $"builder.BatchNorm({name}, {NetworkEmitter.F(layer.Epsilon)}, {NetworkEmitter.F(layer.Momentum)}, {Bool(layer.Affine)})";
            default:
                return $"builder.Dropout({name}, {NetworkEmitter.F(layer.Probability)})";
        }
    }

    private static void Properties(SourceWriter w, EquatableArray<ItemSpec> items, bool more)
    {
        int layer = 0;
        int block = 0;
        foreach (ItemSpec item in items)
        {
            if (layer + block > 0)
            {
                w.Line();
            }

            w.Doc("<summary>" + Describe(item) + "</summary>");
            if (item.Layer is { } spec)
            {
                w.Line($"{spec.Implementation.Header} => _layers[{I(layer++)}];");
            }
            else
            {
                BlockUseSpec use = item.Block!;
                string type = use.Repeat == 0 ? use.Block.TypeName : $"global::Dsl.Repeated<{use.Block.TypeName}>";
                w.Line($"{use.Implementation.Header} => ({type})_blocks[{I(block++)}];");
            }
        }

        if (more)
        {
            w.Line();
        }
    }

    private static void Forwarders(SourceWriter w, bool classifier, int parameters)
    {
        string targets = classifier ? "global::System.ReadOnlySpan<int> labels" : "global::System.ReadOnlySpan<float> targets";
        string targetName = classifier ? "labels" : "targets";
        string count = parameters.ToString("N0", CultureInfo.InvariantCulture);
        w.Doc("<summary>The device this network computes on.</summary>");
        w.Line("public global::Dsl.Device Device => _graph.Device;");
        w.Doc($"<summary>Number of trainable parameters: {count}.</summary>");
        w.Line("public int ParameterCount => ParameterTotal;");
        w.Doc("<summary>Elements of one input sample.</summary>");
        w.Line("public int InputSize => _graph.InputSize;");
        w.Doc("<summary>Elements of one output sample.</summary>");
        w.Line("public int OutputSize => _graph.OutputSize;");
        w.Doc("<summary>Shape of one input sample, without the batch dimension.</summary>");
        w.Line("public global::System.ReadOnlySpan<int> InputShape => _graph.InputShape;");
        w.Doc("<summary>Shape of one output sample, without the batch dimension.</summary>");
        w.Line("public global::System.ReadOnlySpan<int> OutputShape => _graph.OutputShape;");
        w.Doc("<summary>Every layer in the order it runs, named by its path (<c>Blocks[3].Up</c>).</summary>");
        w.Line("public global::System.Collections.Generic.IReadOnlyList<global::Dsl.Layer> Layers => _graph.Layers;");
        w.Doc("<summary>All parameters in one buffer, layer by layer in the order they run (each <see cref=\"global::Dsl.Layer\"/> gives its offsets).</summary>");
        w.Line("public global::System.Span<float> Parameters => _graph.Parameters;");
        w.Doc("<summary>Copies all parameters, laid out as <see cref=\"Parameters\"/>, into <paramref name=\"destination\"/> (exactly ParameterCount floats).</summary>");
        w.Line("public void CopyParametersTo(global::System.Span<float> destination) => _graph.CopyParametersTo(destination);");
        w.Doc("<summary>The gradients computed by the last ComputeGradients or TrainStep, laid out as <see cref=\"Parameters\"/>.</summary>");
        w.Line("public global::System.ReadOnlySpan<float> Gradients => _graph.Gradients;");
        w.Doc("<summary>Redraws every parameter from its declared initialiser; the same seed gives the same parameters (and dropout masks).</summary>");
        w.Line("public void ResetParameters(ulong seed) => _graph.ResetParameters(seed);");
        w.Doc("<summary>Outputs (batch, OutputSize) for inputs (batch, InputSize), in evaluation mode (dropout is the identity).</summary>");
        w.Line("public void Predict(global::System.ReadOnlySpan<float> inputs, global::System.Span<float> outputs) => _graph.Predict(inputs, outputs);");
        w.Doc("<summary>One training step: forward, loss, backward and the optimizer's update; checks as <see cref=\"global::Dsl.Graphs.GraphNetwork\"/> describes.</summary>");
        w.Line($"public float TrainStep(global::System.ReadOnlySpan<float> inputs, {targets}, global::Dsl.Training.Optimizer optimizer) => _graph.TrainStep(inputs, {targetName}, optimizer);");
        w.Doc("<summary>Forward, loss and backward without an update: fills <see cref=\"Gradients\"/>.</summary>");
        w.Line($"public float ComputeGradients(global::System.ReadOnlySpan<float> inputs, {targets}) => _graph.ComputeGradients(inputs, {targetName});");
        w.Doc("<summary>Mean loss (and accuracy for a classifier) over a data set, in evaluation mode, in chunks of <paramref name=\"batchSize\"/> rows.</summary>");
        w.Line($"public global::Dsl.Evaluation Evaluate(global::System.ReadOnlySpan<float> inputs, {targets}, int batchSize = 1000) => _graph.Evaluate(inputs, {targetName}, batchSize);");
        w.Doc("<summary>One training step on rows [<paramref name=\"start\"/>, start + count) of a data set.</summary>");
        w.Line("public void TrainStep(global::Dsl.DeviceDataSet data, int start, int count, global::Dsl.Training.Optimizer optimizer) => _graph.TrainStep(data, start, count, optimizer);");
        w.Doc("<summary>The mean loss of the last TrainStep or ComputeGradients that completed (NaN before the first).</summary>");
        w.Line("public float LastLoss => _graph.LastLoss;");
        w.Doc("<summary>Nothing to free on the CPU backend.</summary>");
        w.Line("public void Dispose() => _graph.Dispose();");
    }

    /// <summary>One item as the docs describe it.</summary>
    private static string Describe(ItemSpec item)
    {
        if (item.Layer is { } layer)
        {
            string name = layer.PropertyName + ": ";
            return layer.Kind switch
            {
                LayerKind.Dense => name + "Dense " + I(layer.Units) + ", " + NetworkEmitter.ActivationName(layer) + (layer.HasBias ? string.Empty : ", no bias") + ", init " + layer.Init,
                LayerKind.Activation => name + NetworkEmitter.ActivationName(layer),
                LayerKind.LayerNorm => name + "LayerNorm, epsilon " + layer.Epsilon.ToString("R", CultureInfo.InvariantCulture) + (layer.Affine ? ", gain and bias" : ", no affine parameters"),
                LayerKind.RmsNorm => name + "RMSNorm, epsilon " + layer.Epsilon.ToString("R", CultureInfo.InvariantCulture) + (layer.Affine ? ", gain" : ", no gain"),
                LayerKind.BatchNorm => name + "BatchNorm, epsilon " + layer.Epsilon.ToString("R", CultureInfo.InvariantCulture) + ", momentum " + layer.Momentum.ToString("R", CultureInfo.InvariantCulture) + (layer.Affine ? ", gain and bias" : ", no affine parameters") + "; running statistics",
                _ => name + "Dropout p = " + layer.Probability.ToString("R", CultureInfo.InvariantCulture),
            };
        }

        BlockUseSpec use = item.Block!;
        string what = (use.Repeat == 0 ? "block " : I(use.Repeat) + " x block ") + use.Block.ClassName;
        string residual = use.Residual
            ? ", residual (x + " + (use.Scale == 1.0 ? string.Empty : use.Scale.ToString("R", CultureInfo.InvariantCulture) + " * ") + "f(x))"
            : string.Empty;
        return use.PropertyName + ": " + what + residual;
    }

    private static string CSharpName(string name) => Parsing.CSharpNames.Identifier(name);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";

    /// <summary>A C# string literal; names are identifiers, so only quotes and backslashes could need escaping.</summary>
    private static string Literal(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
