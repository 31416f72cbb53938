using Dsl.Graphs;
using Xunit;

namespace Dsl.Tests.Graphs;

/// <summary>
/// A LayerNorm in a pass with threads (a batch that is not split: here a batch norm keeps it whole) runs blocks of rows
/// concurrently and sums its gain and bias gradients per block: the same results as one thread, to float rounding.
/// </summary>
public sealed class LayerNormBlocksTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(97)]
    public void Blocks_of_rows_on_two_threads_give_one_thread_s_outputs_loss_and_gradients(int batch)
    {
        var random = new Random(batch);
        float[] inputs = [.. Enumerable.Range(0, batch * 7).Select(_ => (float)((random.NextDouble() * 4) - 2))];
        int[] labels = [.. Enumerable.Range(0, batch).Select(_ => random.Next(3))];
        using GraphNetwork one = Build(Device.Cpu(1));
        using GraphNetwork two = Build(Device.Cpu(2));
        Assert.False(two.SplitsBatchAcrossThreads);

        float lossOne = one.ComputeGradients(inputs, labels);
        float lossTwo = two.ComputeGradients(inputs, labels);
        Assert.Equal(lossOne, lossTwo, 1e-5f);
        float[] gradientsOne = one.Gradients.ToArray();
        float[] gradientsTwo = two.Gradients.ToArray();
        double scale = gradientsOne.Max(g => Math.Abs((double)g));
        Assert.True(scale > 1e-3, $"largest gradient {scale}");
        for (int i = 0; i < gradientsOne.Length; i++)
        {
            Assert.True(Math.Abs(gradientsOne[i] - gradientsTwo[i]) <= 1e-5 * scale, $"gradient {i}: {gradientsOne[i]} on one thread, {gradientsTwo[i]} on two");
        }

        // The norm's gain and bias gradients come from both blocks: they are not those of either block alone.
        Layer norm = two.Layers.Single(l => l.Name == "Body.Norm");
        Assert.Contains(norm.WeightGradient.ToArray(), g => Math.Abs(g) > 1e-4);

        var outputsOne = new float[batch * 3];
        var outputsTwo = new float[batch * 3];
        one.Predict(inputs, outputsOne);
        two.Predict(inputs, outputsTwo);
        for (int i = 0; i < outputsOne.Length; i++)
        {
            Assert.Equal(outputsOne[i], outputsTwo[i], 1e-5f);
        }
    }

    private static GraphNetwork Build(Device device)
    {
        var builder = new GraphBuilder("Blocks", [7]);
        builder.Dense("Hidden", 33, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());
        builder.BatchNorm("Batch", 1e-5f, 0.1f, affine: true);
        builder.EnterBlock("Body");
        builder.BeginResidual();
        builder.LayerNorm("Norm", 1e-5f, affine: true);
        builder.Dense("Up", 33, true, Init.TorchDefault, Fan.In, 0.01, Activation.Gelu, 0f, new Dsl.Ops.Gelu());
        builder.EndResidual(1f);
        builder.ExitBlock();
        builder.LayerNorm("FinalNorm", 1e-5f, affine: true);
        builder.Dense("Logits", 3, true, Init.TorchDefault, Fan.In, 0.01, Activation.Identity, 0f, new Dsl.Ops.Identity());

        // Hidden 7*33 + 33; Batch 2*33; Body.Norm 2*33; Up 33*33 + 33; FinalNorm 2*33; Logits 33*3 + 3.
        return builder.Build(device, Loss.SoftmaxCrossEntropy, 5, (7 * 33) + 33 + 66 + 66 + (33 * 33) + 33 + 66 + (33 * 3) + 3);
    }
}
