using System.Globalization;
using Dsl.Cpu;
using Dsl.Gpu;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// A dense layer with its activation in the GEMM's epilogue: y = phi(x W^T + b). Shapes: x (rows, fanIn), W (units,
/// fanIn) at <see cref="WeightOffset"/>, b (units) at <see cref="BiasOffset"/> (-1: none), y (rows, units); z (rows,
/// units) is kept only when phi' reads it.
/// Backward: dz = dy * phi'(z, y) in place in dy's buffer (every consumer of y has run, so dy is complete and read by
/// no one after), dW = dz^T x, db = column sums of dz, dx (+)= dz W.
/// Fusion (planned by <see cref="GraphBuilder"/>): when this layer's one consumer is another dense layer, that layer's
/// dx GEMM applies phi' in its epilogue and writes dz here directly (<see cref="DerivativeFused"/>), so this backward
/// skips its own pass over dy.
/// </summary>
/// <remarks>
/// <see cref="Kind"/> and <see cref="Slope"/> name phi for what cannot read the struct: the GPU sequence, which creates its
/// kernels with <see cref="CreateGpuLayer"/>.
/// </remarks>
internal sealed class DenseStep<TActivation>(
    string path, int input, int output, int fanIn, int units, int weightOffset, int biasOffset, TActivation activation,
    Activation kind, float slope, Func<GpuAccelerator, Activation, float, Activation, float, IGpuDenseLayer> gpuLayer)
    : GraphStep(path, output), IDenseStep
    where TActivation : struct, IActivation
{
    private readonly int[] _inputs = [input];
    private float[] _preActivation = [];

    public override int[] Inputs => _inputs;

    public int WeightOffset { get; } = weightOffset;

    public int BiasOffset { get; } = biasOffset;

    public int FanIn => fanIn;

    public int Units => units;

    public Activation Kind => kind;

    public float Slope => slope;

    public bool HasActivation => typeof(TActivation) != typeof(Identity);

    /// <summary>Set when the one consumer's dx GEMM writes dz (not dy) into this layer's output gradient.</summary>
    public bool DerivativeFused { get; set; }

    /// <summary>The dense layer whose output this one reads, when its derivative is fused into this layer's dx GEMM.</summary>
    public IDenseStep? FusedProducer { get; set; }

    /// <summary>The same layer with <paramref name="phi"/> in its epilogue (an identity dense layer followed by a standalone activation).</summary>
    public DenseStep<TOther> WithActivation<TOther>(TOther phi, Activation otherKind, float otherSlope)
        where TOther : struct, IActivation
        => new(Path, _inputs[0], Output, fanIn, units, WeightOffset, BiasOffset, phi, otherKind, otherSlope, gpuLayer);

    /// <summary>This layer's GPU kernels, after a layer with activation <paramref name="previous"/> (Identity for the first layer).</summary>
    public IGpuDenseLayer CreateGpuLayer(GpuAccelerator gpu, Activation previous, float previousSlope)
        => gpuLayer(gpu, kind, slope, previous, previousSlope);

    /// <summary>dzThis = (dzConsumer W) * phi'(z, y): the consumer's dx GEMM with this layer's derivative in its epilogue.</summary>
    public void BackwardThroughConsumer(GraphPass pass, int row0, int rows, ReadOnlySpan<float> consumerDz, ReadOnlySpan<float> consumerWeight, int consumerUnits)
    {
        Span<float> y = pass.Rows(Output, row0, rows);
        ReadOnlySpan<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * units, rows * units) : y;
        Dense.BackwardInput(pass.GradientRows(Output, row0, rows), consumerDz, consumerWeight, z, y, rows, units, consumerUnits, activation, pass.Workers);
    }

    public override string Describe()
        => string.Create(CultureInfo.InvariantCulture, $"Dense {fanIn} -> {units}, {kind}{(kind == Activation.LeakyRelu ? $"({slope})" : "")}, weight @{WeightOffset}")
            + (BiasOffset < 0 ? ", no bias" : string.Create(CultureInfo.InvariantCulture, $", bias @{BiasOffset}"))
            + (activation.NeedsPreActivation ? ", z kept" : string.Empty);

    public override void EnsureCapacity(int rows)
    {
        if (activation.NeedsPreActivation)
        {
            _preActivation = new float[checked(rows * units)];
        }
    }

    public override void Forward(GraphPass pass, int row0, int rows)
    {
        Span<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * units, rows * units) : default;
        Dense.Forward(
            pass.Rows(Output, row0, rows), z, pass.Rows(_inputs[0], row0, rows),
            pass.Parameters.AsSpan(WeightOffset, units * fanIn), Bias(pass.Parameters), rows, fanIn, units, activation, pass.Workers);
    }

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        Span<float> dz = pass.GradientRows(Output, row0, rows);
        if (HasActivation && !DerivativeFused)
        {
            Span<float> y = pass.Rows(Output, row0, rows);
            ReadOnlySpan<float> z = activation.NeedsPreActivation ? _preActivation.AsSpan(row0 * units, rows * units) : y;
            ActivationBackward.Apply(dz, dz, z, y, activation);
        }

        ReadOnlySpan<float> x = pass.Rows(_inputs[0], row0, rows);
        Dense.BackwardWeights(pass.Gradients.AsSpan(WeightOffset, units * fanIn), Bias(pass.Gradients), dz, x, rows, fanIn, units, pass.Workers);
        if (FusedProducer is { } producer)
        {
            producer.BackwardThroughConsumer(pass, row0, rows, dz, pass.Parameters.AsSpan(WeightOffset, units * fanIn), units);
        }
        else if (_inputs[0] != 0)
        {
            Gemm.Multiply(
                Transpose.No, Transpose.No, rows, fanIn, units, dz, units, pass.Parameters.AsSpan(WeightOffset, units * fanIn), fanIn,
                pass.GradientRows(_inputs[0], row0, rows), fanIn, Accumulate[0], default(NoEpilogue), pass.Workers);
        }
    }

    private Span<float> Bias(float[] buffer) => BiasOffset < 0 ? default : buffer.AsSpan(BiasOffset, units);
}

/// <summary>What the fusion rules need of a dense step, whatever its activation.</summary>
internal interface IDenseStep
{
    string Path { get; }

    int[] Inputs { get; }

    int Output { get; }

    int FanIn { get; }

    int Units { get; }

    Activation Kind { get; }

    float Slope { get; }

    int WeightOffset { get; }

    int BiasOffset { get; }

    IGpuDenseLayer CreateGpuLayer(GpuAccelerator gpu, Activation previous, float previousSlope);

    bool HasActivation { get; }

    bool DerivativeFused { get; set; }

    IDenseStep? FusedProducer { get; set; }

    void BackwardThroughConsumer(GraphPass pass, int row0, int rows, ReadOnlySpan<float> consumerDz, ReadOnlySpan<float> consumerWeight, int consumerUnits);
}
