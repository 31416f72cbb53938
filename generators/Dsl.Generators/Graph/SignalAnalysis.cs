using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Dsl.Generators.Model;
using Dsl.Generators.Parsing;
using Dsl.Signal;

namespace Dsl.Generators.Graph;

/// <summary>The thresholds of the signal rules, each settable in .editorconfig (see <see cref="SignalAnalysis"/>).</summary>
/// <param name="Lower">The band's lower bound on a gain over the network (default 0.1).</param>
/// <param name="Upper">The band's upper bound (default 10).</param>
/// <param name="BatchSize">The batch size BatchNorm's rule assumes (default 128, at least 4).</param>
/// <param name="PostNormDepth">From how many post-norm residual blocks a stack needs a warm-up (default 6, at least 1).</param>
internal readonly record struct SignalOptions(double Lower, double Upper, int BatchSize, int PostNormDepth = SignalOptions.DefaultPostNormDepth)
{
    /// <summary>The depth of the post-LN Transformers Xiong et al. (2020) show diverging without warm-up.</summary>
    public const int DefaultPostNormDepth = 6;

    public static SignalOptions Default => new(0.1, 10, SignalPropagation.DefaultBatchSize);

    /// <summary>The .editorconfig keys.</summary>
    public const string LowerKey = "dsl.signal.lower_bound";
    public const string UpperKey = "dsl.signal.upper_bound";
    public const string BatchSizeKey = "dsl.signal.batch_size";
    public const string PostNormDepthKey = "dsl.signal.post_norm_depth";

    /// <summary>Reads the keys through <paramref name="read"/> (null: not set); a missing or invalid value keeps its default.</summary>
    public static SignalOptions Read(Func<string, string?> read)
    {
        SignalOptions options = Default;
        double lower = Number(read(LowerKey), options.Lower);
        double upper = Number(read(UpperKey), options.Upper);
        if (!(lower > 0 && upper > lower))
        {
            (lower, upper) = (options.Lower, options.Upper);
        }

        int batch = int.TryParse(read(BatchSizeKey), NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) && parsed >= 4 ? parsed : options.BatchSize;
        int postNorm = int.TryParse(read(PostNormDepthKey), NumberStyles.Integer, CultureInfo.InvariantCulture, out int depth) && depth >= 1 ? depth : options.PostNormDepth;
        return new SignalOptions(lower, upper, batch, postNorm);

        static double Number(string? text, double fallback)
            => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0 && !double.IsInfinity(value) ? value : fallback;
    }
}

/// <summary>
/// One signal or ordering problem: its diagnostic ID, the item chain of the attribute that causes it, the message, and
/// when the fix is mechanical, the named argument to set (<see cref="FixArgument"/> = <see cref="FixValue"/>, a C#
/// expression) on the attribute at each of <see cref="FixOrigins"/> (empty: at <see cref="Origin"/> alone).
/// </summary>
internal readonly record struct SignalFinding(string Id, EquatableArray<int> Origin, string Message)
{
    public string? FixArgument { get; init; }

    public string? FixValue { get; init; }

    public EquatableArray<int>[] FixOrigins { get; init; } = [];
}

/// <summary>
/// The analyzers' reading of a lowered graph at initialisation: <see cref="SignalPropagation"/> over it, then the rules
/// of the analyzer spec: the forward signal and the backward gradient kept within a band over the network, residual
/// streams that grow exponentially, and the ordering rules that apply to the layers the IR has (redundant bias before a
/// norm, BatchNorm after a residual add, dropout before BatchNorm, a pre-norm stack with no final norm, a deep BatchNorm
/// stack without skips). Pure: values in, findings out; the analyzer maps each origin to its attribute.
/// </summary>
internal static class SignalAnalysis
{
    /// <summary>
    /// The signal nodes of a lowered graph, node for node; when not null, <paramref name="init"/> overrides each linear
    /// layer's initialiser and <paramref name="scale"/> each residual add's branch scale.
    /// </summary>
    public static List<SignalNode> Nodes(LoweredGraph graph, Func<LayerSpec, InitKind>? init = null, Func<GraphNode, double>? scale = null)
    {
        var nodes = new List<SignalNode>(graph.Nodes.Count);
        foreach (GraphNode node in graph.Nodes)
        {
            nodes.Add(node.Op == NodeOp.Add && scale is not null
                ? SignalNode.Add(node.Path, node.Skip, node.Input, node.Width, scale(node))
                : Node(node, init));
        }

        return nodes;
    }

    /// <param name="training">The network's declared training policy (null: none declared), which the warm-up rule reads.</param>
    public static List<SignalFinding> Analyze(string network, LoweredGraph graph, SignalOptions options, TrainingSpec? training = null)
    {
        var findings = new List<SignalFinding>();
        if (graph.Errors.Count > 0 || graph.Nodes.Count < 2)
        {
            return findings;
        }

        List<SignalNode> nodes = Nodes(graph);
        SignalMoments[] moments = SignalPropagation.Propagate(nodes, options.BatchSize);
        // The structural rules first: a band problem they explain names them as its cause.
        ResidualGrowth(network, graph, moments, options, findings);
        DeepBatchNorm(network, graph, nodes, moments, options, findings);
        FinalNormMissing(network, graph, moments, findings);
        var causes = new List<SignalFinding>(findings);
        Band(network, graph, nodes, moments, options, findings, causes);
        RedundantBias(network, graph, findings);
        NormAfterAdd(network, graph, findings);
        DropoutBeforeBatchNorm(network, graph, findings);
        PostNormWithoutWarmup(network, graph, options, training, findings);
        return findings;
    }

    /// <summary>The warm-up the DSL0110 fix declares: [Warmup(FixWarmupSteps)].</summary>
    public const int FixWarmupSteps = 1000;

    /// <summary>
    /// A deep post-norm residual stack (LayerNorm or RMSNorm right after each residual add, the original Transformer's
    /// order) trained without a learning-rate warm-up: at initialisation the expected gradients of the parameters near the
    /// output are large, O(d sqrt(ln d)) against pre-norm's O(d sqrt(ln d / L)), and the first full-rate steps diverge or
    /// stall (Xiong et al., ICML 2020). Reported at the first post-norm norm with the fix of adding a warm-up.
    /// </summary>
    private static void PostNormWithoutWarmup(string network, LoweredGraph graph, SignalOptions options, TrainingSpec? training, List<SignalFinding> findings)
    {
        if (training is { WarmupSteps: > 0 })
        {
            return;
        }

        // A norm on the stream itself: it reads a residual add that nothing else reads. (A pre-norm branch's norm reads the
        // add too, but the add also goes on as the next block's skip; a pre-norm stack's final norm counts once.)
        List<GraphNode> postNorms = graph.Nodes
            .Where(n => n.Op is NodeOp.LayerNorm or NodeOp.RmsNorm && graph.Nodes[n.Input].Op == NodeOp.Add && Readers(graph, n.Input) == 1)
            .ToList();
        if (postNorms.Count < options.PostNormDepth)
        {
            return;
        }

        GraphNode first = postNorms[0];
        findings.Add(new SignalFinding(DiagnosticIds.PostNormWithoutWarmup, first.Origin, string.Format(
            CultureInfo.InvariantCulture,
            "Network '{0}' normalises after {1} residual adds (post-norm, from '{2}' on) and declares no learning-rate warm-up: post-norm gradients near the output are large at initialisation and full-rate first steps diverge or stall (Xiong et al. 2020); add [Warmup({3})] to the network class, or move each norm to the start of its branch (pre-norm) and add a final norm",
            network, postNorms.Count, first.Path, FixWarmupSteps))
        {
            // The fix adds the class attribute [Warmup(FixValue)] (AddWarmupCodeFix), not a named argument.
            FixArgument = "Warmup",
            FixValue = FixWarmupSteps.ToString(CultureInfo.InvariantCulture),
        });
    }

    private static SignalNode Node(GraphNode node, Func<LayerSpec, InitKind>? init)
    {
        LayerSpec? layer = node.Layer;
        switch (node.Op)
        {
            case NodeOp.Input:
                return SignalNode.InputNode(node.Width);
            case NodeOp.Linear:
            case NodeOp.Conv1d:
            case NodeOp.Conv2d:
            {
                LayerSpec dense = layer!;
                (long multiplies, double fanIn, double fanOut) = Taps(node, dense);
                InitKind kind = init?.Invoke(dense) ?? dense.Init;
                double weight = SignalNode.WeightVarianceOf((int)kind, dense.Fan == FanKind.Out, dense.InitStd, fanIn, fanOut);
                return SignalNode.Linear(
                    node.Path, node.Input, node.InputWidth, node.Width, multiplies, weight, SignalNode.BiasVarianceOf((int)kind, dense.HasBias, fanIn),
                    (SignalActivation)dense.Activation, dense.Slope);
            }

            case NodeOp.Activation:
                return SignalNode.ActivationNode(node.Path, node.Input, node.Width, (SignalActivation)layer!.Activation, layer.Slope);
            case NodeOp.LayerNorm:
                return SignalNode.Norm(SignalOp.LayerNorm, node.Path, node.Input, node.Width, layer!.Epsilon);
            case NodeOp.RmsNorm:
                return SignalNode.Norm(SignalOp.RmsNorm, node.Path, node.Input, node.Width, layer!.Epsilon);
            case NodeOp.BatchNorm:
                return SignalNode.Norm(SignalOp.BatchNorm, node.Path, node.Input, node.Width, layer!.Epsilon);
            case NodeOp.Dropout:
                return SignalNode.Dropout(node.Path, node.Input, node.Width, layer!.Probability);
            case NodeOp.Scale:
                return SignalNode.ScaleNode(node.Path, node.Input, node.Width, node.Scale);
            case NodeOp.Add:
                return SignalNode.Add(node.Path, node.Skip, node.Input, node.Width, node.Scale);
            case NodeOp.MaxPool:
                return SignalNode.Pool(SignalOp.MaxPool, node.Path, node.Input, node.Width, layer!.Kernel * layer.KernelHeight);
            case NodeOp.AvgPool:
                return SignalNode.Pool(SignalOp.AvgPool, node.Path, node.Input, node.Width, layer!.Kernel * layer.KernelHeight);
            case NodeOp.GlobalAvgPool:
                return SignalNode.Pool(SignalOp.AvgPool, node.Path, node.Input, node.Width, node.InputWidth / Math.Max(1, node.Width));
            default: // Flatten moves no value
                return SignalNode.Reshape(node.Path, node.Input, node.Width);
        }
    }

    /// <summary>A linear node's multiplies per sample that read the input (not padding), and its fans as the initialisers count them.</summary>
    private static (long Multiplies, double FanIn, double FanOut) Taps(GraphNode node, LayerSpec layer)
    {
        if (node.Op == NodeOp.Linear)
        {
            return ((long)node.Width * node.InputWidth, node.InputWidth, node.Width);
        }

        EquatableArray<int> input = node.InputShape, output = node.Shape;
        int groupChannels = input[0] / Math.Max(1, layer.Groups);
        long taps = (long)layer.Kernel * layer.KernelHeight;
        long valid = node.Op == NodeOp.Conv1d
            ? SignalNode.ValidTaps(input[1], output[1], layer.Kernel, layer.Stride, layer.Padding, layer.Dilation)
            : SignalNode.ValidTaps(input[1], output[1], layer.KernelHeight, layer.StrideHeight, layer.PaddingHeight, layer.DilationHeight)
                * SignalNode.ValidTaps(input[2], output[2], layer.Kernel, layer.Stride, layer.Padding, layer.Dilation);
        return ((long)layer.Units * groupChannels * valid, groupChannels * taps, layer.Units * taps);
    }

    /// <summary>
    /// The forward gain (the output's second moment over the input's) and the backward gain (the input gradient's squared
    /// norm over the output gradient's) must stay within the band over the network; each problem at the layer from which
    /// the running gain stays out of the band, with the initialiser that would keep it in, when one does.
    /// </summary>
    private static void Band(
        string network, LoweredGraph graph, List<SignalNode> nodes, SignalMoments[] moments, SignalOptions options, List<SignalFinding> findings,
        List<SignalFinding> causes)
    {
        int last = nodes.Count - 1;
        double forward = SignalPropagation.ForwardGain(moments);
        if (Outside(forward, options))
        {
            int from = 1;
            for (int i = last; i >= 1; i--)
            {
                if (!SameSide(moments[i].Forward / moments[0].Forward, forward, options))
                {
                    from = i + 1;
                    break;
                }

                from = i;
            }

            Report(DiagnosticIds.SignalOutOfBand, "forward signal's second moment", forward, from);
        }

        double backward = SignalPropagation.BackwardGain(nodes, moments);
        if (Outside(backward, options))
        {
            // The largest value v from which every earlier value's gradient is out of the band; the layer after it pushes it out.
            int value = 0;
            for (int i = 0; i < last; i++)
            {
                double ratio = moments[i].Backward * nodes[i].Width / (moments[last].Backward * nodes[last].Width);
                if (!SameSide(ratio, backward, options))
                {
                    break;
                }

                value = i;
            }

            Report(DiagnosticIds.GradientOutOfBand, "gradient's squared norm", backward, value + 1);
        }

        void Report(string id, string what, double gain, int nodeIndex)
        {
            GraphNode anchor = graph.Nodes[Math.Min(nodeIndex, last)];
            string direction = gain > options.Upper ? "grows" : "shrinks";
            InitKind? init = null;
            string fix = gain > options.Upper && causes.Count > 0
                ? string.Join("; ", causes.Select(c => c.Id + " names the cause and its fix" + (c.Origin.Count > 0 ? " at '" + Trim(graph.Nodes.First(n => n.Origin.Equals(c.Origin)).Path) + "'" : string.Empty)).Distinct())
                : Fix(graph, options, id == DiagnosticIds.SignalOutOfBand, out init);
            EquatableArray<int>[] layers = init is null
                ? []
                : LinearLayers(graph).Select(n => n.Origin).Distinct().ToArray();
            findings.Add(new SignalFinding(id, anchor.Origin, string.Format(
                CultureInfo.InvariantCulture,
                "At initialisation the {0} {1} by {2} over network '{3}' ({4} layers), leaving the {5}x to {6}x band from '{7}' on; {8}",
                what, direction, Number(gain), network, nodes.Count - 1, Number(options.Lower), Number(options.Upper), anchor.Path, fix))
            {
                FixArgument = init is null ? null : "Init",
                FixValue = init is null ? null : "global::Dsl.Init." + init,
                FixOrigins = layers,
            });
        }
    }

    /// <summary>The dense and convolution layers an initialiser fix changes: every one that is not zero-initialised on purpose.</summary>
    private static IEnumerable<GraphNode> LinearLayers(LoweredGraph graph)
        => graph.Nodes.Where(n => n.Layer is { } l && (n.Op is NodeOp.Linear or NodeOp.Conv1d or NodeOp.Conv2d) && l.Init != InitKind.Zero);

    /// <summary>The initialiser that would keep both gains in the band (He for rectifiers, then LeCun, then Xavier), or what else would.</summary>
    private static string Fix(LoweredGraph graph, SignalOptions options, bool forward, out InitKind? init)
    {
        init = null;
        var linear = LinearLayers(graph).ToList();
        if (linear.Count > 0)
        {
            foreach (InitKind candidate in new[] { InitKind.He, InitKind.LeCun, InitKind.Xavier })
            {
                if (linear.All(n => n.Layer!.Init == candidate))
                {
                    continue;
                }

                List<SignalNode> nodes = Nodes(graph, layer => layer.Init == InitKind.Zero ? InitKind.Zero : candidate);
                SignalMoments[] moments = SignalPropagation.Propagate(nodes, options.BatchSize);
                double f = SignalPropagation.ForwardGain(moments), b = SignalPropagation.BackwardGain(nodes, moments);
                if (!Outside(f, options) && !Outside(b, options))
                {
                    init = candidate;
                    return string.Format(
                        CultureInfo.InvariantCulture,
                        "Init = Init.{0} on every layer would keep it at {1} (forward {2}, backward {3})",
                        candidate, Number(forward ? f : b), Number(f), Number(b));
                }
            }
        }

        if (graph.Nodes.Any(n => n.Op == NodeOp.Add))
        {
            return "no initialiser alone keeps it in the band: scale the residual branches down ([Residual(Scale = s)]) or zero-initialise each branch's last layer, and end the stack with a LayerNorm";
        }

        if (graph.Nodes.Any(n => n.Layer is { } l && l.Activation == ActivationKind.Sigmoid))
        {
            return "no initialiser keeps it in the band: sigmoid's derivative (at most 1/4) shrinks the gradient at every layer; use ReLU, GELU or tanh, or add residual connections";
        }

        return "no initialiser alone keeps it in the band: add residual connections with normalisation, or make the network shallower";
    }

    /// <summary>
    /// A chain of residual adds on the trunk (a repeated residual block, or residual blocks in a row) whose stream grows by
    /// more than the band's upper bound, with no normalisation in the branches: reported at the block property, with the
    /// branch scale that would keep the growth within the band (Prince ch. 11; Fixup; SkipInit; ReZero).
    /// </summary>
    private static void ResidualGrowth(string network, LoweredGraph graph, SignalMoments[] moments, SignalOptions options, List<SignalFinding> findings)
    {
        // Group the adds by the property that declares them (the origin of a residual add is its block property).
        foreach (IGrouping<string, GraphNode> stack in graph.Nodes.Where(n => n.Op == NodeOp.Add).GroupBy(n => OriginKey(n.Origin)))
        {
            List<GraphNode> adds = stack.ToList();
            double growth = 1, branchGain = 0;
            bool normalised = false;
            foreach (GraphNode add in adds)
            {
                double skip = moments[add.Skip].Forward;
                growth *= moments[add.Id].Forward / skip;
                branchGain += moments[add.Input].Forward / skip; // the branch's own gain, before its scale
                normalised |= graph.Nodes.Skip(add.Skip + 1).Take(add.Id - add.Skip - 1).Any(n => n.Op is NodeOp.LayerNorm or NodeOp.RmsNorm or NodeOp.BatchNorm);
                // A norm on the stream itself after the add (post-norm) resets its growth every block.
                normalised |= Readers(graph, add.Id) == 1 && graph.Nodes.Any(n => n.Input == add.Id && n.Op is NodeOp.LayerNorm or NodeOp.RmsNorm or NodeOp.BatchNorm);
            }

            if (normalised || growth <= options.Upper)
            {
                continue;
            }

            int blocks = adds.Count;
            double meanGain = branchGain / blocks;
            double shown = BranchScale(graph, options, stack.Key, adds, meanGain);
            findings.Add(new SignalFinding(DiagnosticIds.ResidualGrowth, adds[0].Origin, string.Format(
                CultureInfo.InvariantCulture,
                "The residual stream of '{0}' in network '{1}' grows by {2} over {3} block{4} at initialisation: each branch adds {5} times the stream's second moment, with no normalisation in it; {6}zero-initialise the branch's last layer (Init = Init.Zero), or start the branch with a LayerNorm",
                Trim(adds[0].Path), network, Number(growth), blocks, blocks == 1 ? string.Empty : "s", Number(meanGain),
                shown > 0 ? string.Format(CultureInfo.InvariantCulture, "scale each branch by {0} or less ([Residual(Scale = {0})]), ", Number(shown)) : string.Empty))
            {
                FixArgument = shown > 0 ? "Scale" : null,
                FixValue = shown > 0 ? Number(shown) : null,
            });
        }
    }

    /// <summary>
    /// The largest of a few round branch scales that brings the whole network's forward and backward gains into the band;
    /// failing that, the scale that keeps this stream's own growth (1 + alpha^2 G)^L within the band's upper bound.
    /// </summary>
    private static double BranchScale(LoweredGraph graph, SignalOptions options, string stack, List<GraphNode> adds, double branchGain)
    {
        foreach (double candidate in new[] { 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03, 0.02, 0.01 })
        {
            List<SignalNode> nodes = Nodes(graph, scale: add => OriginKey(add.Origin) == stack ? candidate : add.Scale);
            SignalMoments[] moments = SignalPropagation.Propagate(nodes, options.BatchSize);
            if (!Outside(SignalPropagation.ForwardGain(moments), options) && !Outside(SignalPropagation.BackwardGain(nodes, moments), options))
            {
                return candidate;
            }
        }

        return Math.Floor(Math.Sqrt((Math.Pow(options.Upper, 1.0 / adds.Count) - 1) / branchGain) * 100) / 100;
    }

    /// <summary>
    /// Many BatchNorm layers and no residual add, with a backward gain over the band: the gradient grows geometrically at
    /// initialisation whatever the initialiser (Yang et al., ICLR 2019). Reported at the network; returns whether it was.
    /// </summary>
    private static void DeepBatchNorm(string network, LoweredGraph graph, List<SignalNode> nodes, SignalMoments[] moments, SignalOptions options, List<SignalFinding> findings)
    {
        int norms = graph.Nodes.Count(n => n.Op == NodeOp.BatchNorm);
        double backward = SignalPropagation.BackwardGain(nodes, moments);
        if (norms < 2 || graph.Nodes.Any(n => n.Op == NodeOp.Add) || backward <= options.Upper)
        {
            return;
        }

        findings.Add(new SignalFinding(DiagnosticIds.DeepBatchNormWithoutSkips, default, string.Format(
            CultureInfo.InvariantCulture,
            "Network '{0}' stacks {1} BatchNorm layers with no residual connection: at initialisation (batch {2}) its gradient grows by {3} from the output to the input, whatever the initialiser (by pi/(pi - 1) = 1.47 per ReLU layer as the batch grows); add residual connections around the normalised layers",
            network, norms, options.BatchSize, Number(backward))));
    }

    /// <summary>A dense or convolution layer with a bias and no activation, read only by a BatchNorm (the mean subtraction cancels the bias) or a LayerNorm (it cancels the bias's mean).</summary>
    private static void RedundantBias(string network, LoweredGraph graph, List<SignalFinding> findings)
    {
        foreach (GraphNode norm in graph.Nodes.Where(n => n.Op is NodeOp.BatchNorm or NodeOp.LayerNorm))
        {
            GraphNode producer = graph.Nodes[norm.Input];
            if (producer.Layer is not { HasBias: true, Activation: ActivationKind.Identity }
                || producer.Op is not (NodeOp.Linear or NodeOp.Conv1d or NodeOp.Conv2d)
                || Readers(graph, producer.Id) != 1)
            {
                continue;
            }

            bool batch = norm.Op == NodeOp.BatchNorm;
            findings.Add(new SignalFinding(batch ? DiagnosticIds.RedundantBias : DiagnosticIds.BiasMeanCancelled, producer.Origin, batch
                ? string.Format(CultureInfo.InvariantCulture, "The bias of '{0}' in network '{1}' is cancelled by BatchNorm '{2}', which subtracts each feature's mean: declare Bias = false", producer.Path, network, norm.Path)
                : string.Format(CultureInfo.InvariantCulture, "LayerNorm '{0}' in network '{1}' subtracts the mean of '{2}''s bias; only the bias's variation across features reaches it", norm.Path, network, producer.Path))
            {
                FixArgument = batch ? "Bias" : null,
                FixValue = batch ? "false" : null,
            });
        }
    }

    /// <summary>A BatchNorm reading a residual add normalises the skip path too, which must stay an identity (He et al., Identity Mappings, 2016).</summary>
    private static void NormAfterAdd(string network, LoweredGraph graph, List<SignalFinding> findings)
    {
        foreach (GraphNode norm in graph.Nodes.Where(n => n.Op == NodeOp.BatchNorm && graph.Nodes[n.Input].Op == NodeOp.Add))
        {
            GraphNode add = graph.Nodes[norm.Input];
            findings.Add(new SignalFinding(DiagnosticIds.NormOnSkipPath, norm.Origin, string.Format(
                CultureInfo.InvariantCulture,
                "BatchNorm '{0}' in network '{1}' reads the residual add of '{2}', so it normalises the skip path as well as the branch; keep the skip an identity and move the norm into the branch",
                norm.Path, network, Trim(add.Path))));
        }
    }

    /// <summary>Dropout that reaches a BatchNorm with no normalisation between: its statistics shift from training to evaluation (Li et al., CVPR 2019).</summary>
    private static void DropoutBeforeBatchNorm(string network, LoweredGraph graph, List<SignalFinding> findings)
    {
        foreach (GraphNode norm in graph.Nodes.Where(n => n.Op == NodeOp.BatchNorm))
        {
            // Walk back through ops that keep the dropout's variance shift: activations, scales, flattens and pools.
            GraphNode current = graph.Nodes[norm.Input];
            while (current.Op is NodeOp.Activation or NodeOp.Scale or NodeOp.Flatten or NodeOp.MaxPool or NodeOp.AvgPool or NodeOp.Linear or NodeOp.Conv1d or NodeOp.Conv2d)
            {
                current = graph.Nodes[current.Input];
            }

            if (current.Op == NodeOp.Dropout)
            {
                findings.Add(new SignalFinding(DiagnosticIds.DropoutBeforeBatchNorm, current.Origin, string.Format(
                    CultureInfo.InvariantCulture,
                    "Dropout '{0}' in network '{1}' feeds BatchNorm '{2}' with no normalisation between: the variance BatchNorm learns in training is not the one it sees in evaluation; put the dropout after the last BatchNorm",
                    current.Path, network, norm.Path)));
            }
        }
    }

    /// <summary>A pre-norm residual stack (each branch starts with a norm) whose stream reaches the head with no normalisation after the last add (Xiong et al. 2020; GPT-2).</summary>
    private static void FinalNormMissing(string network, LoweredGraph graph, SignalMoments[] moments, List<SignalFinding> findings)
    {
        List<GraphNode> preNorm = graph.Nodes
            .Where(n => n.Op == NodeOp.Add && n.Skip + 1 < n.Id && graph.Nodes[n.Skip + 1].Op is NodeOp.LayerNorm or NodeOp.RmsNorm && graph.Nodes[n.Skip + 1].Input == n.Skip)
            .ToList();
        if (preNorm.Count < 2)
        {
            return;
        }

        GraphNode lastAdd = preNorm[preNorm.Count - 1];
        if (graph.Nodes.Skip(lastAdd.Id + 1).Any(n => n.Op is NodeOp.LayerNorm or NodeOp.RmsNorm or NodeOp.BatchNorm))
        {
            return;
        }

        findings.Add(new SignalFinding(DiagnosticIds.FinalNormMissing, lastAdd.Origin, string.Format(
            CultureInfo.InvariantCulture,
            "The pre-norm residual stack '{0}' in network '{1}' feeds the head with no final normalisation: its stream's second moment grows {2}-fold over {3} blocks at initialisation and reaches the head unnormalised; add [LayerNorm] public partial Layer FinalNorm {{ get; }} after it",
            Trim(lastAdd.Path), network, Number(moments[lastAdd.Id].Forward / moments[preNorm[0].Skip].Forward), preNorm.Count)));
    }

    private static int Readers(LoweredGraph graph, int value) => graph.Nodes.Count(n => n.Input == value || n.Skip == value);

    private static bool Outside(double gain, SignalOptions options) => !(gain >= options.Lower && gain <= options.Upper);

    /// <summary>Whether <paramref name="ratio"/> is out of the band on the same side as <paramref name="gain"/>.</summary>
    private static bool SameSide(double ratio, double gain, SignalOptions options) => gain > options.Upper ? !(ratio <= options.Upper) : !(ratio >= options.Lower);

    private static string OriginKey(EquatableArray<int> origin) => string.Join(".", origin.ToArray().Select(i => i.ToString(CultureInfo.InvariantCulture)));

    /// <summary>A repeated block's path without its index: <c>Blocks[0]</c> -> <c>Blocks</c>.</summary>
    private static string Trim(string path)
    {
        int bracket = path.LastIndexOf('[');
        return bracket > 0 && path.EndsWith("]", StringComparison.Ordinal) ? path.Substring(0, bracket) : path;
    }

    /// <summary>Three significant digits: 0.0134, 2, 6.56e+3, 1.7e-8.</summary>
    public static string Number(double value)
    {
        string short3 = value.ToString("G3", CultureInfo.InvariantCulture);
        return value == 0 ? "0" : Math.Abs(value) >= 1e-3 && short3.IndexOf('E') < 0 ? short3 : value.ToString("0.##e+0", CultureInfo.InvariantCulture);
    }
}
