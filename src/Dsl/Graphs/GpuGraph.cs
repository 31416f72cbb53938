using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Graphs;

/// <summary>
/// What <see cref="GraphNetwork"/> asks of its GPU sequence: the device buffers, capacity, a forward, a training step in
/// two halves (forward and loss; the backward with the optimizer's update), the loss read and evaluation chunks.
/// <see cref="GpuDenseChain"/> serves chains of dense layers, <see cref="GpuGraph"/> every other graph.
/// </summary>
internal interface IGpuSequence : IDisposable
{
    GpuAccelerator Gpu { get; }

    AcceleratorStream Stream { get; }

    DeviceBuffer<float> Parameters { get; }

    DeviceBuffer<float> Gradients { get; }

    /// <summary>(state), the layout of the host state buffer: the batch norms' running statistics.</summary>
    DeviceBuffer<float> State { get; }

    DeviceBuffer<float> StepInputs { get; }

    DeviceBuffer<int> StepLabels { get; }

    DeviceBuffer<float> StepTargets { get; }

    bool IsFused { get; }

    void EnsureCapacity(int rows);

    /// <summary>The evaluation-mode forward (dropout the identity).</summary>
    void Forward(ArrayView<float> input, int rows);

    void DownloadOutputs(Span<float> outputs);

    /// <summary>The training forward (training pass <paramref name="step"/>, masks keyed by <paramref name="seed"/>) and the loss with its gradient.</summary>
    void ForwardLoss(ArrayView<float> input, ArrayView<int> labels, ArrayView<float> targets, int rows, long step, ulong seed);

    void Backward(ArrayView<float> input, int rows, GpuParameterUpdate update);

    float ReadLoss();

    /// <summary>Once a step's loss has passed its check: what the steps keep beyond the step (running statistics).</summary>
    void CommitTrainingStep(int rows);

    double EvaluateChunk(int rows, out long correct);
}

/// <summary>
/// A graph network on the GPU: each step's GPU twin (<see cref="GraphStep.CreateGpuStep"/>) run in order over the whole
/// batch, the loss, the steps' backwards in reverse order as the CPU plan says (which gradients are written and which
/// added to), then the optimizer's update over the whole parameter buffer in one launch. Everything is queued on one
/// stream; only <see cref="ReadLoss"/>, <see cref="EvaluateChunk"/> and the downloads wait for it.
/// </summary>
internal sealed class GpuGraph : IGpuSequence
{
    private readonly GpuGraphStep[] _steps;
    private readonly int[] _widths;
    private readonly int _outputValue;
    private readonly GpuGraphPass _pass;
    private readonly GpuLossHead _head;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, SgdUpdate>? _sgdUpdate;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, AdamUpdate>? _adamUpdate;
    private int _capacity;

    /// <param name="steps">The network's steps in run order, their backward plan made.</param>
    /// <param name="widths">Every value's width; value 0 is the input, the last the output.</param>
    /// <param name="stateLength">Floats of non-trainable state (running statistics).</param>
    public GpuGraph(GpuAccelerator gpu, IReadOnlyList<GraphStep> steps, int[] widths, Loss loss, int parameterCount, int stateLength)
    {
        Gpu = gpu;
        Stream = gpu.Accelerator.DefaultStream;
        _widths = widths;
        _outputValue = widths.Length - 1;
        _steps = steps.Select(step => step.CreateGpuStep(gpu)).ToArray();
        Parameters = new DeviceBuffer<float>(gpu, parameterCount);
        Gradients = new DeviceBuffer<float>(gpu, parameterCount);
        State = new DeviceBuffer<float>(gpu, stateLength);
        _head = new GpuLossHead(gpu, widths[0], widths[_outputValue], loss);
        _pass = new GpuGraphPass
        {
            Stream = Stream,
            Widths = widths,
            Values = widths.Select(_ => new DeviceBuffer<float>(gpu, 0)).ToArray(),
            ValueGradients = widths.Select(_ => new DeviceBuffer<float>(gpu, 0)).ToArray(),
            Parameters = Parameters,
            Gradients = Gradients,
            State = State,
            Scratch = new DeviceBuffer<float>(gpu, 0),
            Adds = new GpuResidualAdd(gpu),
        };
    }

    public GpuAccelerator Gpu { get; }

    public AcceleratorStream Stream { get; }

    public DeviceBuffer<float> Parameters { get; }

    public DeviceBuffer<float> Gradients { get; }

    public DeviceBuffer<float> State { get; }

    public DeviceBuffer<float> StepInputs => _head.StepInputs;

    public DeviceBuffer<int> StepLabels => _head.StepLabels;

    public DeviceBuffer<float> StepTargets => _head.StepTargets;

    public bool IsFused => false;

    public void EnsureCapacity(int rows)
    {
        if (rows <= _capacity)
        {
            return;
        }

        _head.EnsureCapacity(rows);
        for (int value = 0; value < _widths.Length; value++)
        {
            if (value > 0)
            {
                _pass.Values[value].EnsureLength(checked((long)rows * _widths[value]));
            }

            _pass.ValueGradients[value].EnsureLength(checked((long)rows * _widths[value]));
        }

        _pass.Scratch.EnsureLength(checked((long)rows * _widths.Max()));
        foreach (GpuGraphStep step in _steps)
        {
            step.EnsureCapacity(rows);
        }

        _capacity = rows;
    }

    public void Forward(ArrayView<float> input, int rows) => RunForward(input, rows, training: false, step: 0, seed: 0);

    public void DownloadOutputs(Span<float> outputs) => _pass.Values[_outputValue].Download(Stream, outputs);

    public void ForwardLoss(ArrayView<float> input, ArrayView<int> labels, ArrayView<float> targets, int rows, long step, ulong seed)
    {
        RunForward(input, rows, training: true, step, seed);
        _head.ForwardBackward(_pass.Rows(_outputValue, rows), labels, targets, _pass.GradientRows(_outputValue, rows), rows);
    }

    /// <summary>Every step's backward in reverse order into <see cref="Gradients"/>, then <paramref name="update"/> over all parameters.</summary>
    public void Backward(ArrayView<float> input, int rows, GpuParameterUpdate update)
    {
        _pass.Input = input;
        for (int i = _steps.Length - 1; i >= 0; i--)
        {
            _steps[i].Backward(_pass, rows);
        }

        int length = (int)Parameters.Length;
        if (length == 0)
        {
            return;
        }

        switch (update.Rule)
        {
            case GpuUpdateRule.Sgd:
                (_sgdUpdate ??= GpuOptimizerKernels.Load<SgdUpdate>(Gpu))(Stream, length, Gradients.View, update.Sgd);
                break;
            case GpuUpdateRule.Adam:
                (_adamUpdate ??= GpuOptimizerKernels.Load<AdamUpdate>(Gpu))(Stream, length, Gradients.View, update.Adam);
                break;
        }
    }

    public float ReadLoss() => _head.ReadLoss();

    public void CommitTrainingStep(int rows)
    {
        foreach (GpuGraphStep step in _steps)
        {
            step.CommitTrainingStep(_pass, rows);
        }
    }

    public double EvaluateChunk(int rows, out long correct)
    {
        Forward(StepInputs.Slice(0, (long)rows * _widths[0]), rows);
        return _head.Evaluate(_pass.Rows(_outputValue, rows), rows, out correct);
    }

    public void Dispose()
    {
        foreach (GpuGraphStep step in _steps)
        {
            step.Dispose();
        }

        foreach (DeviceBuffer<float> buffer in _pass.Values.Concat(_pass.ValueGradients))
        {
            buffer.Dispose();
        }

        _pass.Scratch.Dispose();
        Parameters.Dispose();
        Gradients.Dispose();
        State.Dispose();
        _head.Dispose();
    }

    private void RunForward(ArrayView<float> input, int rows, bool training, long step, ulong seed)
    {
        EnsureCapacity(rows);
        _pass.Input = input;
        _pass.Training = training;
        _pass.Step = step;
        _pass.Seed = seed;
        foreach (GpuGraphStep graphStep in _steps)
        {
            graphStep.Forward(_pass, rows);
        }
    }
}
