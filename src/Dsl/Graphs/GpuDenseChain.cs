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
internal sealed class GpuDenseChain : IDisposable
{
    private readonly int _inputWidth;
    private readonly int _outputWidth;
    private readonly bool _classifier;
    private readonly IDenseStep[] _layers;

    // Per layer i: its output y (capacity, units), z where phi' reads it (else empty), and dz (capacity, units).
    private readonly DeviceBuffer<float>[] _outputs;
    private readonly DeviceBuffer<float>[] _preActivations;
    private readonly DeviceBuffer<float>[] _dPreActivations;
    private readonly DeviceBuffer<float> _dOutput;          // dy of the output layer when it has an activation (capacity, outputs)
    private readonly DeviceBuffer<float> _rowLosses;        // (capacity) each row's loss in the last step
    private readonly DeviceBuffer<float> _evaluationLosses; // (capacity) Evaluate's per-row losses
    private readonly DeviceBuffer<int> _rowCorrect;         // (capacity) 1 where argmax = label (Evaluate; classifiers)
    private readonly DeviceBuffer<float> _loss;             // (1) the mean of _rowLosses, read by each step
    private float[] _hostRowLosses = [];
    private int[] _hostRowCorrect = [];
    private int _capacity;
    private int _lossRows;

    private readonly GpuSoftmaxCrossEntropy? _softmaxLoss;
    private readonly GpuMeanSquaredError? _squaredLoss;
    private readonly GpuReduction _reduction;
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
        _classifier = loss == Loss.SoftmaxCrossEntropy;
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
        StepInputs = new DeviceBuffer<float>(gpu, 0);
        StepLabels = new DeviceBuffer<int>(gpu, 0);
        StepTargets = new DeviceBuffer<float>(gpu, 0);
        _outputs = layers.Select(_ => new DeviceBuffer<float>(gpu, 0)).ToArray();
        _preActivations = layers.Select(_ => new DeviceBuffer<float>(gpu, 0)).ToArray();
        _dPreActivations = layers.Select(_ => new DeviceBuffer<float>(gpu, 0)).ToArray();
        _dOutput = new DeviceBuffer<float>(gpu, 0);
        _rowLosses = new DeviceBuffer<float>(gpu, 0);
        _evaluationLosses = new DeviceBuffer<float>(gpu, 0);
        _rowCorrect = new DeviceBuffer<int>(gpu, 0);
        _loss = new DeviceBuffer<float>(gpu, 1);
        _fusedWorkspace = new DeviceBuffer<float>(gpu, 0);
        _softmaxLoss = _classifier ? new GpuSoftmaxCrossEntropy(gpu) : null;
        _squaredLoss = _classifier ? null : new GpuMeanSquaredError(gpu);
        _reduction = new GpuReduction(gpu);
    }

    public GpuAccelerator Gpu { get; }

    public AcceleratorStream Stream { get; }

    /// <summary>(parameters), the layout of the host parameter buffer.</summary>
    public DeviceBuffer<float> Parameters { get; }

    /// <summary>(parameters).</summary>
    public DeviceBuffer<float> Gradients { get; }

    /// <summary>(capacity, inputs): host batches copied in.</summary>
    public DeviceBuffer<float> StepInputs { get; }

    /// <summary>(capacity) class labels, for classifiers.</summary>
    public DeviceBuffer<int> StepLabels { get; }

    /// <summary>(capacity, outputs) float targets, for regression.</summary>
    public DeviceBuffer<float> StepTargets { get; }

    /// <summary>True when training steps run the fully fused kernel.</summary>
    public bool IsFused => _fused is not null;

    public void EnsureCapacity(int rows)
    {
        if (rows <= _capacity)
        {
            return;
        }

        StepInputs.EnsureLength(checked((long)rows * _inputWidth));
        if (_classifier)
        {
            StepLabels.EnsureLength(rows);
        }
        else
        {
            StepTargets.EnsureLength(checked((long)rows * _outputWidth));
        }

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

        _rowLosses.EnsureLength(rows);
        _evaluationLosses.EnsureLength(rows);
        if (_classifier)
        {
            _rowCorrect.EnsureLength(rows);
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
    /// parameter. <paramref name="labels"/> for a classifier, <paramref name="targets"/> otherwise.
    /// </summary>
    public void ForwardLoss(ArrayView<float> input, ArrayView<int> labels, ArrayView<float> targets, int rows)
    {
        EnsureCapacity(rows);
        _lossRows = rows;
        if (_fused is not null)
        {
            _fused.ComputeTiles(Stream, _fusedPlan, Parameters.View, input, labels, targets, _rowLosses.Slice(0, rows), rows, _fusedWorkspace.View);
            return;
        }

        Forward(input, rows);
        ArrayView<float> output = Rows(_outputs[^1], rows, _outputWidth);
        if (_softmaxLoss is not null)
        {
            _softmaxLoss.ForwardBackward(Stream, output, labels, LossGradient(rows), _rowLosses.Slice(0, rows), rows, _outputWidth);
        }
        else
        {
            _squaredLoss!.ForwardBackward(Stream, output, targets, LossGradient(rows), _rowLosses.Slice(0, rows), rows, _outputWidth);
        }
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
    public float ReadLoss()
    {
        _reduction.Mean(Stream, _rowLosses.Slice(0, _lossRows), _lossRows, _loss.View);
        Span<float> mean = stackalloc float[1];
        _loss.Download(Stream, mean);
        return mean[0];
    }

    /// <summary>Forward and per-row loss of <paramref name="rows"/> rows in the step buffers; the loss sum and, for a classifier, the correct count.</summary>
    public double EvaluateChunk(int rows, out long correct)
    {
        Forward(StepInputs.Slice(0, (long)rows * _inputWidth), rows);
        if (_hostRowLosses.Length < rows)
        {
            _hostRowLosses = new float[rows];
            _hostRowCorrect = new int[rows];
        }

        ArrayView<float> output = Rows(_outputs[^1], rows, _outputWidth);
        if (_softmaxLoss is not null)
        {
            _softmaxLoss.Forward(Stream, output, StepLabels.Slice(0, rows), _evaluationLosses.Slice(0, rows), _rowCorrect.Slice(0, rows), rows, _outputWidth);
        }
        else
        {
            _squaredLoss!.Forward(Stream, output, StepTargets.Slice(0, (long)rows * _outputWidth), _evaluationLosses.Slice(0, rows), rows, _outputWidth);
        }

        _evaluationLosses.Download(Stream, _hostRowLosses.AsSpan(0, rows));
        double sum = 0;
        for (int row = 0; row < rows; row++)
        {
            sum += _hostRowLosses[row];
        }

        correct = 0;
        if (_softmaxLoss is not null)
        {
            _rowCorrect.Download(Stream, _hostRowCorrect.AsSpan(0, rows));
            for (int row = 0; row < rows; row++)
            {
                correct += _hostRowCorrect[row];
            }
        }

        return sum;
    }

    public void Dispose()
    {
        Parameters.Dispose();
        Gradients.Dispose();
        StepInputs.Dispose();
        StepLabels.Dispose();
        StepTargets.Dispose();
        foreach (DeviceBuffer<float> buffer in _outputs.Concat(_preActivations).Concat(_dPreActivations))
        {
            buffer.Dispose();
        }

        _dOutput.Dispose();
        _rowLosses.Dispose();
        _evaluationLosses.Dispose();
        _rowCorrect.Dispose();
        _loss.Dispose();
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
