using System.Globalization;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl;

/// <summary>
/// A data set checked once and kept where a device computes: on a GPU, inputs and labels (or targets) live
/// in device memory, so a training step on a slice of it copies nothing between host and device. On the
/// CPU backend it is the checked host arrays. Labels are range-checked and inputs and targets checked finite
/// here, at creation, because a step on device-resident data cannot check them without a copy.
/// </summary>
public sealed class DeviceDataSet : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _deviceInputs;
    private readonly MemoryBuffer1D<int, Stride1D.Dense>? _deviceLabels;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _deviceTargets;
    private bool _disposed;

    private DeviceDataSet(Device device, float[] inputs, int[]? labels, float[]? targets, int count, int inputSize, int outputSize)
    {
        Device = device;
        HostInputs = inputs;
        HostLabels = labels;
        HostTargets = targets;
        Count = count;
        InputSize = inputSize;
        OutputSize = outputSize;
        if (device.Gpu is { } gpu)
        {
            _deviceInputs = gpu.Accelerator.Allocate1D(inputs);
            _deviceLabels = labels is null ? null : gpu.Accelerator.Allocate1D(labels);
            _deviceTargets = targets is null ? null : gpu.Accelerator.Allocate1D(targets);
        }
    }

    /// <summary>The device the data lives on.</summary>
    public Device Device { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Floats per input sample.</summary>
    public int InputSize { get; }

    /// <summary>Number of classes (classification) or floats per target (regression).</summary>
    public int OutputSize { get; }

    /// <summary>True when the set holds class labels; false when it holds regression targets.</summary>
    public bool IsClassification => HostLabels is not null;

    /// <summary>The inputs, (Count, InputSize) row-major, as checked at creation.</summary>
    public ReadOnlySpan<float> Inputs => HostInputs;

    /// <summary>The labels (Count) in [0, OutputSize), or empty for a regression set.</summary>
    public ReadOnlySpan<int> Labels => HostLabels;

    /// <summary>The targets (Count, OutputSize), or empty for a classification set.</summary>
    public ReadOnlySpan<float> Targets => HostTargets;

    internal float[] HostInputs { get; }

    internal int[]? HostLabels { get; }

    internal float[]? HostTargets { get; }

    /// <summary>
    /// A classification set: <paramref name="inputs"/> (count, inputSize) and one label per sample in
    /// [0, classes). Everything is checked before anything is allocated.
    /// </summary>
    /// <exception cref="EmptyBatchException">inputs is empty.</exception>
    /// <exception cref="ShapeMismatchException">inputs is not a whole number of samples, or labels does not match them.</exception>
    /// <exception cref="LabelOutOfRangeException">a label is outside [0, classes).</exception>
    /// <exception cref="NonFiniteValueException">an input is NaN or infinite (the first is named by row and column).</exception>
    public static DeviceDataSet ForClassification(Device device, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int inputSize, int classes)
    {
        ArgumentNullException.ThrowIfNull(device);
        InputChecks.Positive(inputSize, nameof(inputSize));
        InputChecks.Positive(classes, nameof(classes));
        int count = InputChecks.BatchSize(inputs.Length, inputSize, nameof(inputs));
        InputChecks.Labels(labels, count, classes, nameof(labels));
        FiniteChecks.Values(inputs, inputSize, nameof(inputs));
        return new DeviceDataSet(device, inputs.ToArray(), labels.ToArray(), null, count, inputSize, classes);
    }

    /// <summary>A regression set: <paramref name="inputs"/> (count, inputSize) and <paramref name="targets"/> (count, outputSize).</summary>
    /// <exception cref="EmptyBatchException">inputs is empty.</exception>
    /// <exception cref="ShapeMismatchException">inputs is not a whole number of samples, or targets does not match them.</exception>
    /// <exception cref="NonFiniteValueException">an input or a target is NaN or infinite (the first is named by row and column).</exception>
    public static DeviceDataSet ForRegression(Device device, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int inputSize, int outputSize)
    {
        ArgumentNullException.ThrowIfNull(device);
        InputChecks.Positive(inputSize, nameof(inputSize));
        InputChecks.Positive(outputSize, nameof(outputSize));
        int count = InputChecks.BatchSize(inputs.Length, inputSize, nameof(inputs));
        InputChecks.Length(targets.Length, checked(count * outputSize), nameof(targets));
        FiniteChecks.Values(inputs, inputSize, nameof(inputs));
        FiniteChecks.Values(targets, outputSize, nameof(targets));
        return new DeviceDataSet(device, inputs.ToArray(), null, targets.ToArray(), count, inputSize, outputSize);
    }

    /// <summary>
    /// Checks that rows [start, start + count) exist and that the set fits a network with the given widths
    /// on <paramref name="device"/>. Generated training steps call this before touching any state.
    /// </summary>
    /// <exception cref="ArgumentException">The set lives on another device, or is of the wrong kind.</exception>
    /// <exception cref="ShapeMismatchException">The set's widths differ from the network's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The rows are not inside the set.</exception>
    /// <exception cref="EmptyBatchException">count is 0.</exception>
    public void CheckSlice(Device device, int inputSize, int outputSize, bool classification, int start, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!ReferenceEquals(device, Device))
        {
            throw new ArgumentException($"The data set lives on {Device.Name}, but the network computes on {device.Name}; create the set on the network's device.", "data");
        }

        if (classification != IsClassification)
        {
            throw new ArgumentException(classification
                ? "The network is a classifier and needs labels, but the data set holds regression targets."
                : "The network is a regressor and needs targets, but the data set holds class labels.", "data");
        }

        if (inputSize != InputSize)
        {
            throw new ShapeMismatchException("data", string.Create(CultureInfo.InvariantCulture, $"{inputSize} floats per input sample"), string.Create(CultureInfo.InvariantCulture, $"{InputSize}"));
        }

        if (outputSize != OutputSize)
        {
            throw new ShapeMismatchException("data", classification ? string.Create(CultureInfo.InvariantCulture, $"{outputSize} classes") : string.Create(CultureInfo.InvariantCulture, $"{outputSize} floats per target"), string.Create(CultureInfo.InvariantCulture, $"{OutputSize}"));
        }

        if (count == 0)
        {
            throw new EmptyBatchException(nameof(count));
        }

        if (start < 0 || count < 0 || start > Count - count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), string.Create(CultureInfo.InvariantCulture, $"Rows [{start}, {(long)start + count}) are not inside the data set's {Count} samples."));
        }
    }

    /// <summary>Inputs of rows [start, start + count) in device memory: (count, InputSize). For generated code; call <see cref="CheckSlice"/> first.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public ArrayView<float> DeviceInputs(int start, int count) => _deviceInputs!.View.SubView((long)start * InputSize, (long)count * InputSize);

    /// <summary>Labels of rows [start, start + count) in device memory: (count). For generated code.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public ArrayView<int> DeviceLabels(int start, int count) => _deviceLabels!.View.SubView((long)start, count);

    /// <summary>Targets of rows [start, start + count) in device memory: (count, OutputSize). For generated code.</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public ArrayView<float> DeviceTargets(int start, int count) => _deviceTargets!.View.SubView((long)start * OutputSize, (long)count * OutputSize);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _deviceInputs?.Dispose();
        _deviceLabels?.Dispose();
        _deviceTargets?.Dispose();
    }
}
