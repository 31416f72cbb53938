using Dsl.Cpu;
using Dsl.Ops;
using Dsl.Training;

namespace Dsl.Graphs;

/// <summary>
/// The network-independent machinery of a graph network on the CPU, written once: the parameter and gradient buffers,
/// the workspace and its growth, the forward sequence and the reverse backward sequence, batch slicing across threads,
/// the loss, <c>Predict</c>, <c>TrainStep</c>, <c>ComputeGradients</c> and <c>Evaluate</c>. A generated network holds one
/// (created by <see cref="GraphBuilder.Build"/>) and forwards its members to it.
/// </summary>
/// <remarks>
/// Checks come first: every method validates lengths, labels and finiteness before it changes anything, and a step
/// checks its loss before its backward pass and its gradients before the update, as the dense networks do.
/// </remarks>
public sealed class GraphNetwork : IDisposable
{
    /// <summary>At most this many parameters, a training step splits its batch across threads (see <see cref="BatchSplit"/>).</summary>
    public const int MaxParametersForBatchSplit = 1 << 18;

    private readonly string _name;
    private readonly Device _device;
    private readonly Loss _loss;
    private readonly int[] _inputShape;
    private readonly int[] _outputShape;
    private readonly GraphStep[] _steps;
    private readonly Layer[] _layers;
    private readonly ParameterBuffers _buffers;
    private readonly Action<float[], ulong>[] _initialisers;
    private readonly GraphWorkspace _workspace;
    private readonly int _scratchLength;
    private readonly int _outputValue;
    private readonly bool _needsWholeBatch;
    private ulong _seed;
    private long _trainingPasses;
    private float _lastLoss = float.NaN;

    // Batch split across threads: the step's labels or targets (a span cannot cross threads), and slice s's pass (its
    // gradient share and scratch) and mean loss.
    private int[] _stepLabels = [];
    private float[] _stepTargets = [];
    private GraphPass[] _slicePasses = [];
    private float[][] _sliceShares = [];
    private float[] _sliceLosses = [];
    private GraphPass? _wholePass;

    internal GraphNetwork(string name, Device device, Loss loss, int[] inputShape, int[] widths, GraphStep[] steps, Layer[] layers, ParameterBuffers buffers, Action<float[], ulong>[] initialisers, ulong seed)
    {
        _name = name;
        _device = device;
        _loss = loss;
        _inputShape = inputShape;
        _steps = steps;
        _layers = layers;
        _buffers = buffers;
        _initialisers = initialisers;
        _workspace = new GraphWorkspace(widths);
        _outputValue = widths.Length - 1;
        _outputShape = [widths[_outputValue]];
        foreach (GraphStep step in steps)
        {
            _scratchLength = Math.Max(_scratchLength, step.ScratchLength);
            _needsWholeBatch |= step.NeedsWholeBatch;
        }

        ResetParameters(seed);
    }

    public Device Device => _device;

    public int ParameterCount => _buffers.Parameters.Length;

    public int InputSize => _workspace.Widths[0];

    public int OutputSize => _workspace.Widths[_outputValue];

    public ReadOnlySpan<int> InputShape => _inputShape;

    public ReadOnlySpan<int> OutputShape => _outputShape;

    /// <summary>Every layer in the order it runs, named by its path.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>All parameters in one buffer, layer by layer in the order they run (see each <see cref="Layer"/>'s offsets).</summary>
    public Span<float> Parameters => _buffers.Parameters;

    public ReadOnlySpan<float> Gradients => _buffers.Gradients;

    /// <summary>The mean loss of the last training step or gradient computation that completed (NaN before the first).</summary>
    public float LastLoss => _lastLoss;

    /// <summary>
    /// Whether training steps split their batch across the device's threads rather than threading each GEMM: small
    /// networks do, unless a step needs the whole batch at once (batch normalisation's statistics).
    /// </summary>
    public bool SplitsBatchAcrossThreads => ParameterCount <= MaxParametersForBatchSplit && !_needsWholeBatch;

    /// <summary>The network's non-trainable state: each batch norm's running mean, then its running variance (see each <see cref="Layer.StateOffset"/>).</summary>
    public Span<float> State => _buffers.State;

    public void CopyParametersTo(Span<float> destination)
    {
        if (destination.Length != ParameterCount)
        {
            throw new ShapeMismatchException(nameof(destination), $"{ParameterCount} floats (one per parameter)", $"{destination.Length} floats");
        }

        _buffers.Parameters.CopyTo(destination);
    }

    /// <summary>
    /// Redraws every parameter from its declared initialiser (dense layers from streams keyed by their paths; norm gains
    /// 1, biases 0) and resets the running statistics (mean 0, variance 1); the seed also keys dropout masks.
    /// </summary>
    public void ResetParameters(ulong seed)
    {
        foreach (Action<float[], ulong> initialise in _initialisers)
        {
            initialise(_buffers.Parameters, seed);
        }

        _seed = seed;
    }

    /// <summary>Outputs (batch, OutputSize) for inputs (batch, InputSize), in evaluation mode (dropout is the identity).</summary>
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        int batch = InputChecks.BatchSize(inputs.Length, InputSize, nameof(inputs));
        InputChecks.Length(outputs.Length, checked(batch * OutputSize), nameof(outputs));
        Forward(inputs, batch);
        _workspace.Values[_outputValue].AsSpan(0, batch * OutputSize).CopyTo(outputs);
    }

    /// <summary>One training step with softmax cross-entropy against class labels.</summary>
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        RequireLoss(classification: true);
        int batch = CheckBatch(inputs, labels);
        optimizer.CheckCompatible(_device.Gpu, ParameterCount);
        labels.CopyTo(Labels(batch));
        return Step(inputs, batch, optimizer);
    }

    /// <summary>One training step with mean squared error against float targets.</summary>
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        RequireLoss(classification: false);
        int batch = CheckBatch(inputs, targets);
        optimizer.CheckCompatible(_device.Gpu, ParameterCount);
        targets.CopyTo(Targets(batch));
        return Step(inputs, batch, optimizer);
    }

    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        RequireLoss(classification: true);
        int batch = CheckBatch(inputs, labels);
        labels.CopyTo(Labels(batch));
        return Step(inputs, batch, optimizer: null);
    }

    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        RequireLoss(classification: false);
        int batch = CheckBatch(inputs, targets);
        targets.CopyTo(Targets(batch));
        return Step(inputs, batch, optimizer: null);
    }

    /// <summary>A training step on rows [start, start + count) of a data set (on the CPU backend its host copy).</summary>
    public void TrainStep(DeviceDataSet data, int start, int count, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(optimizer);
        bool classification = _loss == Loss.SoftmaxCrossEntropy;
        data.CheckSlice(_device, InputSize, OutputSize, classification, start, count);
        optimizer.CheckCompatible(_device.Gpu, ParameterCount);
        ReadOnlySpan<float> inputs = data.Inputs.Slice(start * InputSize, count * InputSize);
        if (classification)
        {
            TrainStep(inputs, data.Labels.Slice(start, count), optimizer);
        }
        else
        {
            TrainStep(inputs, data.Targets.Slice(start * OutputSize, count * OutputSize), optimizer);
        }
    }

    /// <summary>Mean loss and accuracy (argmax equals the label) over a data set, in evaluation mode.</summary>
    public Evaluation Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize = 1000)
    {
        RequireLoss(classification: true);
        int count = CheckBatch(inputs, labels);
        InputChecks.Positive(batchSize, nameof(batchSize));
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < count; start += batchSize)
        {
            int batch = Math.Min(batchSize, count - start);
            Forward(inputs.Slice(start * InputSize, batch * InputSize), batch);
            lossSum += SoftmaxCrossEntropy.Forward(_workspace.Values[_outputValue].AsSpan(0, batch * OutputSize), labels.Slice(start, batch), batch, OutputSize, out int batchCorrect);
            correct += batchCorrect;
        }

        return new Evaluation(lossSum / count, (double)correct / count, count);
    }

    /// <summary>Mean squared error over a data set, in evaluation mode (accuracy NaN).</summary>
    public Evaluation Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize = 1000)
    {
        RequireLoss(classification: false);
        int count = CheckBatch(inputs, targets);
        InputChecks.Positive(batchSize, nameof(batchSize));
        double lossSum = 0;
        for (int start = 0; start < count; start += batchSize)
        {
            int batch = Math.Min(batchSize, count - start);
            Forward(inputs.Slice(start * InputSize, batch * InputSize), batch);
            lossSum += MeanSquaredError.Forward(_workspace.Values[_outputValue].AsSpan(0, batch * OutputSize), targets.Slice(start * OutputSize, batch * OutputSize), batch, OutputSize);
        }

        return new Evaluation(lossSum / count, double.NaN, count);
    }

    /// <summary>Nothing to free on the CPU backend.</summary>
    public void Dispose()
    {
    }

    public override string ToString() => $"{_name}: {_layers.Length} layers, {ParameterCount} parameters";

    /// <summary>Class labels go with softmax cross-entropy, float targets with mean squared error.</summary>
    private void RequireLoss(bool classification)
    {
        if (classification != (_loss == Loss.SoftmaxCrossEntropy))
        {
            throw new InvalidOperationException(classification
                ? $"Network '{_name}' is trained with mean squared error against float targets; it takes no class labels."
                : $"Network '{_name}' is trained with softmax cross-entropy against class labels; it takes no float targets.");
        }
    }

    private int CheckBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        int batch = InputChecks.BatchSize(inputs.Length, InputSize, "inputs");
        InputChecks.Labels(labels, batch, OutputSize, "labels");
        FiniteChecks.Values(inputs, InputSize, "inputs");
        return batch;
    }

    private int CheckBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        int batch = InputChecks.BatchSize(inputs.Length, InputSize, "inputs");
        InputChecks.Length(targets.Length, checked(batch * OutputSize), "targets");
        FiniteChecks.Values(inputs, InputSize, "inputs");
        FiniteChecks.Values(targets, OutputSize, "targets");
        return batch;
    }

    private Span<int> Labels(int batch)
    {
        if (_stepLabels.Length < batch)
        {
            _stepLabels = new int[batch];
        }

        return _stepLabels.AsSpan(0, batch);
    }

    private Span<float> Targets(int batch)
    {
        if (_stepTargets.Length < batch * OutputSize)
        {
            _stepTargets = new float[checked(batch * OutputSize)];
        }

        return _stepTargets.AsSpan(0, batch * OutputSize);
    }

    /// <summary>The evaluation-mode forward over the whole batch, on the device's threads.</summary>
    private void Forward(ReadOnlySpan<float> inputs, int batch)
    {
        _workspace.EnsureCapacity(batch, _steps);
        inputs.CopyTo(_workspace.Values[0]);
        GraphPass pass = WholePass();
        pass.Training = false;
        foreach (GraphStep step in _steps)
        {
            step.Forward(pass, 0, batch);
        }
    }

    /// <summary>
    /// Forward, loss and backward of the step's batch (labels or targets already in place); then the checks, what the
    /// steps keep (running statistics) and the update.
    /// </summary>
    private float Step(ReadOnlySpan<float> inputs, int batch, Optimizer? optimizer)
    {
        if (_needsWholeBatch && batch < 2)
        {
            throw new ShapeMismatchException("inputs", "at least 2 samples (batch normalisation in training needs a variance over the batch)", "1 sample");
        }

        _workspace.EnsureCapacity(batch, _steps);
        inputs.CopyTo(_workspace.Values[0]);
        long pass = _trainingPasses++;
        int slices = SplitsBatchAcrossThreads ? BatchSplit.SliceCount(batch, _device.Workers) : 1;
        float loss;
        if (slices == 1)
        {
            loss = ForwardBackward(WholePass(), pass, 0, batch);
        }
        else
        {
            // A network this small splits the batch: one slice of rows per thread, each a whole forward and backward
            // with single-threaded GEMMs into its own gradient share; the shares are then combined.
            EnsureSlicePasses(slices);
            _device.Workers!.Run(slices, new SliceTask(this, pass, batch, slices));
            loss = float.NaN;
            bool finite = true;
            for (int slice = 0; slice < slices && finite; slice++)
            {
                finite = float.IsFinite(_sliceLosses[slice]);
                loss = _sliceLosses[slice];
            }

            if (finite)
            {
                loss = BatchSplit.Combine(_buffers.Gradients, _sliceShares, _sliceLosses, slices, batch);
            }
        }

        // A non-finite loss stopped the step before its backward pass; non-finite gradients stop it before the update.
        FiniteChecks.Loss(loss);
        if (optimizer is not null)
        {
            FiniteChecks.Gradients(_buffers.Gradients, _layers);
        }

        GraphPass whole = WholePass();
        foreach (GraphStep step in _steps)
        {
            step.CommitTrainingStep(whole, batch);
        }

        optimizer?.Step(_buffers.Parameters, _buffers.Gradients, _device.Workers);

        _lastLoss = loss;
        return loss;
    }

    /// <summary>
    /// Rows [row0, row0 + rows): the forward in training mode, the loss fused with its gradient (a mean over these
    /// rows), then every step's backward in reverse order into <paramref name="pass"/>'s gradients. Returns the loss.
    /// </summary>
    private float ForwardBackward(GraphPass pass, long passIndex, int row0, int rows)
    {
        pass.Training = true;
        pass.Step = passIndex;
        pass.Seed = _seed;
        foreach (GraphStep step in _steps)
        {
            step.Forward(pass, row0, rows);
        }

        Span<float> output = pass.Rows(_outputValue, row0, rows);
        Span<float> dOutput = pass.GradientRows(_outputValue, row0, rows);
        float loss = _loss == Loss.SoftmaxCrossEntropy
            ? SoftmaxCrossEntropy.ForwardBackward(dOutput, output, _stepLabels.AsSpan(row0, rows), rows, OutputSize)
            : MeanSquaredError.ForwardBackward(dOutput, output, _stepTargets.AsSpan(row0 * OutputSize, rows * OutputSize), rows, OutputSize);
        if (!float.IsFinite(loss))
        {
            return loss; // the step throws: no gradient is written
        }

        for (int i = _steps.Length - 1; i >= 0; i--)
        {
            _steps[i].Backward(pass, row0, rows);
        }

        return loss;
    }

    private void RunSlice(int slice, long passIndex, int batch, int slices)
    {
        int row0 = BatchSplit.Start(slice, slices, batch);
        int rows = BatchSplit.Rows(slice, slices, batch);
        _sliceLosses[slice] = ForwardBackward(_slicePasses[slice], passIndex, row0, rows);
    }

    private readonly struct SliceTask(GraphNetwork network, long passIndex, int batch, int slices) : ICpuTask
    {
        public void Execute(int index) => network.RunSlice(index, passIndex, batch, slices);
    }

    private GraphPass WholePass()
        => _wholePass ??= new GraphPass
        {
            Workspace = _workspace,
            Parameters = _buffers.Parameters,
            Gradients = _buffers.Gradients,
            State = _buffers.State,
            Scratch = new float[_scratchLength],
            Workers = _device.Workers,
        };

    private void EnsureSlicePasses(int slices)
    {
        if (_slicePasses.Length >= slices)
        {
            return;
        }

        _slicePasses = new GraphPass[slices];
        for (int slice = 0; slice < slices; slice++)
        {
            _slicePasses[slice] = new GraphPass
            {
                Workspace = _workspace,
                Parameters = _buffers.Parameters,
                Gradients = new float[ParameterCount],
                State = _buffers.State,
                Scratch = new float[_scratchLength],
                Workers = null,
            };
        }

        _sliceShares = _slicePasses.Select(pass => pass.Gradients).ToArray();
        _sliceLosses = new float[slices];
    }
}
