using System.Numerics.Tensors;

namespace Dsl.Cpu;

/// <summary>
/// Splitting one training step by batch rows across threads, for networks too small for per-GEMM
/// threading to pay: each slice runs the whole forward and backward on its rows with single-threaded
/// GEMMs and writes its gradient share into its own buffer; one fork-join per step, then the shares
/// are combined weighted by slice size (each slice's loss is a mean over its own rows). A slice whose
/// loss is not finite skips its backward pass.
/// </summary>
public static class BatchSplit
{
    /// <summary>Fewest rows a slice gets; below this the fork-join costs more than the slice's work.</summary>
    public const int MinimumRowsPerSlice = 16;

    /// <summary>How many slices a batch is split into on <paramref name="workers"/> (1: no split).</summary>
    public static int SliceCount(int batch, CpuWorkers? workers)
        => workers is null ? 1 : Math.Max(1, Math.Min(workers.ThreadCount, batch / MinimumRowsPerSlice));

    /// <summary>First row of slice <paramref name="slice"/> of <paramref name="slices"/> over <paramref name="batch"/> rows (slice sizes differ by at most one).</summary>
    public static int Start(int slice, int slices, int batch) => (int)((long)batch * slice / slices);

    /// <summary>Rows of slice <paramref name="slice"/>.</summary>
    public static int Rows(int slice, int slices, int batch) => Start(slice + 1, slices, batch) - Start(slice, slices, batch);

    /// <summary>
    /// gradients = sum over slices of (rows_s / batch) * shares[s]; returns the batch-mean loss from the slices' mean
    /// losses. Every slice writes its own share, so <paramref name="gradients"/> is written here alone, after the
    /// caller has seen the losses: a step whose loss is not finite leaves it untouched.
    /// </summary>
    public static float Combine(Span<float> gradients, float[][] shares, ReadOnlySpan<float> sliceLosses, int slices, int batch)
    {
        float weight = (float)Rows(0, slices, batch) / batch;
        double loss = (double)weight * sliceLosses[0];
        TensorPrimitives.Multiply(shares[0].AsSpan(0, gradients.Length), weight, gradients);
        for (int slice = 1; slice < slices; slice++)
        {
            weight = (float)Rows(slice, slices, batch) / batch;
            loss += (double)weight * sliceLosses[slice];
            TensorPrimitives.MultiplyAdd(shares[slice].AsSpan(0, gradients.Length), weight, gradients, gradients);
        }

        return (float)loss;
    }
}
