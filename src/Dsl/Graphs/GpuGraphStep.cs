using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Graphs;

/// <summary>
/// One op of a graph network on the GPU, the twin of a <see cref="GraphStep"/> (which creates it, and whose file holds
/// both): forward over the batch's rows, backward writing (or adding to, as the CPU step's plan says) its inputs'
/// gradients and overwriting its parameters' gradients. Everything is queued on the pass's stream.
/// </summary>
internal abstract class GpuGraphStep : IDisposable
{
    /// <summary>Grows the device buffers the step keeps for its backward to <paramref name="rows"/> rows.</summary>
    public virtual void EnsureCapacity(int rows)
    {
    }

    public abstract void Forward(GpuGraphPass pass, int rows);

    public abstract void Backward(GpuGraphPass pass, int rows);

    /// <summary>Runs once a training step's loss has passed its check: what the step keeps beyond the step (running statistics).</summary>
    public virtual void CommitTrainingStep(GpuGraphPass pass, int rows)
    {
    }

    public virtual void Dispose()
    {
    }
}

/// <summary>
/// What a GPU forward or backward reads and writes: every value and its gradient (value 0 is the batch's input view),
/// the parameters and their gradients on the device, a scratch buffer for a consumer that cannot add its share of a
/// gradient itself, and whether it trains (dropout on) at which step with which seed.
/// </summary>
internal sealed class GpuGraphPass
{
    public required AcceleratorStream Stream { get; init; }

    public required int[] Widths { get; init; }

    /// <summary>Values 1.. (capacity, width) each; value 0 is <see cref="Input"/>.</summary>
    public required DeviceBuffer<float>[] Values { get; init; }

    /// <summary>Every value's gradient, value 0's included (a norm on the input writes it, no one reads it).</summary>
    public required DeviceBuffer<float>[] ValueGradients { get; init; }

    public required DeviceBuffer<float> Parameters { get; init; }

    public required DeviceBuffer<float> Gradients { get; init; }

    /// <summary>The non-trainable state (running statistics), the host state buffer's layout.</summary>
    public required DeviceBuffer<float> State { get; init; }

    /// <summary>(capacity, widest value): where a dense layer's dX goes before it is added to a gradient others wrote.</summary>
    public required DeviceBuffer<float> Scratch { get; init; }

    /// <summary>The adds of gradients of values with several consumers.</summary>
    public required GpuResidualAdd Adds { get; init; }

    public ArrayView<float> Input { get; set; }

    public bool Training { get; set; }

    public long Step { get; set; }

    public ulong Seed { get; set; }

    /// <summary>Rows [0, rows) of value <paramref name="value"/>: (rows, width).</summary>
    public ArrayView<float> Rows(int value, int rows)
        => value == 0 ? Input.SubView(0, (long)rows * Widths[0]) : Values[value].Slice(0, (long)rows * Widths[value]);

    /// <summary>Rows [0, rows) of value <paramref name="value"/>'s gradient.</summary>
    public ArrayView<float> GradientRows(int value, int rows) => ValueGradients[value].Slice(0, (long)rows * Widths[value]);

    /// <summary>A parameter slice, or empty for an offset of -1.</summary>
    public ArrayView<float> Parameter(int offset, int length) => offset < 0 || length == 0 ? default : Parameters.Slice(offset, length);

    /// <summary>A parameter gradient slice, or empty for an offset of -1.</summary>
    public ArrayView<float> ParameterGradient(int offset, int length) => offset < 0 || length == 0 ? default : Gradients.Slice(offset, length);
}
