using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Graphs;

/// <summary>
/// A graph network whose ops are a chain of dense layers, on the GPU: the device buffers, the kernel launchers (loaded
/// once when the network is created) and the launch sequence of a step. Everything is queued on one stream; only
/// <see cref="ReadLoss"/>, <see cref="EvaluateChunk"/> and the downloads wait for it.
/// </summary>
/// <remarks>
/// Two sequences. The fully fused one (when <see cref="FusedMlp.Fits(int, ReadOnlySpan{int}, ReadOnlySpan{Activation})"/>
/// accepts the layer shapes) is one launch for the whole forward, loss and backward per batch tile, then one to sum the
/// tiles' gradients and update. The layer-by-layer one launches, per layer, a tiled GEMM whose epilogue adds the bias
/// and applies the activation, and in the backward a GEMM for dW, a bias reduction and a GEMM for dX with the previous
/// activation's derivative fused. DSL_GPU_FUSED=0 or 1 forces either when the network is created.
/// </remarks>
internal sealed class GpuDenseChain : IGpuSequence
{
    private readonly int _inputWidth;
    private readonly int _outputWidth;
    private readonly IDenseStep[] _layers;

    // Per layer i: its output y (capacity, units), z where phi' reads it (else empty), and dz (capacity, units).
    private readonly DeviceBuffer<float>[] _outputs;
    private readonly DeviceBuffer<float>[] _preActivations;
    private readonly DeviceBuffer<float>[] _dPreActivations;
    private readonly DeviceBuffer<float> _dOutput;          // dy of the output layer when it has an activation (capacity, outputs)
    private readonly GpuLossHead _head;
    private int _capacity;
    // The fully fused sequence; null when layered.
    private readonly FusedMlpLauncher? _fused;
    private readonly FusedMlpPlan _fusedPlan;
    private readonly DeviceBuffer<float> _fusedWorkspace; // (slots, parameters) each group's gradient sum; empty when layered
    // The layer-by-layer sequence; empty when fused.
    private readonly IGpuDenseLayer[] _dense = [];
    private readonly GpuBiasGradient? _biasGradient;
    private readonly IGpuActivationBackward? _outputActivationBackward;

    /// <param name="layers">The chain in run order: layer 0 reads the network's input, layer i the output of layer i - 1.</param>
    public GpuDenseChain(GpuAccelerator gpu, int inputWidth, IDenseStep[] layers, Loss loss, int parameterCount)
    {
        // The sequence first: a bad DSL_GPU_FUSED or DSL_GPU_FUSED_TILE_ROWS throws before any device memory is taken.
        int[] units = layers.Select(layer => layer.Units).ToArray();
        Activation[] activations = layers.Select(layer => layer.Kind).ToArray();
        bool fused = FusedMlpSelection.UseFused(FusedMlp.Fits(inputWidth, units, activations));
        Gpu = gpu;
        Stream = gpu.Accelerator.DefaultStream;
        _inputWidth = inputWidth;
        _layers = layers;
        _outputWidth = layers[^1].Units;
        if (!fused)
        {
            _dense = new IGpuDenseLayer[layers.Length];
            for (int i = 0; i < layers.Length; i++)
            {
                (Activation previous, float previousSlope) = i == 0 ? (Activation.Identity, 0f) : (layers[i - 1].Kind, layers[i - 1].Slope);
                _dense[i] = layers[i].CreateGpuLayer(gpu, previous, previousSlope);
            }

            _biasGradient = new GpuBiasGradient(gpu);
            if (layers[^1].Kind != Activation.Identity)
            {
                _outputActivationBackward = GpuActivationDispatch.CreateBackward(gpu, layers[^1].Kind, layers[^1].Slope);
            }
        }
        else
        {
            _fusedPlan = FusedMlpPlan.Create(
                inputWidth,
                layers.Select(layer => new FusedLayer(layer.FanIn, layer.Units, layer.Kind, layer.Slope, layer.WeightOffset, layer.BiasOffset)).ToArray(),
                loss);
            _fused = FusedMlp.Load(gpu);
        }

        Parameters = new DeviceBuffer<float>(gpu, parameterCount);
        Gradients = new DeviceBuffer<float>(gpu, parameterCount);
        State = new DeviceBuffer<float>(gpu, 0);
        _head = new GpuLossHead(gpu, inputWidth, _outputWidth, loss);
        _outputs = layers.Select(_ => new DeviceBuffer<float>(gpu, 0)).ToArray();
        _preActivations = layers.Select(_ => new DeviceBuffer<float>(gpu, 0)).ToArray();
        _dPreActivations = layers.Select(_ => new DeviceBuffer<float>(gpu, 0)).ToArray();
        _dOutput = new DeviceBuffer<float>(gpu, 0);
        _fusedWorkspace = new DeviceBuffer<float>(gpu, 0);
    }

    public GpuAccelerator Gpu { get; }

    public AcceleratorStream Stream { get; }

    /// <summary>(parameters), the layout of the host parameter buffer.</summary>
    public DeviceBuffer<float> Parameters { get; }

    /// <summary>(parameters).</summary>
    public DeviceBuffer<float> Gradients { get; }

    /// <summary>Empty: a chain of dense layers has no running statistics.</summary>
    public DeviceBuffer<float> State { get; }

    public DeviceBuffer<float> StepInputs => _head.StepInputs;

    public DeviceBuffer<int> StepLabels => _head.StepLabels;

    public DeviceBuffer<float> StepTargets => _head.StepTargets;

    /// <summary>True when training steps run the fully fused kernel.</summary>
    public bool IsFused => _fused is not null;

    public void EnsureCapacity(int rows)
    {
        if (rows <= _capacity)
        {
            return;
        }

        _head.EnsureCapacity(rows);
        for (int i = 0; i < _layers.Length; i++)
        {
            long size = checked((long)rows * _layers[i].Units);
            _outputs[i].EnsureLength(size);
            _dPreActivations[i].EnsureLength(size);
            if (_dense.Length > 0 && _dense[i].NeedsPreActivation)
            {
                _preActivations[i].EnsureLength(size);
            }
        }

        if (_outputActivationBackward is not null)
        {
            _dOutput.EnsureLength(checked((long)rows * _outputWidth));
        }

        if (_fused is not null)
        {
            _fusedWorkspace.EnsureLength(_fused.WorkspaceLength(_fusedPlan, rows));
        }

        _capacity = rows;
    }

    /// <summary>Forward over <paramref name="rows"/> rows of <paramref name="input"/> (rows, inputs); keeps each layer's output (and z where phi' needs it).</summary>
    public void Forward(ArrayView<float> input, int rows)
    {
        EnsureCapacity(rows);
        if (_fused is not null)
        {
            _fused.Predict(Stream, _fusedPlan, Parameters.View, input, Rows(_outputs[^1], rows, _outputWidth), rows);
            return;
        }

        for (int i = 0; i < _layers.Length; i++)
        {
            IDenseStep layer = _layers[i];
            ArrayView<float> x = i == 0 ? input : Rows(_outputs[i - 1], rows, layer.FanIn);
            _dense[i].Forward(Stream, Rows(_outputs[i], rows, layer.Units), PreActivation(i, rows), x, Weight(Parameters, layer), Bias(Parameters, layer), rows, layer.FanIn, layer.Units);
        }
    }

    /// <summary>The outputs of the last forward, (rows, outputs).</summary>
    public void DownloadOutputs(Span<float> outputs) => _outputs[^1].Download(Stream, outputs);

    /// <summary>
    /// The first half of a step: forward and loss, each row's loss into the row losses and the loss's gradient into the
    /// workspace; the fused kernel also computes every tile's gradients into its workspace. Writes no gradient and no
    /// parameter. <paramref name="labels"/> for a classifier, <paramref name="targets"/> otherwise; a chain of dense
    /// layers has no dropout, so the step and seed are not read.
    /// </summary>
    public void ForwardLoss(ArrayView<float> input, ArrayView<int> labels, ArrayView<float> targets, int rows, long step, ulong seed)
    {
        EnsureCapacity(rows);
        if (_fused is not null)
        {
            _fused.ComputeTiles(Stream, _fusedPlan, Parameters.View, input, labels, targets, _head.RowLosses(rows), rows, _fusedWorkspace.View);
            return;
        }

        Forward(input, rows);
        _head.ForwardBackward(Rows(_outputs[^1], rows, _outputWidth), labels, targets, LossGradient(rows), rows);
    }

    /// <summary>
    /// The second half, after <see cref="ForwardLoss"/> over the same rows: the backward pass. Gradients land in
    /// <see cref="Gradients"/>, and <paramref name="update"/> (none: gradients only) is applied to each parameter as its
    /// gradient is finished, never as a pass of its own: layer by layer in each weight-gradient GEMM and bias reduction
    /// (after the layer's dX has read W), or in the reduction of the fused kernel's group sums.
    /// </summary>
    public void Backward(ArrayView<float> input, int rows, GpuParameterUpdate update)
    {
        if (_fused is not null)
        {
            _fused.ReduceSlots(Stream, _fusedPlan, Gradients.View, _fusedWorkspace.View, rows, update);
            return;
        }

        int last = _layers.Length - 1;
        if (_outputActivationBackward is not null)
        {
            ArrayView<float> y = Rows(_outputs[last], rows, _outputWidth);
            ArrayView<float> z = _outputActivationBackward.NeedsPreActivation ? Rows(_preActivations[last], rows, _outputWidth) : y;
            _outputActivationBackward.Apply(Stream, Rows(_dPreActivations[last], rows, _outputWidth), LossGradient(rows), z, y, rows * _outputWidth);
        }

        for (int i = last; i >= 0; i--)
        {
            IDenseStep layer = _layers[i];
            ArrayView<float> dz = Rows(_dPreActivations[i], rows, layer.Units);
            // dX first (it reads W), then dW = dz^T x and db = column sums of dz, each updating its parameters.
            if (i > 0)
            {
                ArrayView<float> previousY = Rows(_outputs[i - 1], rows, layer.FanIn);
                ArrayView<float> previousZ = _dense[i - 1].NeedsPreActivation ? Rows(_preActivations[i - 1], rows, layer.FanIn) : previousY;
                _dense[i].BackwardInput(Stream, Rows(_dPreActivations[i - 1], rows, layer.FanIn), dz, Weight(Parameters, layer), previousZ, previousY, rows, layer.FanIn, layer.Units);
            }

            ArrayView<float> x = i == 0 ? input : Rows(_outputs[i - 1], rows, layer.FanIn);
            _dense[i].BackwardWeights(Stream, Weight(Gradients, layer), dz, x, rows, layer.FanIn, layer.Units, update.At(layer.WeightOffset));
            if (layer.BiasOffset >= 0)
            {
                _biasGradient!.Compute(Stream, Bias(Gradients, layer), dz, rows, layer.Units, update.At(layer.BiasOffset));
            }
        }
    }

    /// <summary>The mean of the last <see cref="ForwardLoss"/>'s row losses: one reduction launch and a one-float copy (waits for the stream).</summary>
    public float ReadLoss() => _head.ReadLoss();

    /// <summary>Forward and per-row loss of <paramref name="rows"/> rows in the step buffers; the loss sum and, for a classifier, the correct count.</summary>
    public double EvaluateChunk(int rows, out long correct)
    {
        Forward(StepInputs.Slice(0, (long)rows * _inputWidth), rows);
        return _head.Evaluate(Rows(_outputs[^1], rows, _outputWidth), rows, out correct);
    }

    /// <summary>A chain of dense layers keeps nothing beyond a step.</summary>
    public void CommitTrainingStep(int rows)
    {
    }

    public void Dispose()
    {
        Parameters.Dispose();
        Gradients.Dispose();
        State.Dispose();
        _head.Dispose();
        foreach (DeviceBuffer<float> buffer in _outputs.Concat(_preActivations).Concat(_dPreActivations))
        {
            buffer.Dispose();
        }

        _dOutput.Dispose();
        _fusedWorkspace.Dispose();
    }

    /// <summary>The loss's gradient: dy of the output layer when it has an activation, else directly its dz.</summary>
    private ArrayView<float> LossGradient(int rows)
        => _outputActivationBackward is not null ? Rows(_dOutput, rows, _outputWidth) : Rows(_dPreActivations[^1], rows, _outputWidth);

    private ArrayView<float> PreActivation(int layer, int rows)
        => _dense[layer].NeedsPreActivation ? Rows(_preActivations[layer], rows, _layers[layer].Units) : default;

    /// <summary>Rows [0, rows) of a (capacity, width) buffer.</summary>
    private static ArrayView<float> Rows(DeviceBuffer<float> buffer, int rows, int width) => buffer.Slice(0, (long)rows * width);

    private static ArrayView<float> Weight(DeviceBuffer<float> buffer, IDenseStep layer) => buffer.Slice(layer.WeightOffset, (long)layer.Units * layer.FanIn);

    private static ArrayView<float> Bias(DeviceBuffer<float> buffer, IDenseStep layer) => layer.BiasOffset < 0 ? default : buffer.Slice(layer.BiasOffset, layer.Units);
}
