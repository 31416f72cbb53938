using System.Globalization;
using Dsl.Cpu;
using Dsl.Ops;
using Dsl.Signal;
using Dsl.Training;

namespace Dsl.Graphs;

/// <summary>
/// The network-independent machinery of a graph network, written once: the parameter and gradient buffers, the
/// workspace and its growth, the forward sequence and the reverse backward sequence, batch slicing across threads, the
/// loss, <c>Predict</c>, <c>TrainStep</c>, <c>ComputeGradients</c> and <c>Evaluate</c>, and on a GPU the device copies and
/// which of host and device holds the newer values. A generated network holds one (created by
/// <see cref="GraphBuilder.Build"/>) and forwards its members to it.
/// </summary>
/// <remarks>
/// Checks come first: every method validates lengths, labels and finiteness before it changes anything, and a step
/// checks its loss before its backward pass and, on the CPU, its gradients before the update.
/// On a GPU (<see cref="GpuDenseChain"/> for a chain of dense layers, <see cref="GpuGraph"/> for any other graph) the
/// device copy of the parameters is the one training updates; the host copy is refreshed when user code reads it.
/// </remarks>
public sealed class GraphNetwork : IDisposable, IHostBufferSync
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
    private readonly SignalNode[] _signal;
    private float[] _signalGradients = [];
    private ulong _seed;
    private long _trainingPasses;
    private float _lastLoss = float.NaN;
    private readonly TrainingPolicy _training = new();
    private readonly ParameterRange[] _decayExempt; // biases and norm parameters, sorted and merged
    private double _lastGradientNorm = double.NaN;
    private GpuGradientClipping? _gpuClipping;
    private bool _gpuNormPending; // the last step's norm is on the device

    // GPU devices only: the device copies and launch sequence, null on the CPU backend. The flags are never both set,
    // as every device step uploads pending host values before it marks the host copy stale.
    private readonly IGpuSequence? _gpu;
    private bool _deviceParametersStale = true; // the host copy changed (initialised, reset, or handed out writable)
    private bool _hostParametersStale;          // the device copy changed (an optimizer step)
    private bool _hostGradientsStale;           // the device holds newer gradients
    private bool _deviceStateStale = true;      // the host's running statistics changed (reset, or handed out writable)
    private bool _hostStateStale;               // the device's running statistics moved (a training step)

    // Batch split across threads: the step's labels or targets (a span cannot cross threads), and slice s's pass (its
    // gradient share and scratch) and mean loss.
    private int[] _stepLabels = [];
    private float[] _stepTargets = [];
    private GraphPass[] _slicePasses = [];
    private float[][] _sliceShares = [];
    private float[] _sliceLosses = [];
    private GraphPass? _wholePass;

    /// <param name="chain">The steps as a chain of dense layers, when they are one: on a GPU they run the fused sequences.</param>
    /// <param name="signal">Per value, the node signal propagation reads.</param>
    internal GraphNetwork(string name, Device device, Loss loss, int[] inputShape, int[] widths, GraphStep[] steps, Layer[] layers, ParameterBuffers buffers, Action<float[], ulong>[] initialisers, ulong seed, IDenseStep[]? chain, SignalNode[] signal)
    {
        _signal = signal;
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

        _decayExempt = DecayExemptRanges(layers);
        if (device.Gpu is { } gpu)
        {
            _gpu = chain is not null
                ? new GpuDenseChain(gpu, widths[0], chain, loss, buffers.Parameters.Length)
                : new GpuGraph(gpu, steps, widths, loss, buffers.Parameters.Length, buffers.State.Length);
            buffers.Sync = this;
        }

        ResetParameters(seed);
    }

    public Device Device => _device;

    public int ParameterCount => _buffers.Parameters.Length;

    public int InputSize => _workspace.Widths[0];

    public int OutputSize => _workspace.Widths[_outputValue];

    public ReadOnlySpan<int> InputShape => _inputShape;

    public ReadOnlySpan<int> OutputShape => _outputShape;

    /// <summary>Every layer and residual add in the order they run, named by their paths.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>
    /// All parameters in one buffer, layer by layer in the order they run (see each <see cref="Layer"/>'s offsets). On a
    /// GPU this copies the device's parameters to the host first; writes through the span reach the device before its next use.
    /// </summary>
    public Span<float> Parameters
    {
        get
        {
            ((IHostBufferSync)this).ParametersToHost();
            return _buffers.Parameters;
        }
    }

    /// <summary>The gradients of the last training step or gradient computation, laid out as <see cref="Parameters"/> (copied from a GPU when read).</summary>
    public ReadOnlySpan<float> Gradients
    {
        get
        {
            ((IHostBufferSync)this).GradientsToHost();
            return _buffers.Gradients;
        }
    }

    /// <summary>
    /// The network as it runs, one line per step in run order: the value it writes (v0 is the input) and its width, its
    /// path, the values it reads, its op with its parameters' offsets, and what its backward writes: each input's
    /// gradient written or added to (a value with several consumers), and the fusions.
    /// </summary>
    public string Plan => DescribePlan();

    /// <summary>Whether the host copy of the parameters changed since the device last received it (the next GPU use uploads it).</summary>
    internal bool DeviceParametersStale => _deviceParametersStale;

    /// <summary>True when the network runs on a GPU and its training steps run the fully fused kernel.</summary>
    public bool IsFused => _gpu?.IsFused ?? false;

    /// <summary>The mean loss of the last training step or gradient computation that completed (NaN before the first).</summary>
    public float LastLoss => _lastLoss;

    /// <summary>
    /// What the training step does around the optimizer's update: the learning-rate schedule, gradient clipping and which
    /// parameters decay; set from the declaration's attributes, changeable between steps.
    /// </summary>
    public TrainingPolicy Training => _training;

    /// <summary>
    /// The global L2 norm of the last training step's gradients before clipping, when <see cref="TrainingPolicy.MaxGradientNorm"/>
    /// was set for it (NaN otherwise: without clipping no step computes it). On a GPU, reading it waits for the device.
    /// </summary>
    public float LastGradientNorm
    {
        get
        {
            if (_gpuNormPending)
            {
                _lastGradientNorm = _gpuClipping!.ReadNorm(_gpu!.Stream);
                _gpuNormPending = false;
            }

            return (float)_lastGradientNorm;
        }
    }

    /// <summary>The biases and the norms' gains and shifts, which weight decay skips by default: sorted, adjacent ones merged.</summary>
    private static ParameterRange[] DecayExemptRanges(Layer[] layers)
    {
        var ranges = new List<ParameterRange>();
        foreach (Layer layer in layers)
        {
            if (layer.Kind is LayerKind.LayerNorm or LayerKind.RmsNorm or LayerKind.BatchNorm && layer.WeightLength > 0)
            {
                ranges.Add(new ParameterRange(layer.WeightOffset, layer.WeightLength));
            }

            if (layer.HasBias && layer.BiasLength > 0)
            {
                ranges.Add(new ParameterRange(layer.BiasOffset, layer.BiasLength));
            }
        }

        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<ParameterRange>();
        foreach (ParameterRange range in ranges)
        {
            if (merged.Count > 0 && merged[^1].End == range.Start)
            {
                merged[^1] = new ParameterRange(merged[^1].Start, merged[^1].Length + range.Length);
            }
            else
            {
                merged.Add(range);
            }
        }

        return merged.ToArray();
    }

    /// <summary>This step's decay exemptions under the policy.</summary>
    private ParameterRange[] DecayExempt => _training.DecayNormsAndBiases ? [] : _decayExempt;

    /// <summary>
    /// Whether training steps split their batch across the device's threads rather than threading each GEMM: small
    /// networks do, unless a step needs the whole batch at once (batch normalisation's statistics).
    /// </summary>
    public bool SplitsBatchAcrossThreads => ParameterCount <= MaxParametersForBatchSplit && !_needsWholeBatch;

    /// <summary>The network's non-trainable state: each batch norm's running mean, then its running variance (see each <see cref="Layer.StateOffset"/>).</summary>
    /// <remarks>On a GPU this copies the device's running statistics to the host first; writes reach the device before its next use.</remarks>
    public Span<float> State
    {
        get
        {
            ((IHostBufferSync)this).StateToHost();
            return _buffers.State;
        }
    }

    public void CopyParametersTo(Span<float> destination)
    {
        if (destination.Length != ParameterCount)
        {
            throw new ShapeMismatchException(nameof(destination), $"{ParameterCount} floats (one per parameter)", $"{destination.Length} floats");
        }

        DownloadParametersIfStale();
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
        // On a GPU the new values reach the device before its next use.
        _deviceParametersStale = true;
        _hostParametersStale = false;
        _deviceStateStale = true;
        _hostStateStale = false;
    }

    /// <summary>Outputs (batch, OutputSize) for inputs (batch, InputSize), in evaluation mode (dropout is the identity).</summary>
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        int batch = InputChecks.BatchSize(inputs.Length, InputSize, nameof(inputs));
        InputChecks.Length(outputs.Length, checked(batch * OutputSize), nameof(outputs));
        if (_gpu is not null)
        {
            UploadParametersIfStale();
            _gpu.EnsureCapacity(batch);
            _gpu.StepInputs.Upload(_gpu.Stream, inputs);
            _gpu.Forward(_gpu.StepInputs.Slice(0, (long)batch * InputSize), batch);
            _gpu.DownloadOutputs(outputs);
            return;
        }

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
        if (_gpu is not null)
        {
            return GpuHostStep(inputs, labels, [], batch, optimizer);
        }

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
        if (_gpu is not null)
        {
            return GpuHostStep(inputs, [], targets, batch, optimizer);
        }

        targets.CopyTo(Targets(batch));
        return Step(inputs, batch, optimizer);
    }

    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        RequireLoss(classification: true);
        int batch = CheckBatch(inputs, labels);
        if (_gpu is not null)
        {
            return GpuHostStep(inputs, labels, [], batch, optimizer: null);
        }

        labels.CopyTo(Labels(batch));
        return Step(inputs, batch, optimizer: null);
    }

    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        RequireLoss(classification: false);
        int batch = CheckBatch(inputs, targets);
        if (_gpu is not null)
        {
            return GpuHostStep(inputs, [], targets, batch, optimizer: null);
        }

        targets.CopyTo(Targets(batch));
        return Step(inputs, batch, optimizer: null);
    }

    /// <summary>
    /// A training step on rows [start, start + count) of a data set kept on this network's device: on a GPU the batch is
    /// not copied, and the step waits once, to read and check its loss, before it queues the backward pass and the update;
    /// on the CPU backend it trains on the data set's host copy.
    /// </summary>
    public void TrainStep(DeviceDataSet data, int start, int count, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(optimizer);
        bool classification = _loss == Loss.SoftmaxCrossEntropy;
        data.CheckSlice(_device, InputSize, OutputSize, classification, start, count);
        optimizer.CheckCompatible(_device.Gpu, ParameterCount);
        if (_gpu is not null)
        {
            UploadParametersIfStale();
            GpuStep(data.DeviceInputs(start, count), classification ? data.DeviceLabels(start, count) : default, classification ? default : data.DeviceTargets(start, count), count, optimizer);
            return;
        }

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
            if (_gpu is not null)
            {
                UploadParametersIfStale();
                _gpu.EnsureCapacity(batch);
                _gpu.StepInputs.Upload(_gpu.Stream, inputs.Slice(start * InputSize, batch * InputSize));
                _gpu.StepLabels.Upload(_gpu.Stream, labels.Slice(start, batch));
                lossSum += _gpu.EvaluateChunk(batch, out long chunkCorrect);
                correct += chunkCorrect;
                continue;
            }

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
            if (_gpu is not null)
            {
                UploadParametersIfStale();
                _gpu.EnsureCapacity(batch);
                _gpu.StepInputs.Upload(_gpu.Stream, inputs.Slice(start * InputSize, batch * InputSize));
                _gpu.StepTargets.Upload(_gpu.Stream, targets.Slice(start * OutputSize, batch * OutputSize));
                lossSum += _gpu.EvaluateChunk(batch, out _);
                continue;
            }

            Forward(inputs.Slice(start * InputSize, batch * InputSize), batch);
            lossSum += MeanSquaredError.Forward(_workspace.Values[_outputValue].AsSpan(0, batch * OutputSize), targets.Slice(start * OutputSize, batch * OutputSize), batch, OutputSize);
        }

        return new Evaluation(lossSum / count, double.NaN, count);
    }

    /// <summary>
    /// Predicts every value's moments at initialisation from the declaration, as the analyzers do: standardised inputs,
    /// a unit gradient at the output, training mode (dropout on, batch statistics over <paramref name="batchSize"/> rows).
    /// It reads the declared initialisers, not the current parameters.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 4.</exception>
    public SignalReport PredictSignal(int batchSize = SignalPropagation.DefaultBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 4);
        SignalMoments[] moments = SignalPropagation.Propagate(_signal, batchSize);
        var values = new SignalMoment[moments.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = new SignalMoment(_signal[i].Path, _workspace.Widths[i], moments[i].Forward, moments[i].Mean, moments[i].Backward);
        }

        return new SignalReport(values);
    }

    /// <summary>
    /// Measures every value's moments with the current parameters: a training-mode forward of <paramref name="inputs"/>
    /// (batch, InputSize), then the backward of <paramref name="outputGradients"/> (batch, OutputSize) in place of the
    /// loss's gradient, down to the input. Each value's moments are means over the batch and the value's elements, its
    /// gradient's read once every layer that reads it has run. Nothing the network keeps changes: not the parameters, not
    /// <see cref="Gradients"/>, not the running statistics. CPU backend only.
    /// </summary>
    /// <exception cref="NotSupportedException">The network runs on a GPU.</exception>
    /// <exception cref="ShapeMismatchException">A length does not match the batch, or a batch norm gets fewer than 2 rows.</exception>
    public SignalReport MeasureSignal(ReadOnlySpan<float> inputs, ReadOnlySpan<float> outputGradients)
    {
        if (_gpu is not null)
        {
            throw new NotSupportedException($"Network '{_name}' runs on {_device}; MeasureSignal runs on the CPU backend: build the network on Device.Cpu() to measure it.");
        }

        int batch = InputChecks.BatchSize(inputs.Length, InputSize, nameof(inputs));
        InputChecks.Length(outputGradients.Length, checked(batch * OutputSize), nameof(outputGradients));
        FiniteChecks.Values(inputs, InputSize, nameof(inputs));
        FiniteChecks.Values(outputGradients, OutputSize, nameof(outputGradients));
        if (_needsWholeBatch && batch < 2)
        {
            throw new ShapeMismatchException(nameof(inputs), "at least 2 samples (batch normalisation in training needs a variance over the batch)", "1 sample");
        }

        _workspace.EnsureCapacity(batch, _steps);
        inputs.CopyTo(_workspace.Values[0]);
        if (_signalGradients.Length != ParameterCount)
        {
            _signalGradients = new float[ParameterCount];
        }

        var pass = new GraphPass
        {
            Workspace = _workspace,
            Parameters = _buffers.Parameters,
            Gradients = _signalGradients,
            State = _buffers.State,
            Scratch = new float[_scratchLength],
            Workers = _device.Workers,
            Training = true,
            Seed = _seed,
            MeasuresSignal = true,
        };
        var forward = new double[_workspace.Widths.Length];
        var mean = new double[forward.Length];
        var backward = new double[forward.Length];
        (forward[0], mean[0]) = Moments(pass.Rows(0, 0, batch));
        foreach (GraphStep step in _steps)
        {
            step.Forward(pass, 0, batch);
            (forward[step.Output], mean[step.Output]) = Moments(pass.Rows(step.Output, 0, batch));
        }

        outputGradients.CopyTo(pass.GradientRows(_outputValue, 0, batch));
        for (int i = _steps.Length - 1; i >= 0; i--)
        {
            // Every reader of this step's output has run its backward: the gradient is complete (the step may overwrite it).
            backward[_steps[i].Output] = Moments(pass.GradientRows(_steps[i].Output, 0, batch)).Square;
            _steps[i].Backward(pass, 0, batch);
        }

        backward[0] = Moments(pass.GradientRows(0, 0, batch)).Square;
        var values = new SignalMoment[forward.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = new SignalMoment(_signal[i].Path, _workspace.Widths[i], forward[i], mean[i], backward[i]);
        }

        return new SignalReport(values);

        static (double Square, double Mean) Moments(ReadOnlySpan<float> values)
        {
            double square = 0, sum = 0;
            foreach (float value in values)
            {
                square += (double)value * value;
                sum += value;
            }

            return (square / values.Length, sum / values.Length);
        }
    }

    /// <summary>Frees the GPU buffers (nothing to free on the CPU backend). The device itself is not disposed.</summary>
    public void Dispose()
    {
        _gpuClipping?.Dispose();
        _gpu?.Dispose();
    }

    void IHostBufferSync.ParametersToHost()
    {
        if (_gpu is null)
        {
            return;
        }

        DownloadParametersIfStale();
        // The caller gets a writable span: upload again before the device next reads the parameters.
        _deviceParametersStale = true;
    }

    void IHostBufferSync.GradientsToHost()
    {
        if (_gpu is not null && _hostGradientsStale)
        {
            _gpu.Gradients.Download(_gpu.Stream, _buffers.Gradients);
            _hostGradientsStale = false;
        }
    }

    private void DownloadParametersIfStale()
    {
        if (_gpu is not null && _hostParametersStale)
        {
            _gpu.Parameters.Download(_gpu.Stream, _buffers.Parameters);
            _hostParametersStale = false;
        }
    }

    void IHostBufferSync.StateToHost()
    {
        if (_gpu is null)
        {
            return;
        }

        if (_hostStateStale)
        {
            _gpu.State.Download(_gpu.Stream, _buffers.State);
            _hostStateStale = false;
        }

        _deviceStateStale = true;
    }

    /// <summary>Before a device use: the host's newer parameters and running statistics go to the device.</summary>
    private void UploadParametersIfStale()
    {
        if (_deviceParametersStale)
        {
            _gpu!.Parameters.Upload(_gpu.Stream, _buffers.Parameters);
            _deviceParametersStale = false;
        }

        if (_deviceStateStale)
        {
            _gpu!.State.Upload(_gpu.Stream, _buffers.State);
            _deviceStateStale = false;
        }
    }

    /// <summary>A step on a host batch on the GPU: the batch is copied in, then <see cref="GpuStep"/>.</summary>
    private float GpuHostStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int batch, Optimizer? optimizer)
    {
        IGpuSequence gpu = _gpu!;
        UploadParametersIfStale();
        gpu.EnsureCapacity(batch);
        gpu.StepInputs.Upload(gpu.Stream, inputs);
        bool classification = _loss == Loss.SoftmaxCrossEntropy;
        if (classification)
        {
            gpu.StepLabels.Upload(gpu.Stream, labels);
        }
        else
        {
            gpu.StepTargets.Upload(gpu.Stream, targets);
        }

        return GpuStep(
            gpu.StepInputs.Slice(0, (long)batch * InputSize),
            classification ? gpu.StepLabels.Slice(0, batch) : default,
            classification ? default : gpu.StepTargets.Slice(0, (long)batch * OutputSize),
            batch, optimizer);
    }

    /// <summary>
    /// One step on device-resident rows: the forward pass and the loss, then the step's one wait, to read the loss and
    /// check it, before anything that changes the gradients, the parameters or the optimizer (optimizer null: gradients only).
    /// </summary>
    private float GpuStep(ILGPU.ArrayView<float> input, ILGPU.ArrayView<int> labels, ILGPU.ArrayView<float> targets, int rows, Optimizer? optimizer)
    {
        IGpuSequence gpu = _gpu!;
        if (_needsWholeBatch && rows < 2)
        {
            throw new ShapeMismatchException("inputs", "at least 2 samples (batch normalisation in training needs a variance over the batch)", "1 sample");
        }

        gpu.ForwardLoss(input, labels, targets, rows, _trainingPasses++, _seed);
        float loss = gpu.ReadLoss();
        FiniteChecks.Loss(loss);
        gpu.CommitTrainingStep(rows);
        _hostStateStale |= _buffers.State.Length > 0;
        if (optimizer is null)
        {
            gpu.Backward(input, rows, Gpu.GpuParameterUpdate.None);
        }
        else
        {
            double rateFactor = _training.Schedule.Factor(optimizer.StepCount);
            float maxNorm = _training.MaxGradientNorm;
            ParameterRange[] exempt = optimizer.HasWeightDecay ? DecayExempt : [];
            if (maxNorm == 0f && exempt.Length == 0)
            {
                // The update runs inside the kernels that finish the gradients (see GpuParameterUpdate).
                gpu.Backward(input, rows, optimizer.BeginScheduledDeviceStep(gpu.Gpu, gpu.Stream, gpu.Parameters.View, rateFactor));
                _lastGradientNorm = double.NaN;
                _gpuNormPending = false;
            }
            else
            {
                // Clipping needs every gradient before any update, and exemptions need runs of the buffer: the gradients
                // first, then the clipping and the standalone update, one launch per run, still with no wait.
                optimizer.CheckCompatible(gpu.Gpu, ParameterCount);
                gpu.Backward(input, rows, Gpu.GpuParameterUpdate.None);
                if (maxNorm > 0f)
                {
                    (_gpuClipping ??= new GpuGradientClipping(gpu.Gpu)).Clip(gpu.Stream, gpu.Gradients.View, maxNorm);
                }

                _gpuNormPending = maxNorm > 0f;
                _lastGradientNorm = double.NaN;
                optimizer.Step(gpu.Gpu, gpu.Stream, gpu.Parameters.View, gpu.Gradients.View, rateFactor, exempt);
            }
        }

        _hostGradientsStale = true;
        _hostParametersStale |= optimizer is not null;
        _lastLoss = loss;
        return loss;
    }

    /// <summary>The network in one line: name, input and output widths, steps as run, parameters, device (<see cref="Plan"/> has each step).</summary>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{_name}: {InputSize} -> {OutputSize}, {_steps.Length} steps, {ParameterCount:N0} parameters on {_device}");

    private string DescribePlan()
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{_name}: input v0 ({InputSize}), {(_loss == Loss.SoftmaxCrossEntropy ? "softmax cross-entropy" : "mean squared error")} on v{_outputValue} ({OutputSize}); ");
        text.Append(CultureInfo.InvariantCulture, $"{ParameterCount:N0} parameters, {_buffers.State.Length:N0} floats of state; ");
        text.Append(SplitsBatchAcrossThreads ? "a training batch splits across threads" : "a training batch stays whole").Append('\n');
        foreach (GraphStep step in _steps)
        {
            string inputs = string.Join(", ", step.Inputs.Select(input => "v" + input.ToString(CultureInfo.InvariantCulture)));
            text.Append(CultureInfo.InvariantCulture, $"v{step.Output} ({_workspace.Widths[step.Output]}) = {step.Path}({inputs}): {step.Describe()}; backward:");
            var parts = new List<string>();
            if (step is IDenseStep dense)
            {
                parts.Add(dense.BiasOffset < 0 ? "dW" : "dW, db");
            }

            for (int i = 0; i < step.Inputs.Length; i++)
            {
                int input = step.Inputs[i];
                if (step is IDenseStep && input == 0)
                {
                    parts.Add("no dX (v0 is the input)");
                    continue;
                }

                string target = string.Create(CultureInfo.InvariantCulture, $"{(step.Accumulate.Length > i && step.Accumulate[i] ? "adds to" : "writes")} dv{input}");
                parts.Add(step is IDenseStep { FusedProducer: { } producer } ? target + " with " + producer.Path + "'s phi' in the dX GEMM's epilogue" : target);
            }

            if (step is IDenseStep { DerivativeFused: true })
            {
                parts.Add("its phi' is applied by its consumer's dX GEMM");
            }

            text.Append(' ').AppendJoin("; ", parts).Append('\n');
        }

        return text.ToString();
    }

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

        if (optimizer is not null)
        {
            optimizer.CheckCompatible(null, ParameterCount);
            _lastGradientNorm = _training.MaxGradientNorm > 0f ? GradientClipping.Clip(_buffers.Gradients, _training.MaxGradientNorm) : double.NaN;
            optimizer.Step(_buffers.Parameters, _buffers.Gradients, _device.Workers, _training.Schedule.Factor(optimizer.StepCount), optimizer.HasWeightDecay ? DecayExempt : []);
        }

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
