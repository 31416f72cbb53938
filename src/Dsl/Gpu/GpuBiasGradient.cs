using System.Globalization;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Dsl.Ops.BiasGradient"/>: dBias[j] = sum over the batch of dz[i, j], overwriting dBias,
/// and optionally the optimizer's update of b[j] from it in the same kernel (<see cref="GpuParameterUpdate"/>).
/// </summary>
/// <remarks>
/// Each group owns a tile of <see cref="TileColumns"/> adjacent columns and has <see cref="RowSlices"/> warps' worth
/// of threads (<see cref="SimulatorRowSlices"/> on the CPU simulator): thread (slice, lane) sums rows slice,
/// slice + RowSlices, ... of column tile + lane, so each row of the
/// tile is one coalesced 128-byte read. The slices' partials meet in shared memory and the first slice adds them in a
/// fixed order: deterministic, one launch, no atomics and no zeroing. For 4096 x 4096 that is 128 groups of 512
/// threads, 256 rows per thread. Sums are in float in a different order from the CPU's row-by-row sum, so results
/// differ by rounding (about batch ulp of the sum of magnitudes in the worst case).
/// </remarks>
public sealed class GpuBiasGradient
{
    /// <summary>Adjacent columns per group (one row of a tile is 128 bytes).</summary>
    private const int TileColumns = 32;

    /// <summary>Most threads per column in a group (the shared-memory partials), each summing every slices-th row.</summary>
    private const int RowSlices = 16;

    /// <summary>
    /// Threads per column on ILGPU's CPU simulator, which runs every thread of a group as an OS thread meeting at the
    /// barrier: fewer threads per group keep a launch cheap there.
    /// </summary>
    private const int SimulatorRowSlices = 4;

    private readonly Accelerator _accelerator; // the one the launchers were loaded for
    private readonly GpuAccelerator _gpu;
    // One kernel per update rule, each loaded (compiled once per accelerator) on its first use.
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int, int, NoUpdate>? _compute;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int, int, SgdUpdate>? _computeSgd;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int, int, AdamUpdate>? _computeAdam;
    private readonly int _groupSize; // TileColumns * slices

    /// <summary>Prepares the reduction on <paramref name="gpu"/>; its kernel for each update rule compiles (or comes from the cache) on first use.</summary>
    public GpuBiasGradient(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _accelerator = gpu.Accelerator;
        _gpu = gpu;
        _groupSize = TileColumns * (gpu.Type == AcceleratorType.CPU ? SimulatorRowSlices : RowSlices);
    }

    /// <summary>
    /// Overwrites <paramref name="dBias"/> with the column sums of <paramref name="dPreActivation"/> (zero for a zero batch)
    /// and applies <paramref name="update"/> to each bias with its gradient.
    /// </summary>
    /// <param name="stream">Stream the launch is queued on, of the accelerator this object was loaded for (else <see cref="ArgumentException"/>).</param>
    /// <param name="dBias">d loss / d bias, (units); overwritten.</param>
    /// <param name="dPreActivation">d loss / d z, (batch, units), row-major.</param>
    /// <param name="batch">Rows; non-negative.</param>
    /// <param name="units">Columns; non-negative (zero launches nothing).</param>
    /// <param name="update">The step's update with its origin at b's first element (<see cref="GpuParameterUpdate.At"/>), or none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the dimensions, or the update's buffer does not hold b.</exception>
    public void Compute(AcceleratorStream stream, ArrayView<float> dBias, ArrayView<float> dPreActivation, int batch, int units, GpuParameterUpdate update = default)
    {
        GpuReduction.CheckStream(stream, _accelerator);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        if (dBias.Length != units || dPreActivation.Length != (long)batch * units)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected dBias ({units}) and dPreActivation ({batch}, {units}); got {dBias.Length} and {dPreActivation.Length} floats."));
        }

        update.CheckCovers(units, nameof(update));
        if (units == 0)
        {
            return;
        }

        var config = new KernelConfig((units + TileColumns - 1) / TileColumns, _groupSize);
        switch (update.Rule)
        {
            case GpuUpdateRule.Sgd:
                (_computeSgd ??= Load<SgdUpdate>(_gpu))(stream, config, dBias, dPreActivation, batch, units, update.Sgd);
                break;
            case GpuUpdateRule.Adam:
                (_computeAdam ??= Load<AdamUpdate>(_gpu))(stream, config, dBias, dPreActivation, batch, units, update.Adam);
                break;
            default:
                (_compute ??= Load<NoUpdate>(_gpu))(stream, config, dBias, dPreActivation, batch, units, default);
                break;
        }
    }

    private static Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int, int, TRule> Load<TRule>(GpuAccelerator gpu)
        where TRule : struct, IGpuUpdateRule
    {
        Action<ArrayView<float>, ArrayView<float>, int, int, TRule> kernel = ColumnSumKernel;
        return gpu.Kernel(kernel, static accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, int, int, TRule>(ColumnSumKernel<TRule>));
    }

    /// <summary>
    /// Groups of TileColumns x slices threads (slices = group size / TileColumns, at most RowSlices). Group g, thread t:
    /// lane = t % TileColumns, slice = t / TileColumns, column = g TileColumns + lane.
    /// partial[slice, lane] = sum of dz[i, column] for i = slice, slice + slices, ...; then dBias[column] = sum over slices,
    /// and the update of bias column from it, by one thread per column.
    /// </summary>
    internal static void ColumnSumKernel<TRule>(
        ArrayView<float> dBias, // (units)
        ArrayView<float> dz,    // (batch, units)
        int batch,
        int units,
        TRule update)           // origin at b's first element; NoUpdate: none
        where TRule : struct, IGpuUpdateRule
    {
        ArrayView<float> partials = SharedMemory.Allocate<float>(TileColumns * RowSlices); // (RowSlices, TileColumns)
        int lane = Group.IdxX % TileColumns;
        int slice = Group.IdxX / TileColumns;
        int column = (Grid.IdxX * TileColumns) + lane;
        int slices = Group.DimX / TileColumns;

        // No early return: every thread reaches the barrier.
        float sum = 0f;
        if (column < units)
        {
            for (int i = slice; i < batch; i += slices)
            {
                sum += dz[((long)i * units) + column];
            }
        }

        partials[Group.IdxX] = sum;
        Group.Barrier();

        if (slice == 0 && column < units)
        {
            float total = partials[lane];
            for (int s = 1; s < slices; s++)
            {
                total += partials[(s * TileColumns) + lane];
            }

            dBias[column] = total;
            update.Apply(column, total);
        }
    }
}
