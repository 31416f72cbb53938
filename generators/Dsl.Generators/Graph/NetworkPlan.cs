using System.Collections.Generic;
using Dsl.Generators.Model;

namespace Dsl.Generators.Graph;

/// <summary>
/// One layer's place in the execution plan: its widths and where its parameters sit in the one
/// contiguous parameter buffer (the gradient buffer has the same layout).
/// </summary>
/// <param name="WeightOffset">Start of the weight, shape (Units, FanIn), row-major like PyTorch's nn.Linear.</param>
/// <param name="BiasOffset">Start of the bias, shape (Units); -1 when the layer has none.</param>
internal sealed record LayerPlan(LayerSpec Layer, int Index, int FanIn, int Units, int WeightOffset, int BiasOffset)
{
    public int WeightCount => Units * FanIn;

    public int BiasCount => BiasOffset < 0 ? 0 : Units;

    public int ParameterCount => WeightCount + BiasCount;

    /// <summary>Multiply-adds count two FLOPs: 2 FanIn Units per sample for the forward GEMM.</summary>
    public long ForwardFlopsPerSample => 2L * FanIn * Units;

    /// <summary>dWeight and dInput GEMMs: twice the forward (the first layer skips dInput, see <see cref="NetworkPlan.TrainFlopsPerSample"/>).</summary>
    public long BackwardFlopsPerSample => 4L * FanIn * Units;

    /// <summary>Whether the backward needs this layer's pre-activation kept (otherwise its output is enough).</summary>
    public bool KeepsPreActivation => Layer.Activation is ActivationKind.Gelu or ActivationKind.Silu;
}

/// <summary>The buffer plan and sequence for a valid network; derived from <see cref="NetworkSpec"/> alone.</summary>
internal sealed record NetworkPlan(NetworkSpec Spec, EquatableArray<LayerPlan> Layers, int InputSize, int OutputSize, int ParameterCount)
{
    public long ForwardFlopsPerSample
    {
        get
        {
            long flops = 0;
            foreach (LayerPlan layer in Layers)
            {
                flops += layer.ForwardFlopsPerSample;
            }

            return flops;
        }
    }

    /// <summary>Forward + backward FLOPs of one training sample (the first layer computes no dInput).</summary>
    public long TrainFlopsPerSample => (3 * ForwardFlopsPerSample) - Layers[0].ForwardFlopsPerSample;

    /// <summary>
    /// Whether a training step splits its batch rows across the device's threads (each slice a whole
    /// forward and backward with single-threaded GEMMs, one fork-join per step) instead of threading
    /// each GEMM. Measured on the MNIST-1D MLP (15k parameters): per-GEMM fork-joins cost more than the
    /// small GEMMs they split. Large networks keep per-GEMM threading and need no gradient copies.
    /// </summary>
    public bool SplitsBatchAcrossThreads => ParameterCount <= MaxParametersForBatchSplit;

    public const int MaxParametersForBatchSplit = 1 << 18;

    /// <summary>Builds the plan; the spec must have passed <see cref="ShapeInference"/> without errors.</summary>
    public static NetworkPlan Build(NetworkSpec spec)
    {
        var layers = new List<LayerPlan>(spec.Layers.Count);
        int fanIn = 1;
        foreach (int dimension in spec.InputShape)
        {
            fanIn *= dimension;
        }

        int inputSize = fanIn;
        int offset = 0;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            int weightOffset = offset;
            offset += layer.Units * fanIn;
            int biasOffset = -1;
            if (layer.HasBias)
            {
                biasOffset = offset;
                offset += layer.Units;
            }

            layers.Add(new LayerPlan(layer, i, fanIn, layer.Units, weightOffset, biasOffset));
            fanIn = layer.Units;
        }

        return new NetworkPlan(spec, new EquatableArray<LayerPlan>(layers), inputSize, fanIn, offset);
    }
}
