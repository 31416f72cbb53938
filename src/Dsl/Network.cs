using Dsl.Training;

namespace Dsl;

/// <summary>What every generated network exposes, whatever its layers and loss.</summary>
public interface INetwork : IDisposable
{
    Device Device { get; }

    int ParameterCount { get; }

    /// <summary>Elements of one input sample.</summary>
    int InputSize { get; }

    /// <summary>Elements of one output sample.</summary>
    int OutputSize { get; }

    ReadOnlySpan<int> InputShape { get; }

    ReadOnlySpan<int> OutputShape { get; }

    /// <summary>Every layer and residual add in the order they run, named by their paths (<c>Blocks[3].Up</c>, <c>Blocks[3]</c>).</summary>
    IReadOnlyList<Layer> Layers { get; }

    /// <summary>
    /// The network as it runs, one line per step: the value it writes, its path, its inputs, its op with its
    /// parameters' offsets, and what its backward writes (which gradients it overwrites or adds to, and the fusions).
    /// Generated networks implement it; this default, for other implementations, lists the layers.
    /// </summary>
    string Plan => string.Join("\n", Layers);

    /// <summary>All parameters in one buffer: per layer, weight (units, fanIn) then bias (units).</summary>
    Span<float> Parameters { get; }

    /// <summary>
    /// Copies all parameters, laid out as <see cref="Parameters"/>, into <paramref name="destination"/> (exactly
    /// <see cref="ParameterCount"/> floats, else <see cref="ShapeMismatchException"/> and nothing copied). Unlike
    /// reading <see cref="Parameters"/>, it hands out nothing writable, so on a GPU the next step does not upload
    /// the parameters again. Generated networks implement it; this default, for other implementations, copies
    /// from <see cref="Parameters"/>.
    /// </summary>
    void CopyParametersTo(Span<float> destination)
    {
        if (destination.Length != ParameterCount)
        {
            throw new ShapeMismatchException(nameof(destination), $"{ParameterCount} floats (one per parameter)", $"{destination.Length} floats");
        }

        Parameters.CopyTo(destination);
    }

    /// <summary>Gradients of the last ComputeGradients/TrainStep, laid out as <see cref="Parameters"/>.</summary>
    ReadOnlySpan<float> Gradients { get; }

    /// <summary>Outputs (batch, OutputSize) for inputs (batch, InputSize).</summary>
    void Predict(ReadOnlySpan<float> inputs, Span<float> outputs);

    /// <summary>Redraws every parameter from its declared initialiser.</summary>
    void ResetParameters(ulong seed);

    /// <summary>
    /// One training step on rows [start, start + count) of a data set kept on the network's device: on a GPU
    /// no host-device copy and no loss read-back.
    /// </summary>
    void TrainStep(DeviceDataSet data, int start, int count, Optimizer optimizer);

    /// <summary>The mean loss of the last step; on a GPU, reading it waits for the device and copies one float.</summary>
    float LastLoss { get; }

    /// <summary>
    /// What the training step does around the optimizer's update: learning-rate schedule, gradient clipping, which
    /// parameters decay (see <see cref="Dsl.Training.TrainingPolicy"/>). Generated networks implement it.
    /// </summary>
    TrainingPolicy Training => throw new NotSupportedException($"{GetType().Name} has no training policy.");

    /// <summary>The global norm of the last training step's gradients before clipping; NaN unless clipping was on.</summary>
    float LastGradientNorm => float.NaN;

    /// <summary>
    /// Every value's moments at initialisation as the declaration predicts them (see
    /// <see cref="Graphs.GraphNetwork.PredictSignal"/>). Generated networks implement it.
    /// </summary>
    SignalReport PredictSignal(int batchSize = 128) => throw new NotSupportedException($"{GetType().Name} does not predict its signal.");

    /// <summary>
    /// Every value's moments measured with the current parameters (see <see cref="Graphs.GraphNetwork.MeasureSignal"/>).
    /// Generated networks implement it.
    /// </summary>
    SignalReport MeasureSignal(ReadOnlySpan<float> inputs, ReadOnlySpan<float> outputGradients) => throw new NotSupportedException($"{GetType().Name} does not measure its signal.");
}

/// <summary>A network trained with softmax cross-entropy against integer class labels.</summary>
public interface IClassifierNetwork : INetwork
{
    float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Optimizer optimizer);

    float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels);

    Evaluation Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize = 1000);
}

/// <summary>A network trained with mean squared error against float targets.</summary>
public interface IRegressionNetwork : INetwork
{
    float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, Optimizer optimizer);

    float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets);

    Evaluation Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize = 1000);
}

/// <summary>Mean loss and accuracy over a data set (accuracy is NaN for regression).</summary>
public readonly record struct Evaluation(double Loss, double Accuracy, int Count);
