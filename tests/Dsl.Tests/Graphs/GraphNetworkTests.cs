using Dsl.Graphs;
using Dsl.Tests.Networks;
using Dsl.Tests.Ops;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Graphs;

/// <summary>
/// The CPU runtime of graph networks (<see cref="GraphBuilder"/>, <see cref="GraphNetwork"/>): backward against central
/// differences of a float64 evaluation of the same graph, the forward against that evaluation, batch splitting and
/// determinism, dropout, initialisation keyed by path, typed errors, and a training smoke test.
/// </summary>
public sealed class GraphNetworkTests
{
    public static TheoryData<string> Graphs => ["ResidualMlp", "PreNormStack", "RmsSiluTanh", "Regression", "Nested"];

    // ---------------------------------------------------------------- 1. backward against central differences

    [Theory]
    [MemberData(nameof(Graphs))]
    public void Gradients_match_central_differences_of_the_float64_reference(string name)
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named(name);
        using Device device = Device.Cpu(1);
        GraphNetwork network = spec.Build(device, loss, seed: 7);
        const int Batch = 11;
        Problem problem = Problem.Draw(spec, loss, Batch, dataSeed: 11);
        float computed = problem.ComputeGradients(network);
        Assert.Equal(computed, network.LastLoss);
        GradientCheck.AgainstReference(name, spec, network, problem, computed, mask: null);
    }

    [Theory]
    [InlineData("PreNormStack")]
    [InlineData("RmsSiluTanh")]
    public void Gradients_match_central_differences_of_the_network_s_own_float32_loss(string name)
    {
        // Independent of the float64 reference: perturb a parameter in the network's float buffer and read Evaluate's
        // (double-accumulated) loss. Float32 forward noise needs a large step, so the tolerance is looser, and the graphs
        // are smooth ones (a step this large would cross ReLU kinks).
        (GraphSpec spec, Loss loss) = GraphSpec.Named(name);
        using Device device = Device.Cpu(1);
        GraphNetwork network = spec.Build(device, loss, seed: 5);
        Problem problem = Problem.Draw(spec, loss, batch: 11, dataSeed: 3);
        problem.ComputeGradients(network);
        float[] analytic = network.Gradients.ToArray();
        float[] original = network.Parameters.ToArray();

        var random = new Random(17);
        int[] sample = [.. Enumerable.Range(0, network.ParameterCount).OrderBy(_ => random.Next()).Take(Math.Min(240, network.ParameterCount))];
        Assert.True(sample.Length >= 200, $"{name}: at least 200 parameters are checked ({sample.Length})");
        var numeric = new double[sample.Length];
        const double H = 3e-3;
        for (int s = 0; s < sample.Length; s++)
        {
            int i = sample[s];
            float saved = network.Parameters[i];
            float plus = (float)(saved + H);
            float minus = (float)(saved - H);
            network.Parameters[i] = plus;
            double lossPlus = problem.Evaluate(network);
            network.Parameters[i] = minus;
            double lossMinus = problem.Evaluate(network);
            network.Parameters[i] = saved;
            numeric[s] = (lossPlus - lossMinus) / ((double)plus - minus);
        }

        Assert.Equal(original, network.Parameters.ToArray());
        double largest = numeric.Max(Math.Abs);
        Assert.True(largest > 1e-3, $"{name}: the sampled gradients are all ~0 ({largest})");
        for (int s = 0; s < sample.Length; s++)
        {
            double tolerance = (3e-4 * largest) + (3e-3 * Math.Abs(numeric[s]));
            Assert.True(
                Math.Abs(analytic[sample[s]] - numeric[s]) <= tolerance,
                $"{name}: d loss / d parameter[{sample[s]}] = {analytic[sample[s]]}, float32 central differences {numeric[s]} (tolerance {tolerance})");
        }
    }

    // ---------------------------------------------------------------- 2. forward against the float64 reference

    [Theory]
    [MemberData(nameof(Graphs))]
    public void Predict_and_Evaluate_match_the_float64_reference(string name)
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named(name);
        using Device device = Device.Cpu(2);
        GraphNetwork network = spec.Build(device, loss, seed: 21);
        Assert.Equal(spec.InputWidth, network.InputSize);
        Assert.Equal(spec.OutputWidth, network.OutputSize);
        Assert.Equal(spec.ParameterCount, network.ParameterCount);

        const int Batch = 37;
        Problem problem = Problem.Draw(spec, loss, Batch, dataSeed: 2);
        var outputs = new float[Batch * network.OutputSize];
        network.Predict(problem.InputsFloat, outputs);
        double[] reference = spec.Forward(network.Layers, TestData.Widen(network.Parameters.ToArray()), problem.Inputs, Batch, mask: null);
        double scale = Math.Max(1, reference.Max(Math.Abs));
        for (int i = 0; i < outputs.Length; i++)
        {
            Assert.True(Math.Abs(outputs[i] - reference[i]) <= 1e-5 * scale, $"{name}: output[{i}] = {outputs[i]}, float64 reference {reference[i]}");
        }

        // Evaluate: the same loss, in chunks or whole.
        double referenceLoss = problem.ReferenceLoss(reference);
        Evaluation whole = problem.EvaluateFull(network, batchSize: 1000);
        Evaluation chunked = problem.EvaluateFull(network, batchSize: 4);
        Assert.Equal(referenceLoss, whole.Loss, 1e-5 * Math.Max(1, Math.Abs(referenceLoss)));
        Assert.Equal(whole.Loss, chunked.Loss, 1e-6 * Math.Max(1, Math.Abs(whole.Loss)));
        Assert.Equal(Batch, whole.Count);
        if (loss == Loss.SoftmaxCrossEntropy)
        {
            int correct = 0;
            for (int b = 0; b < Batch; b++)
            {
                correct += Float64Reference.ArgMax(outputs.AsSpan(b * network.OutputSize, network.OutputSize)) == problem.Labels[b] ? 1 : 0;
            }

            Assert.Equal((double)correct / Batch, whole.Accuracy, 1e-12);
            Assert.Equal(whole.Accuracy, chunked.Accuracy, 1e-12);
        }
        else
        {
            Assert.True(double.IsNaN(whole.Accuracy));
        }
    }

    [Fact]
    public void Predict_is_unchanged_by_a_larger_batch_seen_in_between()
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named("PreNormStack");
        using Device device = Device.Cpu(2);
        GraphNetwork network = spec.Build(device, loss, seed: 1);
        Problem small = Problem.Draw(spec, loss, batch: 3, dataSeed: 1);
        Problem large = Problem.Draw(spec, loss, batch: 64, dataSeed: 2);
        var first = new float[3 * network.OutputSize];
        network.Predict(small.InputsFloat, first);
        large.ComputeGradients(network); // grows the workspace
        var bigOutputs = new float[64 * network.OutputSize];
        network.Predict(large.InputsFloat, bigOutputs);
        var second = new float[3 * network.OutputSize];
        network.Predict(small.InputsFloat, second);
        Assert.Equal(first, second);

        // Rows are independent: the large batch's first rows predicted alone equal the same rows of the whole batch's.
        var head = new float[5 * network.OutputSize];
        network.Predict(large.InputsFloat.AsSpan(0, 5 * network.InputSize), head);
        for (int i = 0; i < head.Length; i++)
        {
            Assert.Equal(bigOutputs[i], head[i], 1e-6f * Math.Max(1, Math.Abs(bigOutputs[i])));
        }
    }

    // ---------------------------------------------------------------- 3. batch split and determinism

    [Theory]
    [MemberData(nameof(Graphs))]
    public void Split_batch_gradients_equal_the_single_threaded_ones(string name)
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named(name);
        using Device one = Device.Cpu(1);
        using Device two = Device.Cpu(2);
        GraphNetwork serial = spec.Build(one, loss, seed: 4);
        GraphNetwork split = spec.Build(two, loss, seed: 4);
        Assert.Equal(serial.Parameters.ToArray(), split.Parameters.ToArray());
        const int Batch = 64;
        Assert.True(split.SplitsBatchAcrossThreads);
        Assert.True(Dsl.Cpu.BatchSplit.SliceCount(Batch, two.Workers) > 1, "the case must actually split");

        Problem problem = Problem.Draw(spec, loss, Batch, dataSeed: 9);
        float serialLoss = problem.ComputeGradients(serial);
        float splitLoss = problem.ComputeGradients(split);
        Assert.Equal(serialLoss, splitLoss, 1e-5f * Math.Max(1, Math.Abs(serialLoss)));
        AssertGradientsClose(name, serial.Gradients.ToArray(), split.Gradients.ToArray(), 1e-5f);
    }

    [Theory]
    [InlineData("PreNormStack", 1)]
    [InlineData("PreNormStack", 2)]
    [InlineData("RmsSiluTanh", 1)]
    [InlineData("Regression", 2)]
    public void Computing_gradients_twice_gives_identical_results(string name, int threads)
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named(name);
        using Device device = Device.Cpu(threads);
        GraphNetwork network = spec.Build(device, loss, seed: 12);
        Problem problem = Problem.Draw(spec, loss, batch: 64, dataSeed: 5);
        float first = problem.ComputeGradients(network);
        float[] gradients = network.Gradients.ToArray();
        Assert.Contains(gradients, g => g != 0f);

        // Something else in between (another batch size) must leave no trace.
        Problem.Draw(spec, loss, batch: 17, dataSeed: 6).ComputeGradients(network);
        Assert.NotEqual(gradients, network.Gradients.ToArray());
        float second = problem.ComputeGradients(network);
        Assert.Equal(first, second);
        Assert.Equal(gradients, network.Gradients.ToArray());
    }

    // ---------------------------------------------------------------- 4. dropout

    [Fact]
    public void Dropout_is_the_identity_in_Predict()
    {
        using Device device = Device.Cpu(2);
        GraphNetwork with = GraphSpec.Dropouts(0.5f, 0.25f).Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        GraphNetwork without = GraphSpec.Dropouts(null, null).Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        Assert.Equal(without.Parameters.ToArray(), with.Parameters.ToArray());
        Assert.Contains(with.Layers, layer => layer.Kind == LayerKind.Dropout && layer.Probability == 0.5f);

        Problem problem = Problem.Draw(GraphSpec.Dropouts(null, null), Loss.SoftmaxCrossEntropy, batch: 23, dataSeed: 8);
        var a = new float[23 * with.OutputSize];
        var b = new float[23 * with.OutputSize];
        with.Predict(problem.InputsFloat, a);
        without.Predict(problem.InputsFloat, b);
        Assert.Equal(b, a);

        // Also after training steps have run (masks drawn), evaluation stays deterministic and mask-free.
        problem.ComputeGradients(with);
        with.Predict(problem.InputsFloat, a);
        Assert.Equal(b, a);
        Assert.Equal(problem.EvaluateFull(without, 1000).Loss, problem.EvaluateFull(with, 1000).Loss);
    }

    [Fact]
    public void Dropout_in_training_changes_the_loss_and_draws_a_fresh_mask_each_step()
    {
        using Device device = Device.Cpu(1);
        GraphSpec withSpec = GraphSpec.Dropouts(0.5f, 0.25f);
        GraphNetwork with = withSpec.Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        GraphNetwork without = GraphSpec.Dropouts(null, null).Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        Problem problem = Problem.Draw(withSpec, Loss.SoftmaxCrossEntropy, batch: 32, dataSeed: 4);

        float plain = problem.ComputeGradients(without);
        float[] plainGradients = without.Gradients.ToArray();
        float first = problem.ComputeGradients(with);
        float[] firstGradients = with.Gradients.ToArray();
        float second = problem.ComputeGradients(with);
        float[] secondGradients = with.Gradients.ToArray();

        Assert.NotEqual(plain, first);
        Assert.NotEqual(plainGradients, firstGradients);
        Assert.NotEqual(first, second);
        Assert.NotEqual(firstGradients, secondGradients);

        // A network built again with the same seed replays the same masks step for step.
        GraphNetwork again = withSpec.Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        Assert.Equal(first, problem.ComputeGradients(again));
        Assert.Equal(firstGradients, again.Gradients.ToArray());
        Assert.Equal(second, problem.ComputeGradients(again));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dropout_with_p_one_half_zeroes_about_half_of_a_wide_layer(bool onTheInput)
    {
        // With one sample, the head's weight gradient is dW[o, i] = dz[o] * d[i] (d the dropout's output) and its bias
        // gradient db[o] = dz[o]: a zero column of dW is exactly a dropped element, and a kept one is scaled by 2.
        const int Wide = 4096;
        var nodes = new List<Node>();
        int inputWidth = onTheInput ? Wide : 7;
        if (!onTheInput)
        {
            nodes.Add(new DenseNode("Wide", Wide, Activation.Tanh));
        }

        nodes.Add(new DropoutNode("Drop", 0.5f));
        nodes.Add(new DenseNode("Head", 3, Activation.Identity));
        var spec = new GraphSpec("WideDropout", inputWidth, [.. nodes]);
        using Device device = Device.Cpu(1);
        GraphNetwork network = spec.Build(device, Loss.SoftmaxCrossEntropy, seed: 6);
        Layer head = network.Layers[^1];
        Assert.Equal("Head", head.Name);
        var random = new Random(2);
        float[] x = TestData.Uniform(random, inputWidth, 0.5, 1.5);

        bool[] Dropped()
        {
            network.ComputeGradients(x, [1]);
            ReadOnlySpan<float> dW = head.WeightGradient;
            ReadOnlySpan<float> db = head.BiasGradient;
            for (int o = 0; o < 3; o++)
            {
                Assert.NotEqual(0f, db[o]);
            }

            var dropped = new bool[Wide];
            for (int i = 0; i < Wide; i++)
            {
                dropped[i] = dW[i] == 0f;
                for (int o = 0; o < 3; o++)
                {
                    float g = dW[(o * Wide) + i];
                    Assert.Equal(dropped[i], g == 0f);
                    if (onTheInput && !dropped[i])
                    {
                        double expected = db[o] * 2.0 * x[i];
                        Assert.True(Math.Abs(g - expected) <= 1e-6 * Math.Abs(expected), $"kept element {i}: dW = {g}, dz * x / (1 - p) = {expected}");
                    }
                }
            }

            return dropped;
        }

        bool[] first = Dropped();
        bool[] second = Dropped();
        double sigma = Math.Sqrt(0.25 / Wide);
        Assert.InRange(first.Count(d => d) / (double)Wide, 0.5 - (6 * sigma), 0.5 + (6 * sigma));
        Assert.InRange(second.Count(d => d) / (double)Wide, 0.5 - (6 * sigma), 0.5 + (6 * sigma));

        // Fresh, independent masks: the two steps agree on about half of the elements (identical masks would agree on all).
        double agreement = first.Zip(second).Count(pair => pair.First == pair.Second) / (double)Wide;
        Assert.InRange(agreement, 0.5 - (6 * sigma), 0.5 + (6 * sigma));
    }

    [Fact]
    public void Dropout_masks_are_keyed_by_the_whole_batch_so_a_split_batch_draws_the_same_ones()
    {
        GraphSpec spec = GraphSpec.Dropouts(0.5f, 0.25f);
        using Device one = Device.Cpu(1);
        using Device two = Device.Cpu(2);
        GraphNetwork serial = spec.Build(one, Loss.SoftmaxCrossEntropy, seed: 10);
        GraphNetwork split = spec.Build(two, Loss.SoftmaxCrossEntropy, seed: 10);
        const int Batch = 64;
        Assert.True(Dsl.Cpu.BatchSplit.SliceCount(Batch, two.Workers) > 1, "the case must actually split");
        Problem problem = Problem.Draw(spec, Loss.SoftmaxCrossEntropy, Batch, dataSeed: 12);
        float previous = float.NaN;
        for (int call = 0; call < 3; call++)
        {
            float a = problem.ComputeGradients(serial);
            float b = problem.ComputeGradients(split);
            Assert.Equal(a, b, 1e-5f * Math.Max(1, Math.Abs(a)));
            AssertGradientsClose($"call {call}", serial.Gradients.ToArray(), split.Gradients.ToArray(), 1e-5f);
            Assert.NotEqual(previous, a);
            previous = a;
        }

        // Training steps too: the same trajectory.
        var serialOptimizer = new Adam(0.01f);
        var splitOptimizer = new Adam(0.01f);
        for (int step = 0; step < 5; step++)
        {
            float a = serial.TrainStep(problem.InputsFloat, problem.Labels, serialOptimizer);
            float b = split.TrainStep(problem.InputsFloat, problem.Labels, splitOptimizer);
            Assert.Equal(a, b, 1e-4f);
        }

        float[] expected = serial.Parameters.ToArray();
        float[] actual = split.Parameters.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-4f);
        }
    }

    [Fact]
    public void Training_with_dropout_matches_the_reference_with_the_documented_masks()
    {
        // The mask of layer L at training pass k is Dropout.Keeps(seed ^ PathKey(L's path), k, row * width + column, p):
        // the loss of each pass, and the gradients of the second, against the float64 reference with those masks.
        GraphSpec spec = GraphSpec.Dropouts(0.5f, 0.25f);
        const ulong Seed = 13;
        using Device device = Device.Cpu(1);
        GraphNetwork network = spec.Build(device, Loss.SoftmaxCrossEntropy, Seed);
        Problem problem = Problem.Draw(spec, Loss.SoftmaxCrossEntropy, batch: 11, dataSeed: 14);
        double[] parameters = TestData.Widen(network.Parameters.ToArray());
        Func<Layer, long, bool> Mask(long step) => (layer, index) => Dsl.Ops.Dropout.Keeps(Seed ^ Initializer.PathKey(layer.Name), step, index, layer.Probability);

        float first = problem.ComputeGradients(network);
        double firstReference = problem.ReferenceLoss(spec.Forward(network.Layers, parameters, problem.Inputs, 11, Mask(0)));
        Assert.Equal(firstReference, first, 1e-5 * Math.Max(1, firstReference));

        float second = problem.ComputeGradients(network);
        GradientCheck.AgainstReference("Dropouts", spec, network, problem, second, Mask(1));
    }

    // ---------------------------------------------------------------- 5. initialisation keyed by path

    [Fact]
    public void Inserting_a_width_preserving_layer_leaves_the_other_layers_weights_bitwise_unchanged()
    {
        var plain = new GraphSpec("Plain", 7, [new DenseNode("Hidden", 9, Activation.Relu), new DenseNode("Head", 5, Activation.Identity)]);
        var inserted = new GraphSpec("Inserted", 7,
        [
            new DenseNode("Hidden", 9, Activation.Relu),
            new ActivationNode("Extra", Activation.Relu),
            new LayerNormNode("ExtraNorm"),
            new DenseNode("ExtraDense", 9, Activation.Tanh),
            new DenseNode("Head", 5, Activation.Identity),
        ]);
        using Device device = Device.Cpu(1);
        GraphNetwork a = plain.Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        GraphNetwork b = inserted.Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        foreach (string name in new[] { "Hidden", "Head" })
        {
            Layer la = a.Layers.Single(l => l.Name == name);
            Layer lb = b.Layers.Single(l => l.Name == name);
            if (name == "Head")
            {
                Assert.NotEqual(la.WeightOffset, lb.WeightOffset); // the head moved in the buffer, but drew the same values
            }

            Assert.Equal(la.Weight.ToArray(), lb.Weight.ToArray());
            Assert.Equal(la.Bias.ToArray(), lb.Bias.ToArray());
        }

        // Another path draws another stream: ExtraDense (9 -> 9) differs from a 9 -> 9 dense at another path.
        Layer extra = b.Layers.Single(l => l.Name == "ExtraDense");
        var renamed = new GraphSpec("Renamed", 7, [new DenseNode("Hidden", 9, Activation.Relu), new DenseNode("Other", 9, Activation.Tanh)]);
        GraphNetwork c = renamed.Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        AssertMostlyDifferent(extra.Weight.ToArray(), c.Layers[1].Weight.ToArray());

        // A block prefixes the path: Body.Hidden is not Hidden.
        var blocked = new GraphSpec("Blocked", 7, [new BlockNode("Body", [new DenseNode("Hidden", 9, Activation.Relu)]), new DenseNode("Head", 5, Activation.Identity)]);
        GraphNetwork d = blocked.Build(device, Loss.SoftmaxCrossEntropy, seed: 3);
        Assert.Equal("Body.Hidden", d.Layers[0].Name);
        AssertMostlyDifferent(a.Layers[0].Weight.ToArray(), d.Layers[0].Weight.ToArray());
        Assert.Equal(a.Layers[1].Weight.ToArray(), d.Layers[1].Weight.ToArray());
    }

    [Fact]
    public void Seeds_initialisers_and_ResetParameters()
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named("PreNormStack");
        using Device device = Device.Cpu(1);
        GraphNetwork a = spec.Build(device, loss, seed: 1);
        GraphNetwork b = spec.Build(device, loss, seed: 2);
        GraphNetwork a2 = spec.Build(device, loss, seed: 1);
        Assert.Equal(a.Parameters.ToArray(), a2.Parameters.ToArray());

        int offset = 0;
        foreach (Layer layer in a.Layers)
        {
            Layer other = b.Layers[layer.Index];
            Assert.Equal(layer.Name, other.Name);
            switch (layer.Kind)
            {
                case LayerKind.Dense:
                    // TorchDefault: U(+-1/sqrt(fanIn)) for weights and biases; another seed, other values.
                    double bound = 1 / Math.Sqrt(layer.FanIn);
                    Assert.All(layer.Weight.ToArray(), w => Assert.InRange(w, -bound, bound));
                    Assert.All(layer.Bias.ToArray(), w => Assert.InRange(w, -bound, bound));
                    AssertMostlyDifferent(layer.Weight.ToArray(), other.Weight.ToArray());
                    AssertMostlyDifferent(layer.Bias.ToArray(), other.Bias.ToArray());
                    Assert.Equal(layer.Units * layer.FanIn, layer.WeightLength);
                    break;
                case LayerKind.LayerNorm:
                    Assert.Equal(layer.Units, layer.Gain.Length);
                    Assert.All(layer.Gain.ToArray(), g => Assert.Equal(1f, g));
                    Assert.All(layer.Bias.ToArray(), v => Assert.Equal(0f, v));
                    Assert.Equal(layer.Units, layer.Bias.Length);
                    break;
                default:
                    Assert.Equal(0, layer.ParameterCount);
                    Assert.True(layer.Weight.IsEmpty && layer.WeightGradient.IsEmpty && layer.Bias.IsEmpty && layer.Gain.IsEmpty, $"{layer.Name} has no parameters");
                    break;
            }

            // The layers tile the buffer in order.
            if (layer.ParameterCount > 0)
            {
                Assert.Equal(offset, layer.WeightOffset);
                offset += layer.ParameterCount;
            }
        }

        Assert.Equal(a.ParameterCount, offset);

        // ResetParameters redraws everything from the declared initialisers.
        float[] initial = a.Parameters.ToArray();
        a.Parameters.Fill(0.25f);
        a.ResetParameters(2);
        Assert.Equal(b.Parameters.ToArray(), a.Parameters.ToArray());
        a.ResetParameters(1);
        Assert.Equal(initial, a.Parameters.ToArray());

        // RmsNorm's gain starts at 1 too; a norm without affine parameters has none.
        (GraphSpec rms, Loss rmsLoss) = GraphSpec.Named("RmsSiluTanh");
        GraphNetwork r = rms.Build(device, rmsLoss, seed: 1);
        Layer[] norms = [.. r.Layers.Where(l => l.Kind == LayerKind.RmsNorm)];
        Assert.Equal(3, norms.Length);
        Assert.All(norms[0].Gain.ToArray(), g => Assert.Equal(1f, g));
        Assert.Equal(norms[0].Units, norms[0].Gain.Length);
        Assert.False(norms[0].HasBias);
        Assert.Equal(0, norms[2].ParameterCount);
        Assert.True(norms[2].Gain.IsEmpty && norms[2].Weight.IsEmpty && norms[2].WeightGradient.IsEmpty && norms[2].Bias.IsEmpty);
    }

    [Fact]
    public void Layers_are_named_by_their_paths()
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named("PreNormStack");
        using Device device = Device.Cpu(1);
        GraphNetwork network = spec.Build(device, loss, seed: 1);
        string[] expected =
        [
            "Embed",
            "Blocks[0].Norm", "Blocks[0].Up", "Blocks[0].Act", "Blocks[0].Down", "Blocks[0]",
            "Blocks[1].Norm", "Blocks[1].Up", "Blocks[1].Act", "Blocks[1].Down", "Blocks[1]",
            "Blocks[2].Norm", "Blocks[2].Up", "Blocks[2].Act", "Blocks[2].Down", "Blocks[2]",
            "FinalNorm", "Head",
        ];
        Assert.Equal(expected, network.Layers.Select(l => l.Name));
        Assert.Equal(Enumerable.Range(0, expected.Length), network.Layers.Select(l => l.Index));
        Layer act = network.Layers[3];
        Assert.Equal(LayerKind.Activation, act.Kind);
        Assert.Equal(Activation.Gelu, act.Activation);
        Assert.Equal(13, act.FanIn);
        Assert.Equal(13, act.Units);
        Assert.Equal(LayerKind.LayerNorm, network.Layers[^2].Kind);
    }

    // ---------------------------------------------------------------- 6. typed errors

    [Fact]
    public void Build_with_a_wrong_parameter_count_throws_and_names_both_counts()
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named("ResidualMlp");
        using Device device = Device.Cpu(1);
        var error = Assert.Throws<InvalidOperationException>(() => spec.Build(device, loss, seed: 0, expectedParameters: spec.ParameterCount + 1));
        Assert.Contains(spec.ParameterCount.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains((spec.ParameterCount + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains("ResidualMlp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Builder_misuse_throws_InvalidOperationException()
    {
        // A residual branch that changes the width: the message names the residual's path.
        var builder = new GraphBuilder("Widen", [7]);
        builder.EnterBlock("Blocks[2]");
        builder.BeginResidual();
        builder.Dense("Up", 13, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        var error = Assert.Throws<InvalidOperationException>(() => builder.EndResidual(1f));
        Assert.Contains("'Blocks[2]'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Widen", error.Message, StringComparison.Ordinal);

        // An empty branch.
        var empty = new GraphBuilder("Empty", [7]);
        empty.EnterBlock("Body");
        empty.BeginResidual();
        Assert.Contains("'Body'", Assert.Throws<InvalidOperationException>(() => empty.EndResidual(1f)).Message, StringComparison.Ordinal);

        using Device device = Device.Cpu(1);

        // An unclosed residual or block, or no layer at all.
        var open = new GraphBuilder("Open", [7]);
        open.BeginResidual();
        open.Dense("Up", 7, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        Assert.Throws<InvalidOperationException>(() => open.Build(device, Loss.SoftmaxCrossEntropy, 0, 56));
        var unexited = new GraphBuilder("Unexited", [7]);
        unexited.EnterBlock("Body");
        unexited.Dense("Up", 7, bias: true, Init.TorchDefault, Fan.In, 0.01, Activation.Relu, 0f, new Dsl.Ops.Relu());
        Assert.Throws<InvalidOperationException>(() => unexited.Build(device, Loss.SoftmaxCrossEntropy, 0, 56));
        Assert.Throws<InvalidOperationException>(() => new GraphBuilder("Nothing", [7]).Build(device, Loss.SoftmaxCrossEntropy, 0, 0));

        // A builder builds once.
        var once = new GraphBuilder("Once", [7]);
        once.Dense("Head", 3, bias: false, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        Assert.Equal(21, once.Build(device, Loss.SoftmaxCrossEntropy, 0, 21).ParameterCount);
        Assert.Throws<InvalidOperationException>(() => once.Build(device, Loss.SoftmaxCrossEntropy, 0, 21));

        // A dropout probability outside [0, 1).
        Assert.Throws<ArgumentOutOfRangeException>(() => new GraphBuilder("P", [7]).Dropout("Drop", 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GraphBuilder("P", [7]).Dropout("Drop", -0.1f));
    }

    [Fact]
    public void Bad_inputs_throw_typed_exceptions_and_change_nothing()
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named("PreNormStack");
        using Device device = Device.Cpu(2);
        GraphNetwork network = spec.Build(device, loss, seed: 8);
        var optimizer = new Adam(0.01f);
        Problem problem = Problem.Draw(spec, loss, batch: 20, dataSeed: 1);
        float goodLoss = network.TrainStep(problem.InputsFloat, problem.Labels, optimizer);
        float[] parameters = network.Parameters.ToArray();
        float[] gradients = network.Gradients.ToArray();

        void Unchanged()
        {
            Assert.Equal(parameters, network.Parameters.ToArray());
            Assert.Equal(gradients, network.Gradients.ToArray());
            Assert.Equal(goodLoss, network.LastLoss);
        }

        // Wrong label count.
        Assert.Throws<ShapeMismatchException>(() => network.TrainStep(problem.InputsFloat, problem.Labels.AsSpan(1), optimizer));
        Unchanged();
        Assert.Throws<ShapeMismatchException>(() => network.ComputeGradients(problem.InputsFloat, problem.Labels.AsSpan(1)));
        Unchanged();

        // Inputs that are not a whole number of rows.
        Assert.Throws<ShapeMismatchException>(() => network.TrainStep(problem.InputsFloat.AsSpan(1), problem.Labels, optimizer));
        Unchanged();

        // A label out of range.
        int[] badLabels = [.. problem.Labels];
        badLabels[3] = network.OutputSize;
        Assert.Throws<LabelOutOfRangeException>(() => network.TrainStep(problem.InputsFloat, badLabels, optimizer));
        Unchanged();

        // A non-finite input.
        float[] nan = [.. problem.InputsFloat];
        nan[(4 * network.InputSize) + 2] = float.NaN;
        var error = Assert.Throws<NonFiniteValueException>(() => network.TrainStep(nan, problem.Labels, optimizer));
        Assert.Contains("inputs", error.Message, StringComparison.Ordinal);
        Unchanged();
        Assert.Throws<NonFiniteValueException>(() => network.ComputeGradients(nan, problem.Labels));
        Unchanged();
        nan[0] = float.PositiveInfinity;
        Assert.Throws<NonFiniteValueException>(() => network.Evaluate(nan, problem.Labels));
        Unchanged();

        // Predict with an output buffer of the wrong size.
        Assert.Throws<ShapeMismatchException>(() => network.Predict(problem.InputsFloat, new float[(20 * network.OutputSize) - 1]));
        Unchanged();

        // The optimizer still works: the next good step moves the parameters.
        network.TrainStep(problem.InputsFloat, problem.Labels, optimizer);
        Assert.NotEqual(parameters, network.Parameters.ToArray());
    }

    [Fact]
    public void Regression_targets_are_checked()
    {
        (GraphSpec spec, Loss loss) = GraphSpec.Named("Regression");
        using Device device = Device.Cpu(1);
        GraphNetwork network = spec.Build(device, loss, seed: 8);
        Problem problem = Problem.Draw(spec, loss, batch: 10, dataSeed: 1);
        float[] parameters = network.Parameters.ToArray();
        Assert.True(float.IsNaN(network.LastLoss));
        Assert.Throws<ShapeMismatchException>(() => network.ComputeGradients(problem.InputsFloat, problem.TargetsFloat.AsSpan(1)));
        float[] nan = [.. problem.TargetsFloat];
        nan[7] = float.NaN;
        Assert.Throws<NonFiniteValueException>(() => network.TrainStep(problem.InputsFloat, nan, new Adam(0.01f)));
        Assert.Equal(parameters, network.Parameters.ToArray());
        Assert.True(float.IsNaN(network.LastLoss));
    }

    // ---------------------------------------------------------------- 7. training smoke test

    [Fact]
    public void A_small_residual_network_learns_a_synthetic_classification_task()
    {
        var spec = new GraphSpec("Learner", 7,
        [
            new DenseNode("In", 16, Activation.Relu),
            new BlockNode("Body",
            [
                new ResidualNode(1f,
                [
                    new LayerNormNode("Norm"),
                    new DenseNode("Up", 32, Activation.Gelu),
                    new DropoutNode("Drop", 0.1f),
                    new DenseNode("Down", 16, Activation.Identity),
                ]),
            ]),
            new DenseNode("Head", 3, Activation.Identity),
        ]);

        // Labels: the argmax of a fixed linear map of the input (a linearly separable task); a held-out set of the same.
        const int Samples = 512, Classes = 3;
        var random = new Random(42);
        double[] map = [.. Enumerable.Range(0, 7 * Classes).Select(_ => (random.NextDouble() * 2) - 1)];
        (float[] x, int[] labels) = Draw(Samples);
        (float[] heldOutX, int[] heldOutLabels) = Draw(256);
        Assert.All(Enumerable.Range(0, Classes), c => Assert.True(labels.Count(l => l == c) > Samples / 10, $"class {c} is represented"));

        using Device device = Device.Cpu(2);
        GraphNetwork network = spec.Build(device, Loss.SoftmaxCrossEntropy, seed: 1);
        Evaluation before = network.Evaluate(x, labels);
        var optimizer = new Adam(0.01f);
        const int Batch = 64;
        float last = 0;
        for (int step = 0; step < 200; step++)
        {
            int start = (step * Batch) % Samples;
            last = network.TrainStep(x.AsSpan(start * 7, Batch * 7), labels.AsSpan(start, Batch), optimizer);
            Assert.Equal(last, network.LastLoss);
        }

        Evaluation after = network.Evaluate(x, labels);
        Evaluation heldOut = network.Evaluate(heldOutX, heldOutLabels);
        Assert.InRange(before.Loss, 0.8, 1.6);
        Assert.True(after.Loss < 0.1 * before.Loss, $"loss {before.Loss} -> {after.Loss}");
        Assert.True(after.Loss < 0.1, $"final loss {after.Loss}");
        Assert.True(last < 0.1, $"last training loss {last}");
        Assert.True(after.Accuracy > 0.97, $"accuracy {before.Accuracy} -> {after.Accuracy}");
        Assert.True(heldOut.Accuracy > 0.85, $"held-out accuracy {heldOut.Accuracy}");

        (float[] Inputs, int[] Labels) Draw(int count)
        {
            float[] inputs = TestData.Uniform(random, count * 7, -1, 1);
            int[] classes = new int[count];
            for (int s = 0; s < count; s++)
            {
                var scores = new float[Classes];
                for (int c = 0; c < Classes; c++)
                {
                    for (int i = 0; i < 7; i++)
                    {
                        scores[c] += (float)(inputs[(s * 7) + i] * map[(i * Classes) + c]);
                    }
                }

                classes[s] = Float64Reference.ArgMax(scores);
            }

            return (inputs, classes);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void AssertGradientsClose(string name, float[] expected, float[] actual, float relative)
    {
        float scale = expected.Max(Math.Abs);
        Assert.True(scale > 0, $"{name}: gradients are all zero");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"{name}: gradient[{i}] {actual[i]} (split) vs {expected[i]} (serial)");
        }
    }

    /// <summary>Two independent draws of a continuous distribution agree almost nowhere.</summary>
    private static void AssertMostlyDifferent(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        int same = a.Zip(b).Count(pair => pair.First == pair.Second);
        Assert.True(same <= Math.Max(1, a.Length / 20), $"{same} of {a.Length} values are equal");
    }

    /// <summary>Analytic float32 gradients against central differences of the float64 reference loss.</summary>
    private static class GradientCheck
    {
        public static void AgainstReference(string name, GraphSpec spec, GraphNetwork network, Problem problem, float computedLoss, Func<Layer, long, bool>? mask)
        {
            double[] parameters = TestData.Widen(network.Parameters.ToArray());
            double Loss(double[] p) => problem.ReferenceLoss(spec.Forward(network.Layers, p, problem.Inputs, problem.Batch, mask));

            double referenceLoss = Loss(parameters);
            Assert.True(Math.Abs(referenceLoss - computedLoss) <= 1e-5 * Math.Max(1, Math.Abs(referenceLoss)), $"{name}: loss {computedLoss}, float64 reference {referenceLoss}");

            float[] gradients = network.Gradients.ToArray();
            Assert.Equal(spec.ParameterCount, gradients.Length);
            var numeric = new double[parameters.Length];
            const double H = 1e-5;
            for (int i = 0; i < parameters.Length; i++)
            {
                numeric[i] = Float64Reference.CentralDifference(parameters, i, H, Loss);
            }

            double largest = numeric.Max(Math.Abs);
            Assert.True(largest > 1e-3, $"{name}: gradients are all ~0 ({largest}); the check would be vacuous");

            // Every layer with parameters gets a gradient that is not all zero.
            foreach (Layer layer in network.Layers.Where(l => l.ParameterCount > 0))
            {
                Assert.True(layer.WeightGradient.ToArray().Any(g => Math.Abs(g) > 1e-6 * largest), $"{name}: {layer.Name}'s weight gradient is all ~0");
                if (layer.HasBias)
                {
                    Assert.True(layer.BiasGradient.ToArray().Any(g => Math.Abs(g) > 1e-6 * largest), $"{name}: {layer.Name}'s bias gradient is all ~0");
                }
            }

            for (int i = 0; i < parameters.Length; i++)
            {
                // Float32 rounding of the analytic gradients is ~1e-7 relative; an error in any op's backward is far larger.
                double tolerance = (1e-5 * largest) + (1e-4 * Math.Abs(numeric[i]));
                Assert.True(
                    Math.Abs(gradients[i] - numeric[i]) <= tolerance,
                    $"{name}: d loss / d parameter[{i}] ({Owner(network, i)}) = {gradients[i]}, finite differences {numeric[i]} (tolerance {tolerance})");
            }
        }

        private static string Owner(GraphNetwork network, int index)
        {
            foreach (Layer layer in network.Layers)
            {
                if (index >= layer.WeightOffset && index < layer.WeightOffset + layer.WeightLength)
                {
                    return $"{layer.Name} weight {index - layer.WeightOffset}";
                }

                if (layer.HasBias && index >= layer.BiasOffset && index < layer.BiasOffset + layer.Units)
                {
                    return $"{layer.Name} bias {index - layer.BiasOffset}";
                }
            }

            return "no layer";
        }
    }

    /// <summary>A batch of inputs with labels (classification) or targets (regression), in float64 and float32.</summary>
    internal sealed class Problem
    {
        private Problem(Loss loss, int batch, int outputs, double[] inputs, int[] labels, double[] targets)
        {
            Loss = loss;
            Batch = batch;
            Outputs = outputs;
            Inputs = inputs;
            InputsFloat = [.. inputs.Select(v => (float)v)];
            Labels = labels;
            TargetsFloat = [.. targets.Select(v => (float)v)];
            Targets = TestData.Widen(TargetsFloat);
        }

        public Loss Loss { get; }

        public int Batch { get; }

        public int Outputs { get; }

        /// <summary>The float32 inputs widened (exactly representable in float32).</summary>
        public double[] Inputs { get; }

        public float[] InputsFloat { get; }

        public int[] Labels { get; }

        public double[] Targets { get; }

        public float[] TargetsFloat { get; }

        public static Problem Draw(GraphSpec spec, Loss loss, int batch, int dataSeed)
        {
            var random = new Random(dataSeed);
            double[] inputs = [.. Enumerable.Range(0, batch * spec.InputWidth).Select(_ => (double)(float)((random.NextDouble() * 4) - 2))];
            int[] labels = [.. Enumerable.Range(0, batch).Select(_ => random.Next(spec.OutputWidth))];
            double[] targets = [.. Enumerable.Range(0, batch * spec.OutputWidth).Select(_ => (random.NextDouble() * 2) - 1)];
            return new Problem(loss, batch, spec.OutputWidth, inputs, labels, targets);
        }

        public float ComputeGradients(GraphNetwork network)
            => Loss == Loss.SoftmaxCrossEntropy ? network.ComputeGradients(InputsFloat, Labels) : network.ComputeGradients(InputsFloat, TargetsFloat);

        public double Evaluate(GraphNetwork network) => EvaluateFull(network, 1000).Loss;

        public Evaluation EvaluateFull(GraphNetwork network, int batchSize)
            => Loss == Loss.SoftmaxCrossEntropy ? network.Evaluate(InputsFloat, Labels, batchSize) : network.Evaluate(InputsFloat, TargetsFloat, batchSize);

        public double ReferenceLoss(double[] outputs)
            => Loss == Loss.SoftmaxCrossEntropy ? ReferenceNetwork.CrossEntropy(outputs, Labels, Outputs) : ReferenceNetwork.MeanSquaredError(outputs, Targets);
    }

    internal abstract record Node;

    internal sealed record DenseNode(string Name, int Units, Activation Activation, bool Bias = true, float Slope = 0f) : Node;

    internal sealed record ActivationNode(string Name, Activation Activation, float Slope = 0f) : Node;

    internal sealed record LayerNormNode(string Name, bool Affine = true, float Epsilon = 1e-5f) : Node;

    internal sealed record RmsNormNode(string Name, bool Affine = true, float Epsilon = 1e-6f) : Node;

    internal sealed record DropoutNode(string Name, float Probability) : Node;

    internal sealed record ScaleNode(string Name, float Factor) : Node;

    internal sealed record ResidualNode(float Scale, Node[] Branch) : Node;

    internal sealed record BlockNode(string Name, Node[] Body) : Node;

    /// <summary>
    /// A graph declared once, built both through <see cref="GraphBuilder"/> and as a plain float64 evaluator that reads
    /// the parameters through the network's <see cref="Layer"/> views (offsets), in the order the layers run.
    /// </summary>
    internal sealed class GraphSpec(string name, int inputWidth, Node[] nodes)
    {
        public string Name { get; } = name;

        public int InputWidth { get; } = inputWidth;

        public Node[] Nodes { get; } = nodes;

        /// <summary>The parameter count, counted here from the declaration (independently of the builder).</summary>
        public int ParameterCount => Count(Nodes, InputWidth, out _);

        public int OutputWidth
        {
            get
            {
                Count(Nodes, InputWidth, out int width);
                return width;
            }
        }

        /// <summary>The graphs of the gradient, forward and batch-split tests, and each one's loss.</summary>
        public static (GraphSpec Spec, Loss Loss) Named(string name) => name switch
        {
            // (a) Dense+Relu, a residual block {Dense+Relu} with scale 1, a dense head.
            "ResidualMlp" => (new GraphSpec(name, 7,
            [
                new DenseNode("Hidden1", 9, Activation.Relu),
                new BlockNode("Body", [new ResidualNode(1f, [new DenseNode("Up", 9, Activation.Relu)])]),
                new DenseNode("Head", 5, Activation.Identity),
            ]), Loss.SoftmaxCrossEntropy),

            // (b) Pre-norm residual stack: 3 x residual {LayerNorm, Dense, Gelu (standalone), Dense}, a final LayerNorm, a head.
            "PreNormStack" => (new GraphSpec(name, 7,
            [
                new DenseNode("Embed", 9, Activation.Identity),
                .. Enumerable.Range(0, 3).Select(i => (Node)new BlockNode($"Blocks[{i}]",
                [
                    new ResidualNode(1f,
                    [
                        new LayerNormNode("Norm"),
                        new DenseNode("Up", 13, Activation.Identity),
                        new ActivationNode("Act", Activation.Gelu),
                        new DenseNode("Down", 9, Activation.Identity),
                    ]),
                ])),
                new LayerNormNode("FinalNorm"),
                new DenseNode("Head", 5, Activation.Identity),
            ]), Loss.SoftmaxCrossEntropy),

            // (c) Residuals with scale 0.5 (one straight on the input), RmsNorm (with and without a gain), standalone Silu and
            // Tanh, a constant scale.
            "RmsSiluTanh" => (new GraphSpec(name, 7,
            [
                new BlockNode("Body",
                [
                    new ResidualNode(0.5f,
                    [
                        new RmsNormNode("Norm"),
                        new DenseNode("Up", 13, Activation.Identity),
                        new ActivationNode("Act", Activation.Silu),
                        new DenseNode("Down", 7, Activation.Identity),
                    ]),
                ]),
                new DenseNode("Mid", 9, Activation.Identity),
                new BlockNode("Tail", [new ResidualNode(0.5f, [new RmsNormNode("Norm"), new ActivationNode("Squash", Activation.Tanh)])]),
                new RmsNormNode("Norm2", Affine: false),
                new ScaleNode("Shrink", -0.75f),
                new DenseNode("Head", 5, Activation.Identity),
            ]), Loss.SoftmaxCrossEntropy),

            // (d) MSE: a dense without bias, LeakyRelu in a residual, a LayerNorm without affine parameters, dropout p = 0.
            "Regression" => (new GraphSpec(name, 7,
            [
                new DenseNode("In", 9, Activation.Tanh, Bias: false),
                new BlockNode("Body",
                [
                    new ResidualNode(1f, [new DenseNode("Up", 13, Activation.Silu), new DenseNode("Down", 9, Activation.LeakyRelu, Slope: 0.1f)]),
                    new ResidualNode(0.5f, [new ActivationNode("Leaky", Activation.LeakyRelu, 0.2f), new DropoutNode("Drop", 0f)]),
                ]),
                new LayerNormNode("Norm", Affine: false),
                new DenseNode("Head", 5, Activation.Sigmoid),
            ]), Loss.MeanSquaredError),

            // Nested residuals; the outer skip feeds a branch and an add, the inner one too.
            "Nested" => (new GraphSpec(name, 7,
            [
                new DenseNode("In", 9, Activation.Gelu),
                new BlockNode("Outer",
                [
                    new ResidualNode(0.5f,
                    [
                        new DenseNode("A", 9, Activation.Relu),
                        new BlockNode("Inner", [new ResidualNode(1f, [new LayerNormNode("Norm"), new DenseNode("B", 9, Activation.Tanh)])]),
                        new DenseNode("C", 9, Activation.Identity),
                    ]),
                ]),
                new DenseNode("Head", 5, Activation.Identity),
            ]), Loss.SoftmaxCrossEntropy),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown graph"),
        };

        /// <summary>A graph with dropout after a dense layer and inside a residual branch (null: no dropout layer there).</summary>
        public static GraphSpec Dropouts(float? first, float? second)
        {
            var branch = new List<Node> { new DenseNode("Up", 13, Activation.Gelu) };
            if (second is float p2)
            {
                branch.Add(new DropoutNode("Drop", p2));
            }

            var nodes = new List<Node> { new DenseNode("In", 13, Activation.Relu) };
            if (first is float p1)
            {
                nodes.Add(new DropoutNode("Drop", p1));
            }

            nodes.Add(new BlockNode("Body", [new ResidualNode(1f, [.. branch])]));
            nodes.Add(new DenseNode("Head", 5, Activation.Identity));
            return new GraphSpec("Dropouts", 7, [.. nodes]);
        }

        public GraphNetwork Build(Device device, Loss loss, ulong seed, int? expectedParameters = null)
        {
            var builder = new GraphBuilder(Name, [InputWidth]);
            foreach (Node node in Nodes)
            {
                Add(builder, node);
            }

            return builder.Build(device, loss, seed, expectedParameters ?? ParameterCount);
        }

        /// <summary>
        /// The outputs (batch, OutputWidth) in float64 for parameters laid out as the network's. <paramref name="mask"/>
        /// (layer, element index in the batch) gives dropout's keep decisions in training; null: evaluation (identity).
        /// </summary>
        public double[] Forward(IReadOnlyList<Layer> layers, double[] parameters, double[] x, int batch, Func<Layer, long, bool>? mask)
        {
            int cursor = 0;
            double[] y = Forward(Nodes, layers, ref cursor, parameters, x, InputWidth, batch, mask, out _);
            Assert.Equal(layers.Count, cursor);
            return y;
        }

        private static double[] Forward(Node[] nodes, IReadOnlyList<Layer> layers, ref int cursor, double[] p, double[] x, int width, int batch, Func<Layer, long, bool>? mask, out int outWidth)
        {
            foreach (Node node in nodes)
            {
                switch (node)
                {
                    case BlockNode block:
                        x = Forward(block.Body, layers, ref cursor, p, x, width, batch, mask, out width);
                        break;
                    case ResidualNode residual:
                    {
                        double[] branch = Forward(residual.Branch, layers, ref cursor, p, x, width, batch, mask, out int branchWidth);
                        Assert.Equal(width, branchWidth);
                        Assert.Equal(LayerKind.Add, layers[cursor].Kind); // the add that closes the branch is a layer too
                        Assert.Equal(residual.Scale, layers[cursor++].Scale);
                        var sum = new double[x.Length];
                        for (int i = 0; i < sum.Length; i++)
                        {
                            sum[i] = x[i] + (residual.Scale * branch[i]);
                        }

                        x = sum;
                        break;
                    }

                    default:
                    {
                        Layer layer = layers[cursor++];
                        Assert.EndsWith(NodeName(node), layer.Name, StringComparison.Ordinal);
                        Assert.Equal(width, layer.FanIn);
                        x = Apply(node, layer, p, x, batch, mask);
                        width = layer.Units;
                        break;
                    }
                }
            }

            outWidth = width;
            return x;
        }

        private static double[] Apply(Node node, Layer layer, double[] p, double[] x, int batch, Func<Layer, long, bool>? mask)
        {
            int n = layer.FanIn;
            switch (node)
            {
                case DenseNode:
                {
                    Assert.Equal(LayerKind.Dense, layer.Kind);
                    var y = new double[batch * layer.Units];
                    for (int b = 0; b < batch; b++)
                    {
                        for (int o = 0; o < layer.Units; o++)
                        {
                            double z = layer.HasBias ? p[layer.BiasOffset + o] : 0;
                            for (int i = 0; i < n; i++)
                            {
                                z += x[(b * n) + i] * p[layer.WeightOffset + (o * n) + i];
                            }

                            y[(b * layer.Units) + o] = ReferenceNetwork.Activate(layer, z);
                        }
                    }

                    return y;
                }

                case ActivationNode:
                    Assert.Equal(LayerKind.Activation, layer.Kind);
                    return [.. x.Select(v => ReferenceNetwork.Activate(layer, v))];
                case LayerNormNode norm:
                    Assert.Equal(LayerKind.LayerNorm, layer.Kind);
                    return NormalizationReference.LayerNorm(
                        x, norm.Affine ? p.AsSpan(layer.WeightOffset, n).ToArray() : null, norm.Affine ? p.AsSpan(layer.BiasOffset, n).ToArray() : null, batch, n, norm.Epsilon);
                case RmsNormNode norm:
                    Assert.Equal(LayerKind.RmsNorm, layer.Kind);
                    return NormalizationReference.RmsNorm(x, norm.Affine ? p.AsSpan(layer.WeightOffset, n).ToArray() : null, batch, n, norm.Epsilon);
                case DropoutNode dropout:
                {
                    Assert.Equal(LayerKind.Dropout, layer.Kind);
                    Assert.Equal(dropout.Probability, layer.Probability);
                    if (mask is null)
                    {
                        return x;
                    }

                    double scale = 1 / (1 - (double)layer.Probability);
                    var y = new double[x.Length];
                    for (int i = 0; i < x.Length; i++)
                    {
                        y[i] = mask(layer, i) ? x[i] * scale : 0;
                    }

                    return y;
                }

                case ScaleNode scaleNode:
                    Assert.Equal(LayerKind.Scale, layer.Kind);
                    Assert.Equal(scaleNode.Factor, layer.Scale);
                    return [.. x.Select(v => v * scaleNode.Factor)];

                default:
                    throw new ArgumentOutOfRangeException(nameof(node), node, "not a layer");
            }
        }

        private static string NodeName(Node node) => node switch
        {
            DenseNode d => d.Name,
            ActivationNode a => a.Name,
            LayerNormNode l => l.Name,
            RmsNormNode r => r.Name,
            DropoutNode d => d.Name,
            ScaleNode s => s.Name,
            _ => throw new ArgumentOutOfRangeException(nameof(node)),
        };

        private static int Count(Node[] nodes, int width, out int outWidth)
        {
            int count = 0;
            foreach (Node node in nodes)
            {
                switch (node)
                {
                    case DenseNode d:
                        count += (d.Units * width) + (d.Bias ? d.Units : 0);
                        width = d.Units;
                        break;
                    case LayerNormNode l:
                        count += l.Affine ? 2 * width : 0;
                        break;
                    case RmsNormNode r:
                        count += r.Affine ? width : 0;
                        break;
                    case ResidualNode residual:
                        count += Count(residual.Branch, width, out _);
                        break;
                    case BlockNode block:
                        count += Count(block.Body, width, out width);
                        break;
                    default:
                        break; // activations and dropout have no parameters
                }
            }

            outWidth = width;
            return count;
        }

        private static void Add(GraphBuilder builder, Node node)
        {
            switch (node)
            {
                case DenseNode d:
                    AddDense(builder, d);
                    break;
                case ActivationNode a:
                    AddActivation(builder, a);
                    break;
                case LayerNormNode l:
                    builder.LayerNorm(l.Name, l.Epsilon, l.Affine);
                    break;
                case RmsNormNode r:
                    builder.RmsNorm(r.Name, r.Epsilon, r.Affine);
                    break;
                case DropoutNode d:
                    builder.Dropout(d.Name, d.Probability);
                    break;
                case ScaleNode s:
                    builder.Scale(s.Name, s.Factor);
                    break;
                case ResidualNode residual:
                    builder.BeginResidual();
                    foreach (Node inner in residual.Branch)
                    {
                        Add(builder, inner);
                    }

                    builder.EndResidual(residual.Scale);
                    break;
                case BlockNode block:
                    builder.EnterBlock(block.Name);
                    foreach (Node inner in block.Body)
                    {
                        Add(builder, inner);
                    }

                    builder.ExitBlock();
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(node), node, "unknown node");
            }
        }

        private static Layer AddDense(GraphBuilder b, DenseNode d) => d.Activation switch
        {
            Activation.Identity => b.Dense(d.Name, d.Units, d.Bias, Init.TorchDefault, Fan.In, 0.01, d.Activation, 0f, new Dsl.Ops.Identity()),
            Activation.Relu => b.Dense(d.Name, d.Units, d.Bias, Init.TorchDefault, Fan.In, 0.01, d.Activation, 0f, new Dsl.Ops.Relu()),
            Activation.LeakyRelu => b.Dense(d.Name, d.Units, d.Bias, Init.TorchDefault, Fan.In, 0.01, d.Activation, d.Slope, new Dsl.Ops.LeakyRelu(d.Slope)),
            Activation.Gelu => b.Dense(d.Name, d.Units, d.Bias, Init.TorchDefault, Fan.In, 0.01, d.Activation, 0f, new Dsl.Ops.Gelu()),
            Activation.Silu => b.Dense(d.Name, d.Units, d.Bias, Init.TorchDefault, Fan.In, 0.01, d.Activation, 0f, new Dsl.Ops.Silu()),
            Activation.Tanh => b.Dense(d.Name, d.Units, d.Bias, Init.TorchDefault, Fan.In, 0.01, d.Activation, 0f, new Dsl.Ops.Tanh()),
            Activation.Sigmoid => b.Dense(d.Name, d.Units, d.Bias, Init.TorchDefault, Fan.In, 0.01, d.Activation, 0f, new Dsl.Ops.Sigmoid()),
            _ => throw new ArgumentOutOfRangeException(nameof(d), d.Activation, "unknown activation"),
        };

        private static Layer AddActivation(GraphBuilder b, ActivationNode a) => a.Activation switch
        {
            Activation.Identity => b.Activation(a.Name, a.Activation, 0f, new Dsl.Ops.Identity()),
            Activation.Relu => b.Activation(a.Name, a.Activation, 0f, new Dsl.Ops.Relu()),
            Activation.LeakyRelu => b.Activation(a.Name, a.Activation, a.Slope, new Dsl.Ops.LeakyRelu(a.Slope)),
            Activation.Gelu => b.Activation(a.Name, a.Activation, 0f, new Dsl.Ops.Gelu()),
            Activation.Silu => b.Activation(a.Name, a.Activation, 0f, new Dsl.Ops.Silu()),
            Activation.Tanh => b.Activation(a.Name, a.Activation, 0f, new Dsl.Ops.Tanh()),
            Activation.Sigmoid => b.Activation(a.Name, a.Activation, 0f, new Dsl.Ops.Sigmoid()),
            _ => throw new ArgumentOutOfRangeException(nameof(a), a.Activation, "unknown activation"),
        };
    }
}
