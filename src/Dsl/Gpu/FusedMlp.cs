using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using PredictLauncher = System.Action<ILGPU.Runtime.AcceleratorStream, ILGPU.KernelConfig, ILGPU.Runtime.SpecializedValue<Dsl.Gpu.FusedMlpPlan>,
    ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, int, int>;
using TrainLauncher = System.Action<ILGPU.Runtime.AcceleratorStream, ILGPU.KernelConfig, ILGPU.Runtime.SpecializedValue<Dsl.Gpu.FusedMlpPlan>,
    ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<int>, ILGPU.ArrayView<float>,
    ILGPU.ArrayView<float>, int, int>;

namespace Dsl.Gpu;

/// <summary>
/// Fully fused small networks (tiny-cuda-nn's idea): one kernel launch runs the forward pass, the loss and the
/// backward pass of a whole small MLP, each group of <see cref="GroupSize"/> threads on tiles of up to
/// <see cref="TileRows"/> batch rows whose activations never leave shared memory, instead of about three
/// launches per layer with every activation round-tripping through global memory. A second launch, one thread
/// per parameter, adds the groups' gradient sums and applies the optimizer's update: a training step is two
/// launches.
/// </summary>
/// <remarks>
/// <para>
/// Eligibility (<see cref="Fits(int, ReadOnlySpan{int}, ReadOnlySpan{Activation})"/>): 1 to <see cref="MaxLayers"/>
/// layers; the input width and every layer's width in [1, <see cref="MaxWidth"/>]; and the tile's activations fit
/// the kernel's shared memory: TileRows (input width + sum of the layers' widths + sum of the widths of the GELU
/// and SiLU layers, whose derivative needs the pre-activation) &lt;= <see cref="SharedFloats"/>. For example
/// input 64, three hidden layers of 128 (ReLU) and 10 classes uses 16 (64 + 394) = 7328 floats and fits; the
/// same with GELU hidden layers needs 16 (64 + 394 + 384) = 13472 and does not.
/// </para>
/// <para>
/// Shapes as constants: the kernels take the plan as an ILGPU <c>SpecializedValue</c>, so on a GPU ILGPU compiles
/// (once, then caches) one kernel per distinct plan with every width, offset and activation code a constant.
/// </para>
/// <para>
/// Numerics: float32 throughout, products and sums written as <c>a * b + c</c> (the assembler may fuse them).
/// Deterministic: no atomics. Each group sums its tiles' parameter gradients into its own slot of a workspace
/// (rows in order within a tile, tiles in order), and the reduction adds the slots in order, so the same batch,
/// parameters, rows per tile and workspace size give the same bits on every run (rows per tile depend on the batch
/// and the GPU's multiprocessor count, or on DSL_GPU_FUSED_TILE_ROWS).
/// </para>
/// <para>
/// The workspace: <see cref="FusedMlpLauncher.WorkspaceLength"/> floats, one slot of ParameterCount floats per group.
/// A launch runs as many groups as the workspace has slots, up to one per tile; with fewer, each group walks several
/// tiles. That size gives every tile its own group up to <see cref="MaxWorkspaceFloats"/>.
/// </para>
/// <para>
/// Rows per tile (<see cref="FusedMlpLauncher.RowsPerTile"/>): at most <see cref="TileRows"/>, fewer when the batch
/// would otherwise leave multiprocessors idle. A group's work is serial over its tile's rows (each thread loops over
/// several outputs or weights), so a batch of 100 as 7 tiles of 16 rows runs on 7 multiprocessors for 16 rows'
/// time; as 100 tiles of 1 row it runs on 100 for one row's time, at the price of more slots for the reduction to
/// add. Which wins is for a GPU to say: the bench times W1 at 1, 2, 4, 8 and 16 rows
/// (<see cref="FusedMlpSelection.TileRowsVariable"/>).
/// </para>
/// </remarks>
public static partial class FusedMlp
{
    /// <summary>Batch rows per thread group (per tile); the last tile of a batch may have fewer.</summary>
    public const int TileRows = 16;

    /// <summary>Threads per group (8 warps of 32).</summary>
    public const int GroupSize = 256;

    /// <summary>Shared-memory floats per group: 8192 floats = 32 KiB, under CUDA's 48 KiB static limit.</summary>
    public const int SharedFloats = 8192;

    /// <summary>Most layers a fused network may have.</summary>
    public const int MaxLayers = 8;

    /// <summary>Widest input or layer: every thread loops over at most this many weights per output.</summary>
    public const int MaxWidth = 256;

    /// <summary>
    /// The most floats <see cref="WorkspaceLengthForSlots"/> asks for (16 Mi floats, 64 MiB): a large network trained on a
    /// large batch gets fewer slots than tiles (at least one), each group then walking several tiles.
    /// </summary>
    public const int MaxWorkspaceFloats = 1 << 24;

    /// <summary>
    /// Floats of a training workspace of <paramref name="slots"/> slots of plan.ParameterCount floats, capped at
    /// <see cref="MaxWorkspaceFloats"/> (but at least one slot).
    /// </summary>
    public static long WorkspaceLengthForSlots(in FusedMlpPlan plan, long slots)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slots);
        int parameters = Math.Max(1, plan.ParameterCount);
        return Math.Max(1, Math.Min(slots, MaxWorkspaceFloats / parameters)) * parameters;
    }

    /// <summary>
    /// Rows per tile for <paramref name="batch"/> rows on <paramref name="multiprocessors"/> multiprocessors: enough
    /// tiles to give every multiprocessor one (ceil(batch / multiprocessors) rows each), at most <see cref="TileRows"/>.
    /// </summary>
    public static int RowsPerTile(int batch, int multiprocessors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(multiprocessors);
        return Math.Clamp((int)(((long)batch + multiprocessors - 1) / multiprocessors), 1, TileRows);
    }

    /// <summary>
    /// Whether a network qualifies for the fused kernel: 1 to <see cref="MaxLayers"/> layers, all widths in
    /// [1, <see cref="MaxWidth"/>], and <see cref="TileRows"/> rows of its input, outputs and (GELU, SiLU)
    /// pre-activations within <see cref="SharedFloats"/> floats.
    /// </summary>
    /// <param name="inputWidth">Elements of one input sample.</param>
    /// <param name="units">Each layer's width, in order.</param>
    /// <param name="activations">Each layer's activation; as long as <paramref name="units"/>.</param>
    public static bool Fits(int inputWidth, ReadOnlySpan<int> units, ReadOnlySpan<Activation> activations)
    {
        if (units.Length < 1 || units.Length > MaxLayers || activations.Length != units.Length || inputWidth < 1 || inputWidth > MaxWidth)
        {
            return false;
        }

        int perRow = inputWidth;
        for (int l = 0; l < units.Length; l++)
        {
            if (units[l] < 1 || units[l] > MaxWidth)
            {
                return false;
            }

            perRow += NeedsPreActivation(activations[l]) ? 2 * units[l] : units[l];
        }

        return TileRows * perRow <= SharedFloats;
    }

    /// <summary>Whether the layers (input width <paramref name="inputWidth"/>) qualify; see <see cref="Fits(int, ReadOnlySpan{int}, ReadOnlySpan{Activation})"/>.</summary>
    public static bool Fits(int inputWidth, IReadOnlyList<Layer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count > MaxLayers)
        {
            return false;
        }

        Span<int> units = stackalloc int[layers.Count];
        Span<Activation> activations = stackalloc Activation[layers.Count];
        for (int l = 0; l < layers.Count; l++)
        {
            units[l] = layers[l].Units;
            activations[l] = layers[l].Activation;
        }

        return Fits(inputWidth, units, activations);
    }

    /// <summary>Whether a generated network qualifies; see <see cref="Fits(int, ReadOnlySpan{int}, ReadOnlySpan{Activation})"/>.</summary>
    public static bool Fits(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Fits(network.InputSize, network.Layers);
    }

    /// <summary>
    /// The launcher of the fused kernels on <paramref name="gpu"/>; the kernels compile once per accelerator (the slot
    /// reduction for each update rule on its first use). Rows per tile follow the batch and the GPU's multiprocessors,
    /// unless <see cref="FusedMlpSelection.TileRowsVariable"/> fixes them (read here, once).
    /// </summary>
    /// <exception cref="ArgumentException">DSL_GPU_FUSED_TILE_ROWS is set to something other than 1 to 16.</exception>
    public static FusedMlpLauncher Load(GpuAccelerator gpu) => Load(gpu, FusedMlpSelection.TileRowsFromEnvironment());

    /// <summary>
    /// As <see cref="Load(GpuAccelerator)"/>, with the rows per tile fixed (null: chosen per batch) and, for tests of
    /// that choice, the multiprocessor count given instead of the accelerator's.
    /// </summary>
    internal static FusedMlpLauncher Load(GpuAccelerator gpu, int? rowsPerTile, int? multiprocessors = null)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        if (rowsPerTile is < 1 or > TileRows)
        {
            throw new ArgumentOutOfRangeException(nameof(rowsPerTile), rowsPerTile, $"Rows per tile must be in [1, {TileRows}].");
        }

        TrainLauncher train = gpu.Kernel<TrainLauncher>(
            (Action<SpecializedValue<FusedMlpPlan>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>)TrainKernel,
            accelerator => accelerator.LoadKernel<SpecializedValue<FusedMlpPlan>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(TrainKernel));
        PredictLauncher predict = gpu.Kernel<PredictLauncher>(
            (Action<SpecializedValue<FusedMlpPlan>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>)PredictKernel,
            accelerator => accelerator.LoadKernel<SpecializedValue<FusedMlpPlan>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(PredictKernel));
        // ILGPU's CPU simulator counts as one multiprocessor, so it keeps tiles of TileRows rows.
        int count = multiprocessors ?? (gpu.Type == AcceleratorType.CPU ? 1 : Math.Max(1, gpu.Accelerator.NumMultiprocessors));
        return new FusedMlpLauncher(gpu, train, predict, count, rowsPerTile);
    }
}

/// <summary>
/// Launches the fused kernels of <see cref="FusedMlp"/> on one accelerator. Allocates nothing per call (after the first
/// with each update rule, which loads that rule's reduction): a step is the fused kernel (one group per workspace slot,
/// at most one per tile) and the reduction over the slots, which stores the gradients and applies the optimizer's update.
/// </summary>
public sealed class FusedMlpLauncher
{
    private readonly GpuAccelerator _gpu;
    private readonly TrainLauncher _train;
    private readonly PredictLauncher _predict;
    private readonly int _multiprocessors;
    private readonly int? _fixedRowsPerTile;

    // The slot reduction, one kernel per update rule, each loaded on first use.
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, NoUpdate>? _reduce;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, SgdUpdate>? _reduceSgd;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, AdamUpdate>? _reduceAdam;

    internal FusedMlpLauncher(GpuAccelerator gpu, TrainLauncher train, PredictLauncher predict, int multiprocessors, int? fixedRowsPerTile)
    {
        _gpu = gpu;
        _train = train;
        _predict = predict;
        _multiprocessors = multiprocessors;
        _fixedRowsPerTile = fixedRowsPerTile;
    }

    /// <summary>
    /// Rows per tile of a launch over <paramref name="batch"/> rows: <see cref="FusedMlpSelection.TileRowsVariable"/> when
    /// it was set, else <see cref="FusedMlp.RowsPerTile"/> for this GPU's multiprocessors.
    /// </summary>
    public int RowsPerTile(int batch) => _fixedRowsPerTile ?? FusedMlp.RowsPerTile(batch, _multiprocessors);

    /// <summary>
    /// Floats of a training workspace that gives every tile of every batch of up to <paramref name="capacity"/> rows its
    /// own group (up to <see cref="FusedMlp.MaxWorkspaceFloats"/>). Rows per tile shrink with the batch, so a smaller
    /// batch can have more tiles than the largest: up to one per row below the multiprocessor count.
    /// </summary>
    public long WorkspaceLength(in FusedMlpPlan plan, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        long tiles = Tiles(capacity, RowsPerTile(capacity));
        if (_fixedRowsPerTile is null)
        {
            tiles = Math.Max(tiles, Math.Min(capacity, _multiprocessors));
        }

        return FusedMlp.WorkspaceLengthForSlots(plan, Math.Max(1, tiles));
    }

    private static int Tiles(int batch, int rowsPerTile) => (batch + rowsPerTile - 1) / rowsPerTile;

    /// <summary>
    /// Softmax cross-entropy training step: writes d(mean loss)/dparameters into <paramref name="gradients"/>, each
    /// row's loss into <paramref name="rowLosses"/> (their mean is the batch loss, as <c>Dsl.Ops.SoftmaxCrossEntropy</c>),
    /// and applies <paramref name="update"/> to each parameter with its gradient. Asynchronous on <paramref name="stream"/>.
    /// </summary>
    /// <param name="plan">A plan whose loss is <see cref="Loss.SoftmaxCrossEntropy"/>.</param>
    /// <param name="parameters">Flat parameters, at least plan.ParameterCount; updated by <paramref name="update"/>.</param>
    /// <param name="gradients">Flat gradients, same layout, at least plan.ParameterCount; overwritten.</param>
    /// <param name="inputs">x (batch, InputWidth).</param>
    /// <param name="labels">(batch), each in [0, OutputWidth); a row with another label gets a NaN loss.</param>
    /// <param name="rowLosses">(batch); overwritten.</param>
    /// <param name="batch">Rows; positive.</param>
    /// <param name="workspace">At least one slot of plan.ParameterCount floats; <see cref="WorkspaceLength"/> is the size that runs every tile in its own group. Overwritten.</param>
    /// <param name="update">The optimizer step over the whole parameter buffer (<see cref="Dsl.Training.Optimizer.BeginDeviceStep"/>), or <see cref="GpuParameterUpdate.None"/>.</param>
    /// <exception cref="ArgumentException">The plan's loss differs, a view is shorter than its shape, or the update's buffer does not hold the parameters.</exception>
    public void ForwardBackward(
        AcceleratorStream stream, in FusedMlpPlan plan, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> inputs, ArrayView<int> labels, ArrayView<float> rowLosses, int batch,
        ArrayView<float> workspace, GpuParameterUpdate update = default)
    {
        CheckPlan(plan, Loss.SoftmaxCrossEntropy);
        CheckLength(labels.Length, batch, nameof(labels));
        Train(stream, plan, parameters, gradients, inputs, labels, ArrayView<float>.Empty, rowLosses, batch, workspace, update);
    }

    /// <summary>
    /// Mean squared error training step: writes d(mean loss)/dparameters into <paramref name="gradients"/>, each row's
    /// mean squared error into <paramref name="rowLosses"/> (their mean is the batch loss, as <c>Dsl.Ops.MeanSquaredError</c>),
    /// and applies <paramref name="update"/> to each parameter with its gradient. Asynchronous on <paramref name="stream"/>.
    /// </summary>
    /// <param name="plan">A plan whose loss is <see cref="Loss.MeanSquaredError"/>.</param>
    /// <param name="targets">(batch, OutputWidth).</param>
    /// <param name="parameters">Flat parameters, at least plan.ParameterCount; updated by <paramref name="update"/>.</param>
    /// <param name="gradients">Flat gradients, same layout, at least plan.ParameterCount; overwritten.</param>
    /// <param name="inputs">x (batch, InputWidth).</param>
    /// <param name="rowLosses">(batch); overwritten.</param>
    /// <param name="batch">Rows; positive.</param>
    /// <param name="workspace">At least one slot of plan.ParameterCount floats; see the other overload. Overwritten.</param>
    /// <param name="update">The optimizer step over the whole parameter buffer, or <see cref="GpuParameterUpdate.None"/>.</param>
    /// <exception cref="ArgumentException">The plan's loss differs, a view is shorter than its shape, or the update's buffer does not hold the parameters.</exception>
    public void ForwardBackward(
        AcceleratorStream stream, in FusedMlpPlan plan, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> inputs, ArrayView<float> targets, ArrayView<float> rowLosses, int batch,
        ArrayView<float> workspace, GpuParameterUpdate update = default)
    {
        CheckPlan(plan, Loss.MeanSquaredError);
        CheckLength(targets.Length, (long)batch * plan.OutputWidth, nameof(targets));
        Train(stream, plan, parameters, gradients, inputs, ArrayView<int>.Empty, targets, rowLosses, batch, workspace, update);
    }

    /// <summary>Forward only: writes the last layer's outputs (batch, OutputWidth) (the logits of a classifier) to <paramref name="outputs"/>.</summary>
    /// <param name="plan">Any created plan (its loss is ignored).</param>
    /// <param name="parameters">Flat parameters, at least plan.ParameterCount.</param>
    /// <param name="inputs">x (batch, InputWidth).</param>
    /// <param name="outputs">(batch, OutputWidth); overwritten.</param>
    /// <param name="batch">Rows; zero does nothing.</param>
    /// <exception cref="ArgumentException">The plan was not created, or a view is shorter than its shape.</exception>
    public void Predict(AcceleratorStream stream, in FusedMlpPlan plan, ArrayView<float> parameters, ArrayView<float> inputs, ArrayView<float> outputs, int batch)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        CheckPlan(plan, plan.Loss);
        CheckLength(parameters.Length, plan.ParameterCount, nameof(parameters));
        CheckLength(inputs.Length, (long)batch * plan.InputWidth, nameof(inputs));
        CheckLength(outputs.Length, (long)batch * plan.OutputWidth, nameof(outputs));
        if (batch == 0)
        {
            return;
        }

        int rowsPerTile = RowsPerTile(batch);
        _predict(stream, new KernelConfig(Tiles(batch, rowsPerTile), FusedMlp.GroupSize), SpecializedValue.New(plan), parameters, inputs, outputs, batch, rowsPerTile);
    }

    /// <summary>
    /// The first half of a training step: the fused kernel's forward, loss and backward per tile, each group summing its
    /// tiles' gradients into its own slot of <paramref name="workspace"/>, and each row's loss into <paramref name="rowLosses"/>.
    /// Writes neither the gradients nor the parameters, so a caller can read the loss before <see cref="ReduceSlots"/>
    /// finishes the step. Asynchronous on <paramref name="stream"/>.
    /// </summary>
    /// <param name="labels">(batch) class labels for a softmax cross-entropy plan; empty for mean squared error.</param>
    /// <param name="targets">(batch, OutputWidth) for a mean squared error plan; empty for softmax cross-entropy.</param>
    /// <exception cref="ArgumentException">The plan's loss does not match the targets given, or a view is shorter than its shape.</exception>
    public void ComputeTiles(
        AcceleratorStream stream, in FusedMlpPlan plan, ArrayView<float> parameters, ArrayView<float> inputs,
        ArrayView<int> labels, ArrayView<float> targets, ArrayView<float> rowLosses, int batch, ArrayView<float> workspace)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        CheckPlan(plan, plan.Loss);
        CheckLength(parameters.Length, plan.ParameterCount, nameof(parameters));
        CheckLength(inputs.Length, (long)batch * plan.InputWidth, nameof(inputs));
        CheckLength(rowLosses.Length, batch, nameof(rowLosses));
        CheckLength(workspace.Length, plan.ParameterCount, nameof(workspace));
        if (plan.Loss == Loss.SoftmaxCrossEntropy)
        {
            CheckLength(labels.Length, batch, nameof(labels));
        }
        else
        {
            CheckLength(targets.Length, (long)batch * plan.OutputWidth, nameof(targets));
        }

        int rowsPerTile = RowsPerTile(batch);
        _train(stream, new KernelConfig(Slots(plan, batch, workspace), FusedMlp.GroupSize), SpecializedValue.New(plan), parameters, workspace, inputs, labels, targets, rowLosses, batch, rowsPerTile);
    }

    /// <summary>
    /// The second half of a training step after <see cref="ComputeTiles"/> over the same <paramref name="batch"/> and
    /// <paramref name="workspace"/>: sums the groups' slots into <paramref name="gradients"/> and applies
    /// <paramref name="update"/> to each parameter with its gradient. Asynchronous on <paramref name="stream"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A view is shorter than its shape, or the update's buffer does not hold the parameters.</exception>
    public void ReduceSlots(AcceleratorStream stream, in FusedMlpPlan plan, ArrayView<float> gradients, ArrayView<float> workspace, int batch, GpuParameterUpdate update = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        CheckPlan(plan, plan.Loss);
        CheckLength(gradients.Length, plan.ParameterCount, nameof(gradients));
        CheckLength(workspace.Length, plan.ParameterCount, nameof(workspace));
        update.CheckCovers(plan.ParameterCount, nameof(update));

        int slots = Slots(plan, batch, workspace);
        int count = plan.ParameterCount;
        switch (update.Rule)
        {
            case GpuUpdateRule.Sgd:
                (_reduceSgd ??= LoadReduce<SgdUpdate>())(stream, count, workspace, gradients, slots, count, update.Sgd);
                break;
            case GpuUpdateRule.Adam:
                (_reduceAdam ??= LoadReduce<AdamUpdate>())(stream, count, workspace, gradients, slots, count, update.Adam);
                break;
            default:
                (_reduce ??= LoadReduce<NoUpdate>())(stream, count, workspace, gradients, slots, count, default);
                break;
        }
    }

    private void Train(
        AcceleratorStream stream, in FusedMlpPlan plan, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> inputs, ArrayView<int> labels, ArrayView<float> targets, ArrayView<float> rowLosses, int batch,
        ArrayView<float> workspace, GpuParameterUpdate update)
    {
        // Everything both halves check, before the first launch.
        CheckLength(gradients.Length, plan.ParameterCount, nameof(gradients));
        update.CheckCovers(plan.ParameterCount, nameof(update));
        ComputeTiles(stream, plan, parameters, inputs, labels, targets, rowLosses, batch, workspace);
        ReduceSlots(stream, plan, gradients, workspace, batch, update);
    }

    /// <summary>Groups of a launch over <paramref name="batch"/> rows: one per tile, as many as the workspace has slots for.</summary>
    private int Slots(in FusedMlpPlan plan, int batch, ArrayView<float> workspace)
        => (int)Math.Min(Tiles(batch, RowsPerTile(batch)), workspace.Length / plan.ParameterCount);

    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, TRule> LoadReduce<TRule>()
        where TRule : struct, IGpuUpdateRule
    {
        Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, TRule> kernel = FusedMlp.ReduceSlotsKernel;
        return _gpu.Kernel(kernel, static accelerator => accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, TRule>(FusedMlp.ReduceSlotsKernel<TRule>));
    }

    private static void CheckPlan(in FusedMlpPlan plan, Loss loss)
    {
        if (plan.LayerCount == 0)
        {
            throw new ArgumentException("The plan is empty: create it with FusedMlpPlan.Create.", nameof(plan));
        }

        if (plan.Loss != loss)
        {
            throw new ArgumentException($"The plan's loss is {plan.Loss}; this overload trains {loss}.", nameof(plan));
        }
    }

    private static void CheckLength(long length, long required, string name)
    {
        if (length < required)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{name} holds {length} elements; at least {required} are needed."),
                name);
        }
    }
}
