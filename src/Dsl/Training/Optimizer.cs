using Dsl.Cpu;
using System.Globalization;
using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Training;

/// <summary>
/// A first-order optimizer over one contiguous parameter buffer. <see cref="Step(Span{float}, ReadOnlySpan{float})"/> checks its
/// arguments, binds the optimizer's state (momentum, first and second moments) to the buffer's length on
/// the first call, counts the step and hands the update to the subclass, which applies it in one fused pass.
/// </summary>
/// <remarks>
/// The buffer may also live on a GPU (the device <c>Step</c> overload). The first step binds the state
/// to a length and to a place: the host, or one <see cref="GpuAccelerator"/>, whose device buffers then hold the
/// state. State is never moved between places: a bound optimizer used on another device, on the host after a
/// device or on a device after the host throws <see cref="InvalidOperationException"/> (nothing changed) until
/// <see cref="Reset"/>, or until <c>Dsl.IO.TrainingCheckpoint.Load</c> rebinds it to the loaded network's device. Device buffers are allocated once, on the first device step, and freed by
/// <see cref="Reset"/> (or with their accelerator when it is disposed first), so the optimizer needs no
/// <see cref="IDisposable"/> and no finalizer: an optimizer dropped while bound leaves its buffers to the
/// accelerator's lifetime.
/// </remarks>
public abstract class Optimizer
{
    private float _learningRate;

    // This step's factor on the learning rate (a network's schedule) and the parameter ranges it does not decay, set by
    // the network's training step for the length of one update (see Step with a StepPolicy); 1 and none otherwise.
    private double _rateFactor = 1.0;
    private ParameterRange[] _decayExempt = [];

    // Length of the buffer the state was sized for; -1 while unbound.
    private int _boundLength = -1;

    // Where the bound state lives: null on the host (or while unbound), else the accelerator holding its buffers.
    private GpuAccelerator? _boundDevice;

    // The standalone update kernel of _boundDevice for this optimizer's rule (DeviceRule picks which field), loaded
    // by the first device Step (not by BeginDeviceStep).
    private Action<AcceleratorStream, Index1D, ArrayView<float>, SgdUpdate>? _sgdUpdate;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, AdamUpdate>? _adamUpdate;

    /// <summary>Creates the optimizer with the given learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative, NaN or infinite.</exception>
    protected Optimizer(float learningRate)
    {
        LearningRate = learningRate;
    }

    /// <summary>Step size; finite and non-negative. May be changed between steps (a schedule).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, NaN or infinite; the rate is left unchanged.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            RequireFiniteNonNegative(value, nameof(LearningRate));
            _learningRate = value;
        }
    }

    /// <summary>
    /// The learning rate this update applies: <see cref="LearningRate"/> times the factor of the network's schedule for
    /// this step (see <see cref="LearningRateSchedule"/>), or <see cref="LearningRate"/> itself when stepped directly.
    /// </summary>
    private protected float StepLearningRate => _rateFactor == 1.0 ? _learningRate : (float)(_learningRate * _rateFactor);

    /// <summary>Whether the optimizer has a weight decay term (then a step honours the network's decay exemptions).</summary>
    internal virtual bool HasWeightDecay => false;

    /// <summary>Number of updates applied since construction or the last <see cref="Reset"/>.</summary>
    public long StepCount { get; private set; }

    /// <summary>
    /// Applies one update to <paramref name="parameters"/> from <paramref name="gradients"/> of the same length.
    /// The first call sizes the optimizer's state for that length; later calls must pass the same length.
    /// Everything is checked before anything changes.
    /// </summary>
    /// <param name="parameters">All parameters, updated in place: (parameterCount).</param>
    /// <param name="gradients">d loss / d parameters, laid out as <paramref name="parameters"/>: (parameterCount).</param>
    /// <exception cref="ArgumentException">The two lengths differ.</exception>
    /// <exception cref="InvalidOperationException">The state is bound to another length, or to a GPU.</exception>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        BeginHostStep(parameters.Length, gradients.Length);
        if (UpdatesStretches)
        {
            UpdatePieces(parameters, gradients, 0);
        }
        else
        {
            Update(parameters, gradients);
        }
    }

    /// <summary>
    /// One update as a network's training step applies it: the learning rate times <paramref name="rateFactor"/> (its
    /// schedule's factor for this step), and no weight decay on <paramref name="decayExempt"/> (biases and norm parameters,
    /// sorted, disjoint). An optimizer defined outside this library gets the factor but updates the whole buffer its way.
    /// </summary>
    internal void Step(float[] parameters, float[] gradients, CpuWorkers? workers, double rateFactor, ParameterRange[] decayExempt)
    {
        _rateFactor = rateFactor;
        _decayExempt = HasWeightDecay ? decayExempt : [];
        try
        {
            Step(parameters, gradients, workers);
        }
        finally
        {
            _rateFactor = 1.0;
            _decayExempt = [];
        }
    }

    /// <summary>
    /// As <see cref="Step(float[], float[], CpuWorkers?, double, ParameterRange[])"/> on a GPU: the standalone update, one launch per run of
    /// decayed or exempt parameters, after the caller's kernels wrote (and clipped) the gradients.
    /// </summary>
    internal void Step(GpuAccelerator gpu, AcceleratorStream stream, ArrayView<float> parameters, ArrayView<float> gradients, double rateFactor, ParameterRange[] decayExempt)
    {
        _rateFactor = rateFactor;
        _decayExempt = HasWeightDecay ? decayExempt : [];
        try
        {
            Step(gpu, stream, parameters, gradients);
        }
        finally
        {
            _rateFactor = 1.0;
            _decayExempt = [];
        }
    }

    /// <summary>As <see cref="BeginDeviceStep(GpuAccelerator, AcceleratorStream, ArrayView{float})"/>, with the learning rate times <paramref name="rateFactor"/> (a network's schedule).</summary>
    internal GpuParameterUpdate BeginScheduledDeviceStep(GpuAccelerator gpu, AcceleratorStream stream, ArrayView<float> parameters, double rateFactor)
    {
        _rateFactor = rateFactor;
        try
        {
            return BeginDeviceStep(gpu, stream, parameters);
        }
        finally
        {
            _rateFactor = 1.0;
        }
    }

    /// <summary>
    /// Updates parameters [start, start + parameters.Length) of the buffer in runs: each run inside a decay exemption
    /// without the weight decay, each run between them with it.
    /// </summary>
    private void UpdatePieces(Span<float> parameters, ReadOnlySpan<float> gradients, int start)
    {
        int end = start + parameters.Length;
        int at = start;
        foreach (ParameterRange range in _decayExempt)
        {
            if (range.End <= at)
            {
                continue;
            }

            if (range.Start >= end)
            {
                break;
            }

            int from = Math.Max(range.Start, at);
            int to = Math.Min(range.End, end);
            if (from > at)
            {
                UpdateStretch(parameters[(at - start)..(from - start)], gradients[(at - start)..(from - start)], at, decays: true);
            }

            UpdateStretch(parameters[(from - start)..(to - start)], gradients[(from - start)..(to - start)], from, decays: false);
            at = to;
        }

        if (at < end)
        {
            UpdateStretch(parameters[(at - start)..], gradients[(at - start)..], at, decays: true);
        }
    }

    /// <summary>
    /// As <see cref="Step(Span{float}, ReadOnlySpan{float})"/>, with a large buffer's update split into stretches run on
    /// <paramref name="workers"/> when the optimizer updates stretches (SGD, Adam and AdamW do). Every stretch but the
    /// last is a whole number of vectors long, so each parameter takes the same arithmetic as in one pass: the result is
    /// bitwise the same.
    /// </summary>
    /// <exception cref="ArgumentException">The two lengths differ.</exception>
    /// <exception cref="InvalidOperationException">The state is bound to another length, or to a GPU.</exception>
    public void Step(float[] parameters, float[] gradients, CpuWorkers? workers)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(gradients);
        int stretches = workers is null || !UpdatesStretches ? 1 : Math.Clamp(parameters.Length / MinimumStretch, 1, workers.ThreadCount);
        if (stretches == 1)
        {
            Step(parameters, gradients);
            return;
        }

        BeginHostStep(parameters.Length, gradients.Length);
        workers!.Run(stretches, new StretchTask(this, parameters, gradients, stretches));
    }

    /// <summary>Fewest parameters a stretch of a threaded update gets; below this the fork-join costs more than it saves.</summary>
    public const int MinimumStretch = 1 << 16;

    private void BeginHostStep(int parameterCount, int gradientCount)
    {
        if (gradientCount != parameterCount)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Expected one gradient per parameter ({parameterCount}), got {gradientCount}."),
                "gradients");
        }

        CheckCompatible(null, parameterCount);
        if (_boundLength < 0)
        {
            AllocateState(parameterCount);
            _boundLength = parameterCount;
        }

        StepCount++;
    }

    /// <summary>Stretch <paramref name="index"/> of <paramref name="count"/>: starts at multiples of 64 parameters, the last one takes the rest.</summary>
    private static (int Start, int Length) Stretch(int index, int count, int length)
    {
        int start = (int)((long)length * index / count) & ~63;
        int end = index == count - 1 ? length : (int)((long)length * (index + 1) / count) & ~63;
        return (start, end - start);
    }

    private readonly struct StretchTask(Optimizer optimizer, float[] parameters, float[] gradients, int count) : ICpuTask
    {
        public void Execute(int index)
        {
            (int start, int length) = Stretch(index, count, parameters.Length);
            optimizer.UpdatePieces(parameters.AsSpan(start, length), gradients.AsSpan(start, length), start);
        }
    }

    /// <summary>Whether <see cref="UpdateStretch"/> is implemented, so a threaded step can split the update.</summary>
    private protected virtual bool UpdatesStretches => false;

    /// <summary>
    /// Applies update number <see cref="StepCount"/> to the parameters [start, start + parameters.Length) of the buffer,
    /// with the state of the same positions, with the weight decay when <paramref name="decays"/>; stretches of one step
    /// run concurrently on disjoint positions.
    /// </summary>
    private protected virtual void UpdateStretch(Span<float> parameters, ReadOnlySpan<float> gradients, int start, bool decays)
        => throw new NotSupportedException($"{GetType().Name} updates the whole buffer in one pass.");

    /// <summary>
    /// Throws unless the state fits a buffer of <paramref name="parameterCount"/> parameters. Generated training
    /// steps (host and GPU alike) call it before their forward pass, so an optimizer bound to another network is
    /// refused before anything changes. It checks the length only: where the state lives (host or which GPU) is
    /// checked by the step itself, still before the parameters change.
    /// </summary>
    /// <exception cref="InvalidOperationException">The state is bound to another length.</exception>
    public void CheckCompatible(int parameterCount)
    {
        if (_boundLength >= 0 && _boundLength != parameterCount)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"This {GetType().Name} holds state for {_boundLength} parameters and cannot step a buffer of {parameterCount}; call Reset() to rebind it or use one optimizer per buffer."));
        }
    }

    /// <summary>
    /// Throws unless a step on <paramref name="gpu"/> (null: the host) would accept a buffer of
    /// <paramref name="parameterCount"/> parameters.
    /// </summary>
    /// <exception cref="InvalidOperationException">The state is bound to another length or another place.</exception>
    public void CheckCompatible(GpuAccelerator? gpu, int parameterCount)
    {
        CheckCompatible(parameterCount);
        if (_boundLength >= 0 && !ReferenceEquals(_boundDevice, gpu))
        {
            string bound = _boundDevice is null ? "on the host" : $"on the GPU {_boundDevice}";
            string requested = gpu is null ? "on the host" : $"on the GPU {gpu}";
            throw new InvalidOperationException(
                $"This {GetType().Name} holds its state {bound} and cannot step parameters {requested}; state is not moved between devices: call Reset() to rebind it or use one optimizer per device.");
        }
    }

    /// <summary>
    /// Applies one update to <paramref name="parameters"/> on <paramref name="gpu"/>, queued on <paramref name="stream"/>,
    /// with the checks, binding and <see cref="StepCount"/> of the host <see cref="Step(Span{float}, ReadOnlySpan{float})"/>: one launch of the
    /// standalone update kernel over the buffer. The first call allocates the state on the device (zeroed on
    /// <paramref name="stream"/>) and loads the kernel; later calls only launch it, allocating nothing. Nothing is copied to or from the host.
    /// </summary>
    /// <param name="gpu">The accelerator the buffers live on.</param>
    /// <param name="stream">Stream of that accelerator the update is queued on (after whatever wrote the gradients).</param>
    /// <param name="parameters">All parameters, updated in place: (parameterCount).</param>
    /// <param name="gradients">d loss / d parameters, laid out as <paramref name="parameters"/>: (parameterCount).</param>
    /// <exception cref="ArgumentException">The two lengths differ or exceed int.MaxValue, or the stream is another accelerator's.</exception>
    /// <exception cref="InvalidOperationException">The state is bound to another length or another place.</exception>
    /// <exception cref="NotSupportedException">The optimizer has no GPU implementation.</exception>
    public void Step(GpuAccelerator gpu, AcceleratorStream stream, ArrayView<float> parameters, ArrayView<float> gradients)
    {
        if (gradients.Length != parameters.Length)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Expected one gradient per parameter ({parameters.Length}), got {gradients.Length}."),
                nameof(gradients));
        }

        CheckDeviceStep(gpu, stream, parameters);
        // Loaded (compiled once per accelerator) after the checks and before anything changes. Steps that fuse the
        // update into their own kernels (BeginDeviceStep) never load it. A launcher already held is the bound device's.
        var sgdUpdate = DeviceRule == GpuUpdateRule.Sgd ? _sgdUpdate ?? GpuOptimizerKernels.Load<SgdUpdate>(gpu) : null;
        var adamUpdate = DeviceRule == GpuUpdateRule.Adam ? _adamUpdate ?? GpuOptimizerKernels.Load<AdamUpdate>(gpu) : null;
        GpuParameterUpdate update = BeginDeviceStep(gpu, stream, parameters);
        _sgdUpdate = sgdUpdate;
        _adamUpdate = adamUpdate;
        int length = (int)parameters.Length;
        if (length == 0)
        {
            return;
        }

        // DeviceRule is fixed per optimizer type and DeviceUpdate builds an update of that rule. One launch per run of
        // decayed or exempt parameters (one launch over everything without exemptions).
        int at = 0;
        foreach (ParameterRange range in _decayExempt)
        {
            if (range.Start > at)
            {
                Launch(at, range.Start - at, update);
            }

            Launch(range.Start, range.Length, update.WithoutDecay());
            at = range.End;
        }

        if (at < length)
        {
            Launch(at, length - at, update);
        }

        void Launch(int start, int count, GpuParameterUpdate rule)
        {
            ArrayView<float> slice = gradients.SubView(start, count);
            if (rule.Rule == GpuUpdateRule.Sgd)
            {
                sgdUpdate!(stream, count, slice, rule.At(start).Sgd);
            }
            else
            {
                adamUpdate!(stream, count, slice, rule.At(start).Adam);
            }
        }
    }

    /// <summary>
    /// Starts one update of <paramref name="parameters"/> on <paramref name="gpu"/> that the caller applies inside its own
    /// kernels, where each gradient is finished: the generated training steps pass the returned value to every
    /// weight-gradient GEMM and bias reduction (layer by layer) or to the reduction of the gradient slots (fully fused),
    /// so a step needs no separate update pass. Checks, binds the state (allocated and zeroed on <paramref name="stream"/>
    /// on the first call) and counts the step like <see cref="Step(GpuAccelerator, AcceleratorStream, ArrayView{float}, ArrayView{float})"/>,
    /// which is this plus one launch applying the update to the whole buffer.
    /// </summary>
    /// <remarks>
    /// The step counts as taken when this returns; it cannot be cancelled. So check the arguments of the kernels that
    /// will apply it first (the generated steps do), or an exception from one of them leaves a counted step whose
    /// update was applied to only some parameters, or to none.
    /// </remarks>
    /// <returns>
    /// The update over the whole buffer. The caller must apply its rule (<see cref="GpuParameterUpdate.Sgd"/> or
    /// <see cref="GpuParameterUpdate.Adam"/>, by <see cref="GpuParameterUpdate.Rule"/>) exactly once to every parameter, in
    /// kernels queued on <paramref name="stream"/> before the next step, each after the last read of that parameter's old value.
    /// </returns>
    /// <exception cref="ArgumentException">The buffer holds more than int.MaxValue floats, or the stream is another accelerator's.</exception>
    /// <exception cref="InvalidOperationException">The state is bound to another length or another place.</exception>
    /// <exception cref="NotSupportedException">The optimizer has no GPU implementation.</exception>
    public GpuParameterUpdate BeginDeviceStep(GpuAccelerator gpu, AcceleratorStream stream, ArrayView<float> parameters)
    {
        CheckDeviceStep(gpu, stream, parameters);
        int length = (int)parameters.Length;
        if (_boundLength < 0)
        {
            AllocateDeviceState(gpu, stream, length);
            _boundLength = length;
            _boundDevice = gpu;
        }

        StepCount++;
        return DeviceUpdate(parameters);
    }

    /// <summary>Everything a device step checks before it changes or compiles anything.</summary>
    private void CheckDeviceStep(GpuAccelerator gpu, AcceleratorStream stream, ArrayView<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        GpuReduction.CheckStream(stream, gpu.Accelerator);
        if (parameters.Length > int.MaxValue)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"At most {int.MaxValue} parameters per buffer; got {parameters.Length}."),
                nameof(parameters));
        }

        CheckCompatible(gpu, (int)parameters.Length);
        if (DeviceRule == GpuUpdateRule.None)
        {
            throw new NotSupportedException($"{GetType().Name} has no GPU implementation; step it on the host.");
        }
    }

    /// <summary>
    /// Forgets the state (momentum, moments, step count) so the next <see cref="Step(Span{float}, ReadOnlySpan{float})"/> starts afresh with any length,
    /// on the host or any GPU. State on a GPU is freed after waiting for that accelerator's queued work.
    /// </summary>
    public void Reset()
    {
        GpuAccelerator? device = _boundDevice;
        _boundLength = -1;
        _boundDevice = null;
        StepCount = 0;
        if (device is not null)
        {
            // Queued updates may still use the buffers; a disposed accelerator has freed them already.
            if (!device.Accelerator.IsDisposed)
            {
                device.Accelerator.Synchronize();
            }

            ReleaseDeviceState();
            _sgdUpdate = null;
            _adamUpdate = null;
        }
        else
        {
            ReleaseState();
        }
    }

    /// <summary>
    /// The state a training checkpoint holds (Dsl.IO.TrainingCheckpoint): the step count, the length the state is
    /// bound to (-1 while unbound) and a copy of each state buffer (on a GPU, downloaded after the accelerator's queued
    /// work is done). Only for optimizers of this library (<see cref="SupportsCheckpoint"/>).
    /// </summary>
    internal (long StepCount, int Length, float[][] Buffers) ExportState()
    {
        if (_boundLength < 0)
        {
            return (StepCount, -1, []);
        }

        if (_boundDevice is not null)
        {
            _boundDevice.Accelerator.Synchronize();
        }

        var buffers = new float[CheckpointBufferCount][];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new float[_boundLength];
            CopyStateBuffer(i, _boundDevice, buffers[i]);
        }

        return (StepCount, _boundLength, buffers);
    }

    /// <summary>
    /// Replaces the state with a checkpoint's: forgets the current state (<see cref="Reset"/>), then, unless
    /// <paramref name="length"/> is -1 (a checkpoint taken before the first step, step count 0), binds it to that length
    /// on <paramref name="place"/> (null: the host), fills it from <paramref name="buffers"/>
    /// (<see cref="CheckpointBufferCount"/> arrays of <paramref name="length"/> floats, checked by the caller) and sets
    /// the step count. If the device fails on the way (an allocation, a copy), the optimizer is left reset, as after
    /// <see cref="Reset"/>: never bound to half-written state.
    /// </summary>
    internal void ImportState(GpuAccelerator? place, long stepCount, int length, float[][] buffers)
    {
        Reset();
        if (length < 0)
        {
            return;
        }

        try
        {
            // Bound first, so that a failure below is undone by Reset, which frees whatever was allocated where.
            _boundLength = length;
            _boundDevice = place;
            if (place is null)
            {
                AllocateState(length);
            }
            else
            {
                AllocateDeviceState(place, place.Accelerator.DefaultStream, length);
            }

            for (int i = 0; i < buffers.Length; i++)
            {
                WriteStateBuffer(i, place, buffers[i]);
            }

            place?.Accelerator.DefaultStream.Synchronize();
            StepCount = stepCount;
        }
        catch
        {
            Reset();
            throw;
        }
    }

    /// <summary>Whether a training checkpoint can hold this optimizer's state: true for the optimizers of this library.</summary>
    internal bool SupportsCheckpoint => CheckpointBufferCount >= 0;

    /// <summary>The number of state buffers a checkpoint of this optimizer holds once it has stepped.</summary>
    internal int CheckpointBuffers => CheckpointBufferCount;

    /// <summary>
    /// How many state buffers of the bound length this optimizer keeps (Adam: m and v; SGD: the momentum buffer when
    /// it has momentum); -1 for an optimizer a checkpoint cannot hold, as any defined outside this library.
    /// </summary>
    private protected virtual int CheckpointBufferCount => -1;

    /// <summary>Copies state buffer <paramref name="index"/> (on <paramref name="place"/>, or the host when null) into <paramref name="destination"/>.</summary>
    private protected virtual void CopyStateBuffer(int index, GpuAccelerator? place, Span<float> destination)
        => throw new NotSupportedException($"{GetType().Name} has no checkpointable state.");

    /// <summary>Writes <paramref name="source"/> into state buffer <paramref name="index"/>, freshly allocated on <paramref name="place"/> (the host when null).</summary>
    private protected virtual void WriteStateBuffer(int index, GpuAccelerator? place, ReadOnlySpan<float> source)
        => throw new NotSupportedException($"{GetType().Name} has no checkpointable state.");

    /// <summary>Sizes the state for a buffer of <paramref name="length"/> parameters, all zero. Called once, before the first update.</summary>
    protected abstract void AllocateState(int length);

    /// <summary>Drops the state allocated by <see cref="AllocateState"/>.</summary>
    protected abstract void ReleaseState();

    /// <summary>
    /// Applies update number <see cref="StepCount"/> (already counted, starting at 1). The arguments are
    /// checked: equal lengths, matching the state's.
    /// </summary>
    protected abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients);

    /// <summary>
    /// The rule this optimizer's device updates use (<see cref="AllocateDeviceState"/> and <see cref="DeviceUpdate"/> are
    /// implemented for it). <see cref="GpuUpdateRule.None"/> by default: an optimizer without a GPU implementation only
    /// steps on the host.
    /// </summary>
    private protected virtual GpuUpdateRule DeviceRule => GpuUpdateRule.None;

    /// <summary>
    /// Allocates the state for <paramref name="length"/> parameters on <paramref name="gpu"/>, zeroed on
    /// <paramref name="stream"/>. Called once, before the first device update, when <see cref="DeviceRule"/> is not None.
    /// </summary>
    private protected virtual void AllocateDeviceState(GpuAccelerator gpu, AcceleratorStream stream, int length)
        => throw new NotSupportedException($"{GetType().Name} has no GPU implementation; step it on the host.");

    /// <summary>Frees what <see cref="AllocateDeviceState"/> allocated. The accelerator's queued work is finished.</summary>
    private protected virtual void ReleaseDeviceState()
    {
    }

    /// <summary>
    /// Update number <see cref="StepCount"/> (already counted, from 1) of <paramref name="parameters"/>, whose length
    /// matches the device state's, with the current hyperparameters.
    /// </summary>
    private protected virtual GpuParameterUpdate DeviceUpdate(ArrayView<float> parameters)
        => throw new NotSupportedException($"{GetType().Name} has no GPU implementation; step it on the host.");

    /// <summary>Throws unless <paramref name="value"/> is finite and non-negative.</summary>
    private protected static void RequireFiniteNonNegative(float value, string parameterName)
    {
        if (!(value >= 0f) || float.IsPositiveInfinity(value))
        {
            throw new ArgumentOutOfRangeException(parameterName, value, "Must be finite and non-negative.");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is in [0, 1).</summary>
    private protected static void RequireUnitInterval(float value, string parameterName)
    {
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentOutOfRangeException(parameterName, value, "Must be in [0, 1).");
        }
    }
}
