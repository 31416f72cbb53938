using Dsl.Graphs;
using Dsl.Tests.Ops;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Graphs;

/// <summary>
/// Graph networks with batch normalisation on the CPU runtime: gradients against central differences of a float64
/// training-mode forward (batch statistics; Evaluate runs in evaluation mode, by the running statistics, so it cannot
/// serve), the running statistics a step leaves against that forward's batch statistics, Predict and Evaluate against
/// the float64 evaluation-mode forward, one thread against several (no batch split: bitwise equal), and the steps that
/// must change nothing: a batch of one and a non-finite loss. ResetParameters resets the running statistics.
/// </summary>
public sealed class BatchNormNetworkTests
{
    private const float Epsilon = 1e-5f;

    /// <summary>
    /// In (dense 7 -> 9) -> Norm (batch norm, affine) -> Act (tanh) -> Body: residual [Norm (batch norm, no affine), Up
    /// (dense 9 -> 9)] -> Head (dense 9 -> 5): the second batch norm reads a value the residual's skip reads too, so its
    /// input gradient is added to the skip's.
    /// </summary>
    private static readonly Node[] Mlp =
    [
        new DenseNode("In", 9),
        new NormNode("Norm", Affine: true),
        new TanhNode("Act"),
        new BlockNode("Body", [new ResidualNode([new NormNode("Norm", Affine: false), new DenseNode("Up", 9)])]),
        new DenseNode("Head", 5),
    ];

    /// <summary>A batch norm straight on the network's input: InNorm (affine) -> Head (dense 7 -> 5).</summary>
    private static readonly Node[] InputNorm = [new NormNode("InNorm", Affine: true), new DenseNode("Head", 5)];

    public static TheoryData<string, int> GradientCases => new()
    {
        { nameof(Mlp), 13 },
        { nameof(Mlp), 2 },
        { nameof(InputNorm), 9 },
    };

    // ---------------------------------------------------------------- 1. gradients, running statistics, evaluation

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Gradients_match_central_differences_of_the_float64_training_forward(string graph, int batch)
    {
        Node[] nodes = Graph(graph);
        using Device device = Device.Cpu(1);
        GraphNetwork network = Build(nodes, device, seed: 7);
        PerturbNorms(network, seed: 3);
        (float[] x, int[] labels) = Data(batch, network.InputSize, network.OutputSize, seed: batch);
        double[] wideX = TestData.Widen(x);

        float loss = network.ComputeGradients(x, labels);
        Assert.Equal(loss, network.LastLoss);
        double[] parameters = TestData.Widen(network.Parameters.ToArray());
        double Loss(double[] p) => CrossEntropy(Forward(nodes, network, p, wideX, batch, training: true, out _), labels, network.OutputSize);
        double referenceLoss = Loss(parameters);
        Assert.True(Math.Abs(referenceLoss - loss) <= 1e-5 * Math.Max(1, referenceLoss), $"loss {loss}, float64 training-mode reference {referenceLoss}");

        float[] gradients = network.Gradients.ToArray();
        var numeric = new double[parameters.Length];
        const double H = 1e-5;
        for (int i = 0; i < parameters.Length; i++)
        {
            numeric[i] = Float64Reference.CentralDifference(parameters, i, H, Loss);
        }

        double largest = numeric.Max(Math.Abs);
        Assert.True(largest > 1e-2, $"gradients are all ~0 ({largest}); the check would be vacuous");
        foreach (Layer layer in network.Layers.Where(l => l.ParameterCount > 0 && l.Name != "In"))
        {
            Assert.True(layer.WeightGradient.ToArray().Any(g => Math.Abs(g) > 1e-3 * largest), $"{layer.Name}'s weight gradient is all ~0");
        }

        for (int i = 0; i < parameters.Length; i++)
        {
            double tolerance = (1e-5 * largest) + (1e-4 * Math.Abs(numeric[i]));
            Assert.True(Math.Abs(gradients[i] - numeric[i]) <= tolerance, $"d loss / d parameter[{i}] = {gradients[i]}, central differences {numeric[i]} (tolerance {tolerance})");
        }

        // A bias right before a batch norm has gradient 0 (the batch mean takes it out): only rounding residue.
        if (graph == nameof(Mlp))
        {
            Layer input = Find(network, "In");
            Assert.All(input.BiasGradient.ToArray(), g => Assert.True(Math.Abs(g) <= 1e-6 * largest, $"In.bias gradient {g}"));
            Assert.All(Enumerable.Range(input.BiasOffset, input.Units), i => Assert.True(Math.Abs(numeric[i]) <= 1e-6 * largest));
        }

        // The step moved each running statistic from (0, 1) towards its batch's: mean, and variance unbiased.
        Forward(nodes, network, parameters, wideX, batch, training: true, out Dictionary<string, double[]> normInputs);
        foreach (Layer norm in network.Layers.Where(l => l.Kind == LayerKind.BatchNorm))
        {
            var stats = BatchNormReference.Training(normInputs[norm.Name], null, null, batch, norm.Units, Epsilon);
            for (int f = 0; f < norm.Units; f++)
            {
                double expectedMean = 0.1 * stats.Mean[f];
                double expectedVariance = 0.9 + (0.1 * stats.Variance[f] * batch / (batch - 1));
                Assert.Equal(expectedMean, norm.RunningMean[f], 1e-6 * (1 + Math.Abs(expectedMean)));
                Assert.Equal(expectedVariance, norm.RunningVariance[f], 1e-6 * expectedVariance);
            }
        }

        // Predict and Evaluate run in evaluation mode: the float64 forward by those running statistics.
        var outputs = new float[batch * network.OutputSize];
        network.Predict(x, outputs);
        double[] evaluation = Forward(nodes, network, parameters, wideX, batch, training: false, out _);
        double scale = Math.Max(1, evaluation.Max(Math.Abs));
        for (int i = 0; i < outputs.Length; i++)
        {
            Assert.True(Math.Abs(outputs[i] - evaluation[i]) <= 1e-5 * scale, $"output[{i}] = {outputs[i]}, float64 evaluation-mode reference {evaluation[i]}");
        }

        double evaluationLoss = CrossEntropy(evaluation, labels, network.OutputSize);
        Assert.Equal(evaluationLoss, network.Evaluate(x, labels).Loss, 1e-5 * Math.Max(1, evaluationLoss));
        Assert.Equal(evaluationLoss, network.Evaluate(x, labels, batchSize: 1).Loss, 1e-5 * Math.Max(1, evaluationLoss));
        Assert.True(Math.Abs(evaluationLoss - referenceLoss) > 1e-4, "the evaluation-mode loss equals the training-mode one: the check does not tell the modes apart");
    }

    // ---------------------------------------------------------------- 2. threads: no split, bitwise equal

    [Theory]
    [InlineData(64)]
    [InlineData(37)]
    public void Several_threads_give_bitwise_the_gradients_steps_and_statistics_of_one(int batch)
    {
        using Device one = Device.Cpu(1);
        using Device two = Device.Cpu(2);
        using Device four = Device.Cpu(4);
        GraphNetwork serial = Build(Mlp, one, seed: 11);
        GraphNetwork[] threaded = [Build(Mlp, two, seed: 11), Build(Mlp, four, seed: 11)];
        Assert.False(serial.SplitsBatchAcrossThreads);
        Assert.All(threaded, n => Assert.False(n.SplitsBatchAcrossThreads));
        Assert.True(Dsl.Cpu.BatchSplit.SliceCount(batch, four.Workers) > 1, "a network that split would split this batch");

        // The same network with layer norms in place of the batch norms does split: it is the batch norm that stops it.
        var b = new GraphBuilder("NoBatchNorm", [7]);
        b.Dense("In", 9, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        b.LayerNorm("Norm", Epsilon, affine: true);
        b.Dense("Head", 5, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        Assert.True(b.Build(four, Loss.SoftmaxCrossEntropy, 1, (7 * 9) + 9 + 18 + (9 * 5) + 5).SplitsBatchAcrossThreads);

        (float[] x, int[] labels) = Data(batch, 7, 5, seed: 5);
        float loss = serial.ComputeGradients(x, labels);
        foreach (GraphNetwork network in threaded)
        {
            Assert.Equal(loss, network.ComputeGradients(x, labels));
            Assert.Equal(serial.Gradients.ToArray(), network.Gradients.ToArray());
            Assert.Equal(serial.State.ToArray(), network.State.ToArray());
        }

        var optimizers = new[] { new Adam(0.01f), new Adam(0.01f), new Adam(0.01f) };
        for (int step = 0; step < 3; step++)
        {
            float serialLoss = serial.TrainStep(x, labels, optimizers[0]);
            for (int n = 0; n < threaded.Length; n++)
            {
                Assert.Equal(serialLoss, threaded[n].TrainStep(x, labels, optimizers[n + 1]));
                Assert.Equal(serial.Parameters.ToArray(), threaded[n].Parameters.ToArray());
                Assert.Equal(serial.State.ToArray(), threaded[n].State.ToArray());
            }
        }

        var expected = new float[batch * 5];
        serial.Predict(x, expected);
        foreach (GraphNetwork network in threaded)
        {
            var outputs = new float[batch * 5];
            network.Predict(x, outputs);
            Assert.Equal(expected, outputs);
        }
    }

    // ---------------------------------------------------------------- 3. steps that change nothing

    [Fact]
    public void A_batch_of_one_is_refused_in_training_and_changes_nothing()
    {
        using Device device = Device.Cpu(2);
        GraphNetwork network = Build(Mlp, device, seed: 2);
        GraphNetwork twin = Build(Mlp, device, seed: 2);
        var (optimizer, twinOptimizer) = (new Adam(0.01f), new Adam(0.01f));
        (float[] x, int[] labels) = Data(16, 7, 5, seed: 8);
        network.TrainStep(x, labels, optimizer);
        twin.TrainStep(x, labels, twinOptimizer);

        float[] one = x.AsSpan(0, 7).ToArray();
        int[] oneLabel = [labels[0]];
        Assert.Throws<ShapeMismatchException>(() => network.TrainStep(one, oneLabel, optimizer));
        Assert.Throws<ShapeMismatchException>(() => network.ComputeGradients(one, oneLabel));
        AssertSame(twin, network);
        Assert.Equal((twinOptimizer.StepCount, twin.LastLoss), (optimizer.StepCount, network.LastLoss));

        // Evaluation of one sample is fine (running statistics), and trains nothing.
        var single = new float[5];
        network.Predict(one, single);
        double[] reference = Forward(Mlp, network, TestData.Widen(network.Parameters.ToArray()), TestData.Widen(one), 1, training: false, out _);
        for (int j = 0; j < 5; j++)
        {
            Assert.Equal(reference[j], single[j], 1e-5 * Math.Max(1, Math.Abs(reference[j])));
        }

        Assert.True(double.IsFinite(network.Evaluate(one, oneLabel).Loss));
        AssertSame(twin, network);

        // The next step lands where the twin's does: the optimizer's moments and the statistics were untouched.
        Assert.Equal(twin.TrainStep(x, labels, twinOptimizer), network.TrainStep(x, labels, optimizer));
        AssertSame(twin, network);
    }

    [Fact]
    public void A_step_with_a_non_finite_loss_leaves_the_running_statistics_unchanged()
    {
        using Device device = Device.Cpu(2);
        GraphNetwork network = Build(Mlp, device, seed: 4);
        GraphNetwork twin = Build(Mlp, device, seed: 4);
        var (optimizer, twinOptimizer) = (new Adam(0.01f), new Adam(0.01f));
        (float[] x, int[] labels) = Data(16, 7, 5, seed: 9);
        network.TrainStep(x, labels, optimizer);
        twin.TrainStep(x, labels, twinOptimizer);
        Assert.Contains(network.State.ToArray(), s => s != 0f && s != 1f);

        // (a) Finite inputs that overflow the first layer to infinity (In's weights set to 1 in both networks): the
        // batch statistics of Norm are NaN, and so is the loss.
        float[] saved = Find(network, "In").Weight.ToArray();
        Find(network, "In").Weight.Fill(1f);
        Find(twin, "In").Weight.Fill(1f);
        float[] huge = Enumerable.Repeat(float.MaxValue / 2, 16 * 7).ToArray();
        Assert.True(float.IsNaN(Assert.Throws<NonFiniteLossException>(() => network.TrainStep(huge, labels, optimizer)).Loss));
        Assert.Throws<NonFiniteLossException>(() => network.ComputeGradients(huge, labels));
        AssertSame(twin, network);
        saved.CopyTo(Find(network, "In").Weight);
        saved.CopyTo(Find(twin, "In").Weight);

        // (b) Head's weights at float.MaxValue: the batch norms are fine, the logits overflow and the loss is NaN.
        float[] head = Find(network, "Head").Weight.ToArray();
        Find(network, "Head").Weight.Fill(float.MaxValue);
        Find(twin, "Head").Weight.Fill(float.MaxValue);
        Assert.Throws<NonFiniteLossException>(() => network.TrainStep(x, labels, optimizer));
        Assert.Throws<NonFiniteLossException>(() => network.ComputeGradients(x, labels));
        AssertSame(twin, network);
        head.CopyTo(Find(network, "Head").Weight);
        head.CopyTo(Find(twin, "Head").Weight);

        Assert.Equal((twinOptimizer.StepCount, twin.LastLoss), (optimizer.StepCount, network.LastLoss));
        Assert.Equal(twin.TrainStep(x, labels, twinOptimizer), network.TrainStep(x, labels, optimizer));
        AssertSame(twin, network);
    }

    // ---------------------------------------------------------------- 4. reset, layout, momentum

    [Fact]
    public void ResetParameters_resets_the_running_statistics_to_mean_0_and_variance_1()
    {
        using Device device = Device.Cpu(1);
        GraphNetwork network = Build(Mlp, device, seed: 5);
        GraphNetwork fresh = Build(Mlp, device, seed: 6);
        Layer[] norms = [.. network.Layers.Where(l => l.Kind == LayerKind.BatchNorm)];
        Assert.Equal(["Norm", "Body.Norm"], norms.Select(l => l.Name));
        Assert.Equal([0, 18], norms.Select(l => l.StateOffset));
        Assert.Equal(36, network.State.Length);

        var optimizer = new Sgd(0.1f, 0.9f);
        (float[] x, int[] labels) = Data(20, 7, 5, seed: 1);
        for (int step = 0; step < 3; step++)
        {
            network.TrainStep(x, labels, optimizer);
        }

        Assert.All(norms, l => Assert.Contains(l.RunningMean.ToArray(), m => Math.Abs(m) > 1e-3));
        Assert.All(norms, l => Assert.Contains(l.RunningVariance.ToArray(), v => Math.Abs(v - 1) > 1e-3));

        network.ResetParameters(6);
        Assert.All(norms, l =>
        {
            Assert.Equal(new float[l.Units], l.RunningMean.ToArray());
            Assert.Equal(Enumerable.Repeat(1f, l.Units).ToArray(), l.RunningVariance.ToArray());
        });
        Assert.Equal(Enumerable.Repeat(1f, 9).ToArray(), norms[0].Gain.ToArray());
        Assert.Equal(new float[9], norms[0].Bias.ToArray());
        Assert.Equal(fresh.Parameters.ToArray(), network.Parameters.ToArray());
        Assert.Equal(fresh.State.ToArray(), network.State.ToArray());

        var outputs = new float[20 * 5];
        var freshOutputs = new float[20 * 5];
        network.Predict(x, outputs);
        fresh.Predict(x, freshOutputs);
        Assert.Equal(freshOutputs, outputs);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(0.25f)]
    public void The_momentum_sets_how_far_a_step_moves_the_running_statistics(float momentum)
    {
        Node[] nodes = [new DenseNode("In", 6), new NormNode("Norm", Affine: true, momentum), new DenseNode("Head", 5)];
        using Device device = Device.Cpu(1);
        GraphNetwork network = Build(nodes, device, seed: 9);
        Layer norm = Find(network, "Norm");
        float[] mean = TestData.Uniform(new Random(1), 6, -1, 1), variance = TestData.Uniform(new Random(2), 6, 0.5, 2);
        mean.CopyTo(norm.RunningMean);
        variance.CopyTo(norm.RunningVariance);
        (float[] x, int[] labels) = Data(10, 7, 5, seed: 3);
        network.ComputeGradients(x, labels);

        Forward(nodes, network, TestData.Widen(network.Parameters.ToArray()), TestData.Widen(x), 10, training: true, out Dictionary<string, double[]> inputs);
        var stats = BatchNormReference.Training(inputs["Norm"], null, null, 10, 6, Epsilon);
        for (int f = 0; f < 6; f++)
        {
            double expectedMean = ((1 - (double)momentum) * mean[f]) + (momentum * stats.Mean[f]);
            double expectedVariance = ((1 - (double)momentum) * variance[f]) + (momentum * stats.Variance[f] * 10 / 9);
            Assert.Equal(expectedMean, norm.RunningMean[f], 1e-6 * (1 + Math.Abs(expectedMean)));
            Assert.Equal(expectedVariance, norm.RunningVariance[f], 1e-6 * expectedVariance);
        }

        if (momentum == 0f)
        {
            Assert.Equal(mean, norm.RunningMean.ToArray());
            Assert.Equal(variance, norm.RunningVariance.ToArray());
        }
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void A_momentum_outside_0_to_1_is_refused(float momentum)
    {
        var b = new GraphBuilder("Bad", [7]);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.BatchNorm("Norm", Epsilon, momentum, affine: true));
    }

    [Fact]
    public void A_batch_norm_without_affine_parameters_has_none_but_keeps_its_state()
    {
        using Device device = Device.Cpu(1);
        GraphNetwork network = Build(Mlp, device, seed: 1);
        Layer norm = Find(network, "Body.Norm");
        Assert.Equal(LayerKind.BatchNorm, norm.Kind);
        Assert.Equal(0, norm.ParameterCount);
        Assert.False(norm.HasBias);
        Assert.True(norm.Gain.IsEmpty && norm.Weight.IsEmpty && norm.WeightGradient.IsEmpty);
        Assert.Equal(9, norm.RunningMean.Length);
        Assert.Equal(9, norm.RunningVariance.Length);
        Assert.Equal((7 * 9) + 9 + 18 + (9 * 9) + 9 + (9 * 5) + 5, network.ParameterCount);
    }

    // ---------------------------------------------------------------- the graphs and their float64 forward

    private abstract record Node;

    private sealed record DenseNode(string Name, int Units) : Node;

    private sealed record NormNode(string Name, bool Affine, float Momentum = 0.1f) : Node;

    private sealed record TanhNode(string Name) : Node;

    private sealed record ResidualNode(Node[] Branch) : Node;

    private sealed record BlockNode(string Name, Node[] Body) : Node;

    private static Node[] Graph(string name) => name switch
    {
        nameof(Mlp) => Mlp,
        nameof(InputNorm) => InputNorm,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static GraphNetwork Build(Node[] nodes, Device device, ulong seed)
    {
        var builder = new GraphBuilder("BatchNormGraph", [7]);
        int count = 0;
        Add(builder, nodes, ref count);
        return builder.Build(device, Loss.SoftmaxCrossEntropy, seed, count);
    }

    private static void Add(GraphBuilder b, Node[] nodes, ref int count)
    {
        foreach (Node node in nodes)
        {
            switch (node)
            {
                case DenseNode d:
                    count += (b.Width * d.Units) + d.Units;
                    b.Dense(d.Name, d.Units, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
                    break;
                case NormNode n:
                    count += n.Affine ? 2 * b.Width : 0;
                    b.BatchNorm(n.Name, Epsilon, n.Momentum, n.Affine);
                    break;
                case TanhNode t:
                    b.Activation(t.Name, Activation.Tanh, 0f, new Dsl.Ops.Tanh());
                    break;
                case ResidualNode r:
                    b.BeginResidual();
                    Add(b, r.Branch, ref count);
                    b.EndResidual(1f);
                    break;
                case BlockNode block:
                    b.EnterBlock(block.Name);
                    Add(b, block.Body, ref count);
                    b.ExitBlock();
                    break;
            }
        }
    }

    /// <summary>
    /// The outputs (batch, classes) in float64 for parameters laid out as the network's: in training mode each batch norm
    /// normalises by its input's batch mean and biased variance; in evaluation mode by the network's running statistics.
    /// <paramref name="normInputs"/> gets each batch norm's input by path.
    /// </summary>
    private static double[] Forward(Node[] nodes, GraphNetwork network, double[] p, double[] x, int batch, bool training, out Dictionary<string, double[]> normInputs)
    {
        normInputs = [];
        int cursor = 0;
        double[] y = Forward(nodes, network.Layers, ref cursor, p, x, batch, training, normInputs);
        Assert.Equal(network.Layers.Count, cursor);
        return y;
    }

    private static double[] Forward(Node[] nodes, IReadOnlyList<Layer> layers, ref int cursor, double[] p, double[] x, int batch, bool training, Dictionary<string, double[]> normInputs)
    {
        foreach (Node node in nodes)
        {
            switch (node)
            {
                case BlockNode block:
                    x = Forward(block.Body, layers, ref cursor, p, x, batch, training, normInputs);
                    break;
                case ResidualNode residual:
                {
                    double[] branch = Forward(residual.Branch, layers, ref cursor, p, x, batch, training, normInputs);
                    Assert.Equal(LayerKind.Add, layers[cursor++].Kind); // the add that closes the branch is a layer too
                    x = [.. x.Select((v, i) => v + branch[i])];
                    break;
                }

                case DenseNode:
                {
                    Layer layer = layers[cursor++];
                    Assert.Equal(LayerKind.Dense, layer.Kind);
                    int n = layer.FanIn;
                    var y = new double[batch * layer.Units];
                    for (int b = 0; b < batch; b++)
                    {
                        for (int o = 0; o < layer.Units; o++)
                        {
                            double z = p[layer.BiasOffset + o];
                            for (int i = 0; i < n; i++)
                            {
                                z += x[(b * n) + i] * p[layer.WeightOffset + (o * n) + i];
                            }

                            y[(b * layer.Units) + o] = z;
                        }
                    }

                    x = y;
                    break;
                }

                case TanhNode:
                    Assert.Equal(LayerKind.Activation, layers[cursor++].Kind);
                    x = [.. x.Select(Math.Tanh)];
                    break;
                case NormNode norm:
                {
                    Layer layer = layers[cursor++];
                    Assert.Equal(LayerKind.BatchNorm, layer.Kind);
                    int f = layer.Units;
                    double[]? gain = norm.Affine ? p.AsSpan(layer.WeightOffset, f).ToArray() : null;
                    double[]? bias = norm.Affine ? p.AsSpan(layer.BiasOffset, f).ToArray() : null;
                    normInputs[layer.Name] = x;
                    x = training
                        ? BatchNormReference.Training(x, gain, bias, batch, f, Epsilon).Y
                        : BatchNormReference.Evaluation(x, TestData.Widen(layer.RunningMean.ToArray()), TestData.Widen(layer.RunningVariance.ToArray()), gain, bias, batch, f, Epsilon);
                    break;
                }
            }
        }

        return x;
    }

    private static double CrossEntropy(double[] logits, int[] labels, int classes)
        => Float64Reference.CrossEntropyLosses(logits, labels, classes).Average();

    /// <summary>Gains and biases of the affine batch norms away from 1 and 0, so that they are tested.</summary>
    private static void PerturbNorms(GraphNetwork network, int seed)
    {
        var random = new Random(seed);
        foreach (Layer layer in network.Layers.Where(l => l.Kind == LayerKind.BatchNorm && l.ParameterCount > 0))
        {
            TestData.Uniform(random, layer.Units, 0.5, 1.5).CopyTo(layer.Gain);
            TestData.Uniform(random, layer.Units, -0.5, 0.5).CopyTo(layer.Bias);
        }
    }

    /// <summary>Inputs with per-feature offsets and scales, and labels.</summary>
    private static (float[] X, int[] Labels) Data(int batch, int inputs, int classes, int seed)
    {
        var random = new Random(seed);
        float[] offset = TestData.Uniform(random, inputs, -1, 1);
        float[] x = TestData.Uniform(random, batch * inputs, -2, 2);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += offset[i % inputs];
        }

        return (x, [.. Enumerable.Range(0, batch).Select(_ => random.Next(classes))]);
    }

    private static void AssertSame(GraphNetwork expected, GraphNetwork actual)
    {
        Assert.Equal(expected.Parameters.ToArray(), actual.Parameters.ToArray());
        Assert.Equal(expected.Gradients.ToArray(), actual.Gradients.ToArray());
        Assert.Equal(expected.State.ToArray(), actual.State.ToArray());
    }

    private static Layer Find(GraphNetwork network, string path) => network.Layers.Single(l => l.Name == path);
}
