using Dsl.Cpu;

namespace Dsl.Graphs;

/// <summary>
/// One op of a graph network on the CPU, forward and backward side by side. Values are numbered: 0 is the network's
/// input, every step writes one new value (single assignment). A step reads its inputs' rows [row0, row0 + rows) and
/// writes the same rows of its output; in the backward it reads its output's gradient and writes (or, where the plan
/// says so, adds to) its inputs' gradients and overwrites its parameters' gradients.
/// </summary>
internal abstract class GraphStep(string path, int output)
{
    /// <summary>The layer's path in its network (<c>Blocks[3].Up</c>); the residual add of a block has its block's path.</summary>
    public string Path { get; } = path;

    /// <summary>The value this step writes.</summary>
    public int Output { get; } = output;

    /// <summary>The values this step reads, in the order its backward writes their gradients.</summary>
    public abstract int[] Inputs { get; }

    /// <summary>
    /// Per input: whether its backward adds to the input's gradient (another consumer, later in the forward, wrote it
    /// first) instead of overwriting it. Set by <see cref="GraphBuilder"/>'s backward plan.
    /// </summary>
    public bool[] Accumulate { get; set; } = [];

    /// <summary>Grows the buffers the step keeps for its backward to <paramref name="rows"/> rows.</summary>
    public virtual void EnsureCapacity(int rows)
    {
    }

    /// <summary>Floats of scratch the step needs per thread.</summary>
    public virtual int ScratchLength => 0;

    /// <summary>Whether the step's training forward reads every row of the batch at once (batch statistics), so the batch is not split across threads.</summary>
    public virtual bool NeedsWholeBatch => false;

    /// <summary>Runs once a training step has passed its checks (finite loss and gradients): what the step keeps beyond the step, such as running statistics.</summary>
    public virtual void CommitTrainingStep(GraphPass pass, int rows)
    {
    }

    /// <summary>The op's GPU twin on <paramref name="gpu"/>, reading this step's plan (its values and accumulations).</summary>
    public abstract GpuGraphStep CreateGpuStep(Dsl.Gpu.GpuAccelerator gpu);

    /// <summary>The op and its constants as the plan prints them: <c>Dense 40 -> 100, Relu, weight @0, bias @4000</c>.</summary>
    public abstract string Describe();

    public abstract void Forward(GraphPass pass, int row0, int rows);

    public abstract void Backward(GraphPass pass, int row0, int rows);
}

/// <summary>
/// What one forward or backward over a range of rows reads and writes: the workspace (every value and every value's
/// gradient, (capacity, width) each), the parameters, the gradient buffer this pass fills (the network's, or a thread's
/// share when the batch is split), scratch, and whether it trains (dropout on) at which step.
/// </summary>
internal sealed class GraphPass
{
    public required GraphWorkspace Workspace { get; init; }

    public required float[] Parameters { get; init; }

    /// <summary>The non-trainable state (running statistics).</summary>
    public float[] State { get; init; } = [];

    /// <summary>The parameter gradients this pass writes (same layout as <see cref="Parameters"/>).</summary>
    public required float[] Gradients { get; init; }

    public required float[] Scratch { get; init; }

    /// <summary>Threads for the GEMMs; null when the pass is itself one slice of a split batch.</summary>
    public CpuWorkers? Workers { get; init; }

    public bool Training { get; set; }

    /// <summary>The training step's number (dropout masks are keyed by it).</summary>
    public long Step { get; set; }

    /// <summary>The network's seed (dropout masks are keyed by it and the layer's path).</summary>
    public ulong Seed { get; set; }

    /// <summary>
    /// Set by <see cref="GraphNetwork.MeasureSignal"/>: every value is written unfused (a dense layer writes its own output
    /// before the add that closes its branch; an output gradient holds dy, never a fused dz) and the backward writes the
    /// network input's gradient too.
    /// </summary>
    public bool MeasuresSignal { get; init; }

    /// <summary>Rows [row0, row0 + rows) of value <paramref name="value"/>: (rows, width).</summary>
    public Span<float> Rows(int value, int row0, int rows)
        => Workspace.Values[value].AsSpan(row0 * Workspace.Widths[value], rows * Workspace.Widths[value]);

    /// <summary>Rows [row0, row0 + rows) of value <paramref name="value"/>'s gradient.</summary>
    public Span<float> GradientRows(int value, int row0, int rows)
        => Workspace.ValueGradients[value].AsSpan(row0 * Workspace.Widths[value], rows * Workspace.Widths[value]);
}

/// <summary>Every value of the graph and its gradient, (capacity, width) row-major, grown and never shrunk.</summary>
internal sealed class GraphWorkspace(int[] widths)
{
    public int[] Widths { get; } = widths;

    /// <summary>Value 0 is the step's input, copied in (a span cannot cross threads).</summary>
    public float[][] Values { get; } = Enumerable.Repeat(Array.Empty<float>(), widths.Length).ToArray();

    /// <summary>The gradient of each value. Value 0's is written by a norm on the input (for its parameters' gradients) and read by no one.</summary>
    public float[][] ValueGradients { get; } = Enumerable.Repeat(Array.Empty<float>(), widths.Length).ToArray();

    public int Capacity { get; private set; }

    public void EnsureCapacity(int rows, IReadOnlyList<GraphStep> steps)
    {
        if (rows <= Capacity)
        {
            return;
        }

        for (int value = 0; value < Widths.Length; value++)
        {
            Values[value] = new float[checked(rows * Widths[value])];
            ValueGradients[value] = new float[checked(rows * Widths[value])];
        }

        foreach (GraphStep step in steps)
        {
            step.EnsureCapacity(rows);
        }

        Capacity = rows;
    }
}
