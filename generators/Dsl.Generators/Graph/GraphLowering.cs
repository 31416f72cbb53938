using System.Collections.Generic;
using System.Globalization;
using Dsl.Generators.Model;

namespace Dsl.Generators.Graph;

/// <summary>What a node of the lowered graph computes.</summary>
internal enum NodeOp
{
    Input,
    /// <summary>x W^T + b with the declared activation in its epilogue (the fusion of a dense layer and its activation).</summary>
    Linear,
    Activation,
    LayerNorm,
    RmsNorm,
    /// <summary>Batch normalisation: its training forward reads every row of the batch.</summary>
    BatchNorm,
    Dropout,
    /// <summary>factor * x.</summary>
    Scale,
    /// <summary>skip + scale * branch: the add that closes a residual block.</summary>
    Add,
    /// <summary>A one-dimensional convolution with its activation: (channels, length) -> (out channels, out length).</summary>
    Conv1d,
    /// <summary>Any shape -> (elements): the same floats read as features; no compute.</summary>
    Flatten,
    /// <summary>A two-dimensional convolution with its activation: (channels, height, width) -> (out channels, out height, out width).</summary>
    Conv2d,
    /// <summary>The maximum of each window, one- or two-dimensional: (channels, ...) -> (channels, out ...).</summary>
    MaxPool,
    /// <summary>The mean of each window with padding counted, one- or two-dimensional.</summary>
    AvgPool,
    /// <summary>(channels, ...) -> (channels): the mean over every position.</summary>
    GlobalAvgPool,
}

/// <summary>
/// One node of the lowered graph: single assignment, so its id names the value it writes. <paramref name="Origin"/> is
/// the chain of item indices from the network's declaration down to the property that declares the node (for a
/// residual add, its block property), which the parser maps back to the attribute's location.
/// </summary>
/// <param name="Input">The value the node reads (-1 for the input node).</param>
/// <param name="Skip">The add's skip value; -1 for other ops.</param>
/// <param name="Width">Floats of the value the node writes, per sample (the product of <paramref name="Shape"/>).</param>
/// <param name="Shape">The per-sample shape of the value the node writes: (features), or (channels, length).</param>
internal sealed record GraphNode(int Id, string Path, NodeOp Op, int Input, int Skip, int InputWidth, int Width, long ParameterCount, LayerSpec? Layer, double Scale, EquatableArray<int> Origin, EquatableArray<int> Shape)
{
    /// <summary>The per-sample shape of the value the node reads (empty for the input node).</summary>
    public EquatableArray<int> InputShape { get; init; }
}

/// <summary>
/// A shape problem, at the declaration item chain <paramref name="Origin"/> (empty: the network itself); or, with
/// <paramref name="IsSize"/>, a network too large to lay out (reported at the top-level property that reaches the limit).
/// <paramref name="NeedsFlatten"/>: the item reads features but receives a shape of rank 2 or more, and a flatten
/// inserted before it is the mechanical fix.
/// </summary>
internal readonly record struct GraphError(EquatableArray<int> Origin, string Message, bool IsSize = false, bool NeedsFlatten = false);

/// <summary>The lowered graph of a network, or the first problem that stopped the lowering.</summary>
internal sealed class LoweredGraph
{
    public List<GraphNode> Nodes { get; } = new();

    public List<GraphError> Errors { get; } = new();

    public long ParameterCount { get; set; }

    public int OutputWidth => Nodes.Count == 0 ? 0 : Nodes[Nodes.Count - 1].Width;

    public EquatableArray<int> OutputShape => Nodes.Count == 0 ? default : Nodes[Nodes.Count - 1].Shape;
}

/// <summary>
/// Lowers a graph network's declaration (layers, block properties, residuals, repeats) into a single-assignment graph
/// with every node's path, shape and parameter count, checking shapes on the way: one rule per op. Pure (values in,
/// values out); the parser reports its errors at the attributes, and the emitter writes its docs from its nodes.
/// Repeats and blocks are expanded (paths <c>Blocks[3].Up</c>), so the graph is what runs.
/// </summary>
internal static partial class GraphLowering
{
    /// <summary>The most nodes a declaration may expand to.</summary>
    public const int MaxNodes = 100_000;

    /// <summary>The largest float array .NET allocates.</summary>
    public const long MaxParameters = 0x7FFFFFC7;

    public static LoweredGraph Lower(string networkName, IReadOnlyList<int> inputShape, IReadOnlyList<ItemSpec> items, LossKind loss)
    {
        var graph = new LoweredGraph();
        if (inputShape.Count == 0)
        {
            graph.Errors.Add(new GraphError(default, "the network declares no input shape: set Input, e.g. [Network(Input = [40])]"));
            return graph;
        }

        long inputWidth = 1;
        foreach (int dimension in inputShape)
        {
            inputWidth *= dimension;
            if (dimension <= 0 || inputWidth > int.MaxValue)
            {
                graph.Errors.Add(new GraphError(default, string.Format(
                    CultureInfo.InvariantCulture, "network '{0}' has input shape {1}; every dimension is positive and a sample holds at most {2} floats", networkName, ShapeInference.Format(inputShape), int.MaxValue), IsSize: true));
                return graph;
            }
        }

        var shape = new int[inputShape.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            shape[i] = inputShape[i];
        }

        graph.Nodes.Add(new GraphNode(0, string.Empty, NodeOp.Input, -1, -1, 0, (int)inputWidth, 0, null, 0, default, new EquatableArray<int>(shape)));
        var walk = new Walk(networkName, graph);
        if (walk.Items(items, string.Empty, new List<int>()) && loss == LossKind.SoftmaxCrossEntropy && (graph.OutputShape.Count != 1 || graph.OutputWidth < 2))
        {
            graph.Errors.Add(new GraphError(new EquatableArray<int>(new[] { items.Count - 1 }), string.Format(
                CultureInfo.InvariantCulture,
                "softmax cross-entropy needs one output per class (at least 2), but network '{0}' gives shape {1}{2}",
                networkName,
                ShapeInference.Format(graph.OutputShape),
                graph.OutputShape.Count != 1 ? "; add [Flatten] and a dense layer with one unit per class" : string.Empty)));
        }

        return graph;
    }

    private sealed partial class Walk
    {
        private readonly string _network;
        private readonly LoweredGraph _graph;

        public Walk(string network, LoweredGraph graph)
        {
            _network = network;
            _graph = graph;
        }

        private int Current => _graph.Nodes.Count - 1;

        private int Width => _graph.Nodes[Current].Width;

        private EquatableArray<int> Shape => _graph.Nodes[Current].Shape;

        /// <summary>Lowers the items in order; false at the first error (recorded).</summary>
        public bool Items(IReadOnlyList<ItemSpec> items, string prefix, List<int> origin)
        {
            for (int i = 0; i < items.Count; i++)
            {
                origin.Add(i);
                bool ok = items[i].Layer is { } layer ? Layer(layer, prefix, origin) : Block(items[i].Block!, prefix, origin);
                origin.RemoveAt(origin.Count - 1);
                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>One rule per op: the shape it reads, the shape it writes and its parameters.</summary>
        private bool Layer(LayerSpec layer, string prefix, List<int> origin)
        {
            string path = Join(prefix, layer.PropertyName);
            int width = Width;
            EquatableArray<int> same = Shape;
            switch (layer.Kind)
            {
                case LayerKind.Dense:
                    return Features(layer, path, "Dense layer", origin)
                        && Add(NodeOp.Linear, path, layer, Vector(layer.Units), ((long)layer.Units * width) + (layer.HasBias ? layer.Units : 0), -1, 0, origin);
                case LayerKind.Activation:
                    return Add(NodeOp.Activation, path, layer, same, 0, -1, 0, origin);
                case LayerKind.LayerNorm:
                    return Features(layer, path, "LayerNorm", origin) && Add(NodeOp.LayerNorm, path, layer, same, layer.Affine ? 2L * width : 0, -1, 0, origin);
                case LayerKind.RmsNorm:
                    return Features(layer, path, "RMSNorm", origin) && Add(NodeOp.RmsNorm, path, layer, same, layer.Affine ? width : 0, -1, 0, origin);
                case LayerKind.BatchNorm:
                    return Features(layer, path, "BatchNorm", origin) && Add(NodeOp.BatchNorm, path, layer, same, layer.Affine ? 2L * width : 0, -1, 0, origin);
                case LayerKind.Scale:
                    return Add(NodeOp.Scale, path, layer, same, 0, -1, layer.Factor, origin);
                case LayerKind.Conv1d:
                case LayerKind.Conv2d:
                    return Convolution(layer, path, origin);
                case LayerKind.MaxPool1d:
                case LayerKind.MaxPool2d:
                case LayerKind.AvgPool1d:
                case LayerKind.AvgPool2d:
                    return Pool(layer, path, origin);
                case LayerKind.GlobalAvgPool:
                    return GlobalAvgPool(layer, path, origin);
                case LayerKind.Flatten:
                    return Add(NodeOp.Flatten, path, layer, Vector(width), 0, -1, 0, origin);
                default:
                    return Add(NodeOp.Dropout, path, layer, same, 0, -1, 0, origin);
            }
        }

        /// <summary>Dense layers and norms read one-dimensional input (features); anything else is an error naming the fix.</summary>
        private bool Features(LayerSpec layer, string path, string what, List<int> origin)
        {
            if (Shape.Count == 1)
            {
                return true;
            }

            _graph.Errors.Add(new GraphError(new EquatableArray<int>(origin.ToArray()), string.Format(
                CultureInfo.InvariantCulture,
                "{0} '{1}' of network '{2}' reads one-dimensional input (features), but receives shape {3}; insert [Flatten] public partial Layer Flatten {{ get; }} before it to read the {4} floats as features",
                what, path, _network, Format(Shape), Width), NeedsFlatten: true));
            return false;
        }

        private bool Error(List<int> origin, string message)
        {
            _graph.Errors.Add(new GraphError(new EquatableArray<int>(origin.ToArray()), message));
            return false;
        }

        private static EquatableArray<int> Vector(int width) => new(new[] { width });

        private static string Format(EquatableArray<int> shape) => ShapeInference.Format(shape);

        private bool Block(BlockUseSpec use, string prefix, List<int> origin)
        {
            int count = use.Repeat == 0 ? 1 : use.Repeat;
            for (int repetition = 0; repetition < count; repetition++)
            {
                string path = Join(prefix, use.Repeat == 0 ? use.PropertyName : use.PropertyName + "[" + repetition.ToString(CultureInfo.InvariantCulture) + "]");
                int skip = Current;
                if (!Items(use.Block.Items, path, origin))
                {
                    return false;
                }

                if (!use.Residual)
                {
                    continue;
                }

                EquatableArray<int> skipShape = _graph.Nodes[skip].Shape;
                if (!Shape.Equals(skipShape))
                {
                    string mapping = skipShape.Count == 1 && Shape.Count == 1
                        ? string.Format(CultureInfo.InvariantCulture, "maps {0} features to {1}", skipShape[0], Shape[0])
                        : "maps shape " + Format(skipShape) + " to " + Format(Shape);
                    _graph.Errors.Add(new GraphError(new EquatableArray<int>(origin.ToArray()), string.Format(
                        CultureInfo.InvariantCulture,
                        "residual '{0}' of network '{1}' adds its branch to its input, but block '{2}' {3}; a residual branch must give back the shape it receives",
                        path,
                        _network,
                        use.Block.ClassName,
                        mapping)));
                    return false;
                }

                if (!Add(NodeOp.Add, path, null, skipShape, 0, skip, use.Scale, origin))
                {
                    return false;
                }
            }

            return true;
        }

        private bool Add(NodeOp op, string path, LayerSpec? layer, EquatableArray<int> shape, long parameters, int skip, double scale, List<int> origin)
        {
            long elements = 1;
            for (int i = 0; i < shape.Count; i++)
            {
                elements *= shape[i];
            }

            int width = (int)elements; // every rule keeps a sample within int.MaxValue floats
            if (_graph.Nodes.Count >= MaxNodes)
            {
                _graph.Errors.Add(new GraphError(new EquatableArray<int>(origin.ToArray()), string.Format(
                    CultureInfo.InvariantCulture, "network '{0}' expands to more than {1} layers at '{2}'", _network, MaxNodes, path), IsSize: true));
                return false;
            }

            _graph.ParameterCount += parameters;
            if (_graph.ParameterCount > MaxParameters)
            {
                _graph.Errors.Add(new GraphError(new EquatableArray<int>(origin.ToArray()), string.Format(
                    CultureInfo.InvariantCulture, "network '{0}' reaches {1} parameters at '{2}'; one parameter buffer holds at most {3}", _network, _graph.ParameterCount, path, MaxParameters), IsSize: true));
                return false;
            }

            int input = Current;
            _graph.Nodes.Add(new GraphNode(_graph.Nodes.Count, path, op, input, skip, Width, width, parameters, layer, scale, new EquatableArray<int>(origin.ToArray()), shape) { InputShape = Shape });
            return true;
        }

        private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
    }
}
