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
}

/// <summary>
/// One node of the lowered graph: single assignment, so its id names the value it writes. <paramref name="Origin"/> is
/// the chain of item indices from the network's declaration down to the property that declares the node (for a
/// residual add, its block property), which the parser maps back to the attribute's location.
/// </summary>
/// <param name="Input">The value the node reads (-1 for the input node).</param>
/// <param name="Skip">The add's skip value; -1 for other ops.</param>
/// <param name="Width">Features of the value the node writes, per sample.</param>
internal sealed record GraphNode(int Id, string Path, NodeOp Op, int Input, int Skip, int InputWidth, int Width, long ParameterCount, LayerSpec? Layer, double Scale, EquatableArray<int> Origin);

/// <summary>
/// A shape problem, at the declaration item chain <paramref name="Origin"/> (empty: the network itself); or, with
/// <paramref name="IsSize"/>, a network too large to lay out (reported at the top-level property that reaches the limit).
/// </summary>
internal readonly record struct GraphError(EquatableArray<int> Origin, string Message, bool IsSize = false);

/// <summary>The lowered graph of a network, or the first problem that stopped the lowering.</summary>
internal sealed class LoweredGraph
{
    public List<GraphNode> Nodes { get; } = new();

    public List<GraphError> Errors { get; } = new();

    public long ParameterCount { get; set; }

    public int OutputWidth => Nodes.Count == 0 ? 0 : Nodes[Nodes.Count - 1].Width;
}

/// <summary>
/// Lowers a graph network's declaration (layers, block properties, residuals, repeats) into a single-assignment graph
/// with every node's path, shape and parameter count, checking shapes on the way: one rule per op. Pure (values in,
/// values out); the parser reports its errors at the attributes, and the emitter writes its docs from its nodes.
/// Repeats and blocks are expanded (paths <c>Blocks[3].Up</c>), so the graph is what runs.
/// </summary>
internal static class GraphLowering
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

        if (inputShape.Count != 1)
        {
            graph.Errors.Add(new GraphError(default, string.Format(
                CultureInfo.InvariantCulture,
                "network '{0}' has blocks, norms or standalone activations, which read one-dimensional input (features), but its input has shape {1}",
                networkName,
                ShapeInference.Format(inputShape))));
            return graph;
        }

        graph.Nodes.Add(new GraphNode(0, string.Empty, NodeOp.Input, -1, -1, 0, inputShape[0], 0, null, 0, default));
        var walk = new Walk(networkName, graph);
        if (walk.Items(items, string.Empty, new List<int>()) && loss == LossKind.SoftmaxCrossEntropy && graph.OutputWidth < 2)
        {
            graph.Errors.Add(new GraphError(new EquatableArray<int>(new[] { items.Count - 1 }), string.Format(
                CultureInfo.InvariantCulture,
                "softmax cross-entropy needs one output per class (at least 2), but network '{0}' gives shape [{1}]",
                networkName,
                graph.OutputWidth)));
        }

        return graph;
    }

    private sealed class Walk
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

        private bool Layer(LayerSpec layer, string prefix, List<int> origin)
        {
            string path = Join(prefix, layer.PropertyName);
            int width = Width;
            switch (layer.Kind)
            {
                case LayerKind.Dense:
                    return Add(NodeOp.Linear, path, layer, layer.Units, ((long)layer.Units * width) + (layer.HasBias ? layer.Units : 0), -1, 0, origin);
                case LayerKind.Activation:
                    return Add(NodeOp.Activation, path, layer, width, 0, -1, 0, origin);
                case LayerKind.LayerNorm:
                    return Add(NodeOp.LayerNorm, path, layer, width, layer.Affine ? 2L * width : 0, -1, 0, origin);
                case LayerKind.RmsNorm:
                    return Add(NodeOp.RmsNorm, path, layer, width, layer.Affine ? width : 0, -1, 0, origin);
                case LayerKind.BatchNorm:
                    return Add(NodeOp.BatchNorm, path, layer, width, layer.Affine ? 2L * width : 0, -1, 0, origin);
                case LayerKind.Scale:
                    return Add(NodeOp.Scale, path, layer, width, 0, -1, layer.Factor, origin);
                default:
                    return Add(NodeOp.Dropout, path, layer, width, 0, -1, 0, origin);
            }
        }

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

                int skipWidth = _graph.Nodes[skip].Width;
                if (Width != skipWidth)
                {
                    _graph.Errors.Add(new GraphError(new EquatableArray<int>(origin.ToArray()), string.Format(
                        CultureInfo.InvariantCulture,
                        "residual '{0}' of network '{1}' adds its branch to its input, but block '{2}' maps {3} features to {4}; a residual branch must give back the width it receives",
                        path,
                        _network,
                        use.Block.ClassName,
                        skipWidth,
                        Width)));
                    return false;
                }

                if (!Add(NodeOp.Add, path, null, skipWidth, 0, skip, use.Scale, origin))
                {
                    return false;
                }
            }

            return true;
        }

        private bool Add(NodeOp op, string path, LayerSpec? layer, int width, long parameters, int skip, double scale, List<int> origin)
        {
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
            _graph.Nodes.Add(new GraphNode(_graph.Nodes.Count, path, op, input, skip, Width, width, parameters, layer, scale, new EquatableArray<int>(origin.ToArray())));
            return true;
        }

        private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
    }
}
