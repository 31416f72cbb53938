using Dsl.Gpu;
using Dsl.Ops;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// <see cref="GpuSoftmaxCrossEntropy"/> and <see cref="GpuMeanSquaredError"/> on ILGPU's CPU simulator (32-thread
/// warps) against the CPU backend's ops and float64 references, <see cref="GpuMath.Log"/> against Math.Log, and
/// each loss kernel compiled to PTX for sm_90 without external calls.
/// </summary>
/// <remarks>
/// Tolerances: the GPU kernels sum in float (the CPU ops in double) and their e^x is GpuMath.Exp without fused
/// multiply-adds, a few ulp from the CPU's; per-row losses are held to 2e-6 + 1e-6 |loss| of float64, gradients
/// to 1.2e-6 relative (softmax probabilities) plus 4e-6 p / batch for the rounding of x - max, as the CPU tests.
/// </remarks>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuLossTests
{
    private readonly GpuAccelerator _gpu;
    private readonly AcceleratorStream _stream;

    public GpuLossTests(GpuSimulatorFixture simulator)
    {
        _gpu = simulator.Gpu;
        _stream = _gpu.Accelerator.DefaultStream;
    }


    public static TheoryData<int, int> Sizes()
    {
        var data = new TheoryData<int, int>();
        foreach (int batch in new[] { 1, 7, 33 })
        {
            foreach (int classes in new[] { 2, 3, 10, 37, 70 })
            {
                data.Add(batch, classes);
            }
        }

        return data;
    }

    /// <summary>Runs the training kernel and returns (dLogits, per-row losses, device mean loss).</summary>
    private (float[] DLogits, float[] RowLoss, float Mean) SoftmaxForwardBackward(float[] logits, int[] labels, int batch, int classes)
    {
        using var logitsBuffer = _stream.Upload(logits);
        using var labelsBuffer = _stream.Upload(labels);
        using var dLogits = _gpu.Accelerator.Allocate1D<float>(logits.Length);
        using var rowLoss = _gpu.Accelerator.Allocate1D<float>(batch);
        using var mean = _gpu.Accelerator.Allocate1D<float>(1);

        new GpuSoftmaxCrossEntropy(_gpu).ForwardBackward(_stream, logitsBuffer.View, labelsBuffer.View, dLogits.View, rowLoss.View, batch, classes);
        new GpuReduction(_gpu).Mean(_stream, rowLoss.View, batch, mean.View);
        return (_stream.Download<float>(dLogits.View), _stream.Download<float>(rowLoss.View), _stream.Download<float>(mean.View)[0]);
    }

    /// <summary>Runs the evaluation kernel and returns (per-row losses, per-row correct flags, device sum of losses, device count).</summary>
    private (float[] RowLoss, int[] RowCorrect, float Sum, int Correct) SoftmaxForward(float[] logits, int[] labels, int batch, int classes)
    {
        using var logitsBuffer = _stream.Upload(logits);
        using var labelsBuffer = _stream.Upload(labels);
        using var rowLoss = _gpu.Accelerator.Allocate1D<float>(batch);
        using var rowCorrect = _gpu.Accelerator.Allocate1D<int>(batch);
        using var sum = _gpu.Accelerator.Allocate1D<float>(1);
        using var count = _gpu.Accelerator.Allocate1D<int>(1);

        new GpuSoftmaxCrossEntropy(_gpu).Forward(_stream, logitsBuffer.View.SubView(0, logits.Length), labelsBuffer.View.SubView(0, batch), rowLoss.View, rowCorrect.View, batch, classes);
        var reduction = new GpuReduction(_gpu);
        reduction.Sum(_stream, rowLoss.View, batch, sum.View);
        reduction.Sum(_stream, rowCorrect.View, batch, count.View);
        return (_stream.Download<float>(rowLoss.View), _stream.Download<int>(rowCorrect.View), _stream.Download<float>(sum.View)[0], _stream.Download<int>(count.View)[0]);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SoftmaxForwardBackward_MatchesCpuOpAndFloat64Reference(int batch, int classes)
    {
        (float[] logits, int[] labels) = TestData.Classification(batch, classes, seed: batch * 100 + classes);

        (float[] dLogits, float[] rowLoss, float mean) = SoftmaxForwardBackward(logits, labels, batch, classes);

        var cpuDLogits = new float[logits.Length];
        float cpuLoss = SoftmaxCrossEntropy.ForwardBackward(cpuDLogits, logits, labels, batch, classes);
        double[] expectedLosses = Float64Reference.CrossEntropyLosses(TestData.Widen(logits), labels, classes);
        for (int i = 0; i < batch; i++)
        {
            Assert.Equal(expectedLosses[i], rowLoss[i], 2e-6 + 1e-6 * Math.Abs(expectedLosses[i]));
        }

        Assert.Equal(expectedLosses.Average(), mean, 2e-6 + 1e-6 * Math.Abs(expectedLosses.Average()));
        Assert.Equal(cpuLoss, mean, 4e-6 + 2e-6 * Math.Abs(cpuLoss));

        double[] probabilities = Float64Reference.SoftmaxProbabilities(TestData.Widen(logits), classes);
        for (int i = 0; i < batch; i++)
        {
            double rowSum = 0;
            for (int j = 0; j < classes; j++)
            {
                int k = i * classes + j;
                double probability = probabilities[k];
                double expected = (probability - (j == labels[i] ? 1.0 : 0.0)) / batch;
                double tolerance = 1e-12 + 4e-6 * probability / batch + 1.2e-6 * Math.Abs(expected);
                Assert.True(Math.Abs(dLogits[k] - expected) <= tolerance, $"dLogits[{i}, {j}]: expected {expected:R}, got {dLogits[k]:R}");
                Assert.True(Math.Abs(dLogits[k] - cpuDLogits[k]) <= 2 * tolerance, $"dLogits[{i}, {j}]: CPU {cpuDLogits[k]:R}, GPU {dLogits[k]:R}");
                rowSum += dLogits[k];
            }

            Assert.Equal(0.0, rowSum, 1e-6 / batch);
        }
    }

    [Fact]
    public void SoftmaxForwardBackward_IsStableForHugeLogits()
    {
        // The CPU test's rows (row 1 scaled to 1e38: a per-row float loss cannot hold the CPU row's 6e38), plus a
        // 37-class row spanning +-3e38 across lanes.
        float[] logits = [1e4f, -1e4f, 0f, 1e38f, 1e38f, -1e38f, 88f, 89f, 1000f];
        int[] labels = [1, 2, 0];
        (float[] dLogits, float[] rowLoss, float mean) = SoftmaxForwardBackward(logits, labels, 3, 3);

        Assert.All(dLogits, d => Assert.True(float.IsFinite(d)));
        Assert.Equal(2e4, rowLoss[0], 2e4 * 1e-6);
        Assert.Equal(2e38, rowLoss[1], 2e38 * 1e-6);
        Assert.Equal(912, rowLoss[2], 912 * 1e-6);
        double expected = (2e4 + 2e38 + Math.Log(2) + 912) / 3;
        Assert.Equal(expected, mean, expected * 1e-6);
        Assert.Equal(1f / 3, dLogits[0], 1e-7f);
        Assert.Equal(-1f / 3, dLogits[1], 1e-7f);
        Assert.Equal(1f / 6, dLogits[3], 1e-7f); // two equal maxima share the probability
        Assert.Equal(-1f / 3, dLogits[5], 1e-7f);

        float[] wide = [.. Enumerable.Range(0, 37).Select(j => j % 2 == 0 ? 3e38f : -3e38f)];
        (float[] dWide, float[] wideLoss, _) = SoftmaxForwardBackward(wide, [36], 1, 37);
        Assert.Equal(Math.Log(19), wideLoss[0], 1e-6);
        Assert.All(dWide, d => Assert.True(float.IsFinite(d)));
        Assert.Equal(1.0 / 19 - 1, dWide[36], 1e-6);
        Assert.Equal(0f, dWide[1], 1e-30f);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SoftmaxForward_MatchesCpuLossSumAndCorrectCount(int batch, int classes)
    {
        (float[] logits, int[] labels) = TestData.Classification(batch, classes, seed: batch * 31 + classes);
        var random = new Random(batch + classes);
        for (int i = 0; i < batch; i += 2)
        {
            // About half the samples correct: move their label to the row's argmax, sometimes one past it.
            labels[i] = Float64Reference.ArgMax(logits.AsSpan(i * classes, classes));
            labels[i] = random.Next(3) == 0 ? (labels[i] + 1) % classes : labels[i];
        }

        (float[] rowLoss, int[] rowCorrect, float sum, int correct) = SoftmaxForward(logits, labels, batch, classes);

        double cpuSum = SoftmaxCrossEntropy.Forward(logits, labels, batch, classes, out int cpuCorrect);
        double[] expectedLosses = Float64Reference.CrossEntropyLosses(TestData.Widen(logits), labels, classes);
        for (int i = 0; i < batch; i++)
        {
            Assert.Equal(expectedLosses[i], rowLoss[i], 2e-6 + 1e-6 * Math.Abs(expectedLosses[i]));
            Assert.Equal(Float64Reference.ArgMax(logits.AsSpan(i * classes, classes)) == labels[i] ? 1 : 0, rowCorrect[i]);
        }

        Assert.Equal(cpuSum, sum, 2e-6 * batch + 2e-6 * Math.Abs(cpuSum));
        Assert.Equal(cpuCorrect, correct);
    }

    [Fact]
    public void SoftmaxForward_ArgmaxTiesGoToTheLowestIndexAndNaNWins()
    {
        float[] logits = [1f, 3f, 3f, 5f, 5f, 5f, float.NaN, 9f, float.NaN];
        (_, int[] rowCorrect, _, int correct) = SoftmaxForward(logits, [1, 2, 0], 3, 3);
        Assert.Equal([1, 0, 1], rowCorrect); // as the CPU test: row 0 index 1, row 1 index 0, row 2 the first NaN
        Assert.Equal(2, correct);

        // 70 classes: ties and NaNs in different lanes (lane = column % 32) and in the same lane.
        const int Classes = 70;
        float[] ties = new float[4 * Classes];
        foreach (int j in new[] { 69, 40, 38, 6 })
        {
            ties[j] = 7f; // row 0: 6 (lane 6) beats 38 (lane 6), 40 and 69
        }

        foreach (int j in new[] { 69, 40, 38 })
        {
            ties[Classes + j] = 7f; // row 1: 38 (lane 6) beats 40 (lane 8) and 69 (lane 5)
        }

        ties[(2 * Classes) + 65] = float.NaN; // row 2: the first NaN, 33 (lane 1), beats 65 (lane 1) and the 9 at 3
        ties[(2 * Classes) + 33] = float.NaN;
        ties[(2 * Classes) + 3] = 9f;
        Array.Fill(ties, float.NegativeInfinity, 3 * Classes, Classes); // row 3: all -inf, argmax 0

        int[] expected = [6, 38, 33, 0];
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i], Float64Reference.ArgMax(ties.AsSpan(i * Classes, Classes)));
        }

        (_, int[] hits, _, _) = SoftmaxForward(ties, expected, 4, Classes);
        Assert.Equal([1, 1, 1, 1], hits);
        (_, int[] misses, _, _) = SoftmaxForward(ties, [38, 40, 65, 1], 4, Classes);
        Assert.Equal([0, 0, 0, 0], misses);
        _ = SoftmaxCrossEntropy.Forward(ties, expected, 4, Classes, out int cpuCorrect);
        Assert.Equal(4, cpuCorrect);
    }

    [Fact]
    public void SoftmaxLabelOutOfRange_GivesNaNLossForItsRowOnly()
    {
        float[] logits = [1f, 2f, 3f, 4f];
        (_, float[] rowLoss, _) = SoftmaxForwardBackward(logits, [2, 1], 2, 2);
        Assert.True(float.IsNaN(rowLoss[0]));
        Assert.Equal(Math.Log(1 + Math.Exp(-1)), rowLoss[1], 1e-6); // row [3, 4], label 1
    }

    [Fact]
    public void SoftmaxMismatchedLengths_Throw()
    {
        var loss = new GpuSoftmaxCrossEntropy(_gpu);
        using var six = _gpu.Accelerator.Allocate1D<float>(6);
        using var five = _gpu.Accelerator.Allocate1D<float>(5);
        using var two = _gpu.Accelerator.Allocate1D<float>(2);
        using var labels = _gpu.Accelerator.Allocate1D<int>(2);
        using var flags = _gpu.Accelerator.Allocate1D<int>(2);
        Assert.Throws<ArgumentException>(() => loss.ForwardBackward(_stream, five.View, labels.View, six.View, two.View, 2, 3));
        Assert.Throws<ArgumentException>(() => loss.ForwardBackward(_stream, six.View, labels.View, five.View, two.View, 2, 3));
        Assert.Throws<ArgumentException>(() => loss.ForwardBackward(_stream, six.View, labels.View, six.View, five.View, 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => loss.ForwardBackward(_stream, six.View, labels.View, six.View, two.View, 0, 3));
        Assert.Throws<ArgumentException>(() => loss.Forward(_stream, six.View, labels.View, two.View, flags.View, 3, 2));
        loss.Forward(_stream, ArrayView<float>.Empty, ArrayView<int>.Empty, ArrayView<float>.Empty, ArrayView<int>.Empty, 0, 10); // launches nothing
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 70)]
    [InlineData(7, 3)]
    [InlineData(33, 37)]
    [InlineData(33, 1)]
    public void MeanSquaredError_MatchesCpuOpAndFloat64Reference(int batch, int outputs)
    {
        var random = new Random(batch * 1000 + outputs);
        float[] output = TestData.Uniform(random, batch * outputs, -3, 3);
        float[] target = TestData.Uniform(random, batch * outputs, -3, 3);

        using var outputBuffer = _stream.Upload(output);
        using var targetBuffer = _stream.Upload(target);
        using var dOutput = _gpu.Accelerator.Allocate1D<float>(output.Length);
        using var rowLoss = _gpu.Accelerator.Allocate1D<float>(batch);
        using var evalLoss = _gpu.Accelerator.Allocate1D<float>(batch);
        using var mean = _gpu.Accelerator.Allocate1D<float>(1);
        var mse = new GpuMeanSquaredError(_gpu);
        mse.ForwardBackward(_stream, outputBuffer.View, targetBuffer.View, dOutput.View, rowLoss.View, batch, outputs);
        mse.Forward(_stream, outputBuffer.View, targetBuffer.View, evalLoss.View, batch, outputs);
        new GpuReduction(_gpu).Mean(_stream, rowLoss.View, batch, mean.View);

        var cpuDOutput = new float[output.Length];
        float cpuLoss = MeanSquaredError.ForwardBackward(cpuDOutput, output, target, batch, outputs);
        Assert.Equal(cpuDOutput, _stream.Download<float>(dOutput.View)); // same float difference times the same float scale

        float[] rows = _stream.Download<float>(rowLoss.View);
        Assert.Equal(rows, _stream.Download<float>(evalLoss.View));
        double[] expected = Float64Reference.SquaredErrorRowMeans(TestData.Widen(output), TestData.Widen(target), outputs);
        for (int i = 0; i < batch; i++)
        {
            Assert.Equal(expected[i], rows[i], 1e-6 * expected[i] + 1e-12);
        }

        float deviceMean = _stream.Download<float>(mean.View)[0];
        Assert.Equal(cpuLoss, deviceMean, 2e-6 * cpuLoss);
        Assert.Equal(MeanSquaredError.Forward(output, target, batch, outputs) / batch, deviceMean, 2e-6 * cpuLoss);
    }

    [Fact]
    public void MeanSquaredErrorMismatchedLengths_Throw()
    {
        var mse = new GpuMeanSquaredError(_gpu);
        using var six = _gpu.Accelerator.Allocate1D<float>(6);
        using var five = _gpu.Accelerator.Allocate1D<float>(5);
        using var two = _gpu.Accelerator.Allocate1D<float>(2);
        Assert.Throws<ArgumentException>(() => mse.ForwardBackward(_stream, six.View, five.View, six.View, two.View, 2, 3));
        Assert.Throws<ArgumentException>(() => mse.ForwardBackward(_stream, six.View, six.View, six.View, five.View, 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => mse.ForwardBackward(_stream, six.View, six.View, six.View, two.View, 2, 0));
        Assert.Throws<ArgumentException>(() => mse.Forward(_stream, six.View, six.View, five.View, 2, 3));
    }

    [Fact]
    public void Log_MatchesMathLogWithinTwoUlp()
    {
        var random = new Random(5);
        var samples = new List<float> { 1f, 2f, 0.5f, MathF.E, 10f, 70f, 0.70710677f, 0.7071068f, 1.4142135f, float.Epsilon, 1e-40f, 1.1754942e-38f, float.MaxValue };
        for (int i = 0; i < 20000; i++)
        {
            // Log-uniform over the whole positive range, subnormals included.
            samples.Add(MathF.Pow(2f, (float)(random.NextDouble() * 276 - 149)) * (float)(1 + random.NextDouble()));
        }

        foreach (float x in samples.Where(float.IsFinite))
        {
            double expected = Math.Log(x);
            float actual = GpuMath.Log(x);
            double ulp = Math.Max(Math.Abs(MathF.BitIncrement((float)expected) - (float)expected), float.Epsilon);
            Assert.True(Math.Abs(actual - expected) <= 2 * ulp, $"Log({x:R}): expected {expected:R}, got {actual:R}");
        }

        Assert.Equal(float.NegativeInfinity, GpuMath.Log(0f));
        Assert.Equal(float.PositiveInfinity, GpuMath.Log(float.PositiveInfinity));
        Assert.True(float.IsNaN(GpuMath.Log(-1f)));
        Assert.True(float.IsNaN(GpuMath.Log(float.NaN)));
        Assert.Equal(0f, GpuMath.Log(1f));
    }

    public static TheoryData<string> Kernels() => ["softmax-train", "softmax-eval", "mse-train", "mse-eval"];

    [Theory]
    [MemberData(nameof(Kernels))]
    public void LossKernel_CompilesToPtxWithoutExternalCalls(string kernel)
    {
        Delegate method = kernel switch
        {
            "softmax-train" => GpuSoftmaxCrossEntropy.ForwardBackwardKernel,
            "softmax-eval" => GpuSoftmaxCrossEntropy.ForwardKernel,
            "mse-train" => GpuMeanSquaredError.ForwardBackwardKernel,
            "mse-eval" => GpuMeanSquaredError.ForwardKernel,
            _ => throw new ArgumentOutOfRangeException(nameof(kernel)),
        };

        string ptx = GpuPtxAssert.CompilesWithoutExternalCalls(method, explicitlyGrouped: true);

        Assert.Contains("shfl.sync", ptx, StringComparison.Ordinal);
    }
}
