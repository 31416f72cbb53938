using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Graphs;

/// <summary>
/// What every GPU sequence of a network shares around its layers: the step's input, label and target buffers, the
/// loss kernel (softmax cross-entropy or mean squared error) with the per-row losses, the mean the step reads back,
/// and the evaluation of a chunk of rows.
/// </summary>
internal sealed class GpuLossHead : IDisposable
{
    private readonly AcceleratorStream _stream;
    private readonly int _inputWidth;
    private readonly int _outputWidth;
    private readonly GpuSoftmaxCrossEntropy? _softmax;
    private readonly GpuMeanSquaredError? _squared;
    private readonly GpuReduction _reduction;
    private readonly DeviceBuffer<float> _rowLosses;        // (capacity) each row's loss in the last step
    private readonly DeviceBuffer<float> _evaluationLosses; // (capacity) Evaluate's per-row losses
    private readonly DeviceBuffer<int> _rowCorrect;         // (capacity) 1 where argmax = label (classifiers)
    private readonly DeviceBuffer<float> _loss;             // (1) the mean of the row losses, read by each step
    private float[] _hostRowLosses = [];
    private int[] _hostRowCorrect = [];
    private int _lossRows;

    public GpuLossHead(GpuAccelerator gpu, int inputWidth, int outputWidth, Loss loss)
    {
        _stream = gpu.Accelerator.DefaultStream;
        _inputWidth = inputWidth;
        _outputWidth = outputWidth;
        _softmax = loss == Loss.SoftmaxCrossEntropy ? new GpuSoftmaxCrossEntropy(gpu) : null;
        _squared = _softmax is null ? new GpuMeanSquaredError(gpu) : null;
        _reduction = new GpuReduction(gpu);
        StepInputs = new DeviceBuffer<float>(gpu, 0);
        StepLabels = new DeviceBuffer<int>(gpu, 0);
        StepTargets = new DeviceBuffer<float>(gpu, 0);
        _rowLosses = new DeviceBuffer<float>(gpu, 0);
        _evaluationLosses = new DeviceBuffer<float>(gpu, 0);
        _rowCorrect = new DeviceBuffer<int>(gpu, 0);
        _loss = new DeviceBuffer<float>(gpu, 1);
    }

    /// <summary>(capacity, inputs): host batches copied in.</summary>
    public DeviceBuffer<float> StepInputs { get; }

    /// <summary>(capacity) class labels, for classifiers.</summary>
    public DeviceBuffer<int> StepLabels { get; }

    /// <summary>(capacity, outputs) float targets, for regression.</summary>
    public DeviceBuffer<float> StepTargets { get; }

    /// <summary>The per-row losses of the last step, (rows): where a fused kernel writes them itself.</summary>
    public ArrayView<float> RowLosses(int rows)
    {
        _lossRows = rows;
        return _rowLosses.Slice(0, rows);
    }

    public void EnsureCapacity(int rows)
    {
        StepInputs.EnsureLength(checked((long)rows * _inputWidth));
        if (_softmax is not null)
        {
            StepLabels.EnsureLength(rows);
            _rowCorrect.EnsureLength(rows);
        }
        else
        {
            StepTargets.EnsureLength(checked((long)rows * _outputWidth));
        }

        _rowLosses.EnsureLength(rows);
        _evaluationLosses.EnsureLength(rows);
    }

    /// <summary>Each row's loss, and the loss's gradient d loss / d output (rows, outputs), a mean over the rows.</summary>
    public void ForwardBackward(ArrayView<float> output, ArrayView<int> labels, ArrayView<float> targets, ArrayView<float> dOutput, int rows)
    {
        if (_softmax is not null)
        {
            _softmax.ForwardBackward(_stream, output, labels, dOutput, RowLosses(rows), rows, _outputWidth);
        }
        else
        {
            _squared!.ForwardBackward(_stream, output, targets, dOutput, RowLosses(rows), rows, _outputWidth);
        }
    }

    /// <summary>The mean of the last step's row losses: one reduction launch and a one-float copy (waits for the stream).</summary>
    public float ReadLoss()
    {
        _reduction.Mean(_stream, _rowLosses.Slice(0, _lossRows), _lossRows, _loss.View);
        Span<float> mean = stackalloc float[1];
        _loss.Download(_stream, mean);
        return mean[0];
    }

    /// <summary>The loss sum of <paramref name="rows"/> outputs against the step buffers' labels or targets, and the correct count of a classifier.</summary>
    public double Evaluate(ArrayView<float> output, int rows, out long correct)
    {
        if (_hostRowLosses.Length < rows)
        {
            _hostRowLosses = new float[rows];
            _hostRowCorrect = new int[rows];
        }

        if (_softmax is not null)
        {
            _softmax.Forward(_stream, output, StepLabels.Slice(0, rows), _evaluationLosses.Slice(0, rows), _rowCorrect.Slice(0, rows), rows, _outputWidth);
        }
        else
        {
            _squared!.Forward(_stream, output, StepTargets.Slice(0, (long)rows * _outputWidth), _evaluationLosses.Slice(0, rows), rows, _outputWidth);
        }

        _evaluationLosses.Download(_stream, _hostRowLosses.AsSpan(0, rows));
        double sum = 0;
        for (int row = 0; row < rows; row++)
        {
            sum += _hostRowLosses[row];
        }

        correct = 0;
        if (_softmax is not null)
        {
            _rowCorrect.Download(_stream, _hostRowCorrect.AsSpan(0, rows));
            for (int row = 0; row < rows; row++)
            {
                correct += _hostRowCorrect[row];
            }
        }

        return sum;
    }

    public void Dispose()
    {
        StepInputs.Dispose();
        StepLabels.Dispose();
        StepTargets.Dispose();
        _rowLosses.Dispose();
        _evaluationLosses.Dispose();
        _rowCorrect.Dispose();
        _loss.Dispose();
    }
}
