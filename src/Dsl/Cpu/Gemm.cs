using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Cpu;

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
public enum Transpose
{
    No,
    Yes,
}

/// <summary>
/// Single-precision GEMM on the CPU, GotoBLAS/BLIS style: for each (NC columns, KC depth) block of
/// op(B) a packed panel of NR-wide column slivers, for each MC rows of op(A) a packed block of
/// MR-tall row slivers, and an MR x NR register-blocked micro-kernel (Vector256 FMA; with AVX-512, Vector512
/// tiles that take two NR slivers at once where two full ones are at hand) over them.
/// Transposes are absorbed by the packing. The epilogue runs on the rows of each MC x NC block of C
/// right after its last depth block, while the block is still in cache. Small products (one depth
/// block, op(A) within L2) skip the blocking and read A, and B where its layout allows, in place
/// (<see cref="MultiplyDirect{TEpilogue}"/>): there the per-call packing would be a large share of the work.
/// </summary>
public static partial class Gemm
{
    /// <summary>Rows of a micro-tile: rows of op(A) broadcast per depth step.</summary>
    internal const int MR = 6;

    /// <summary>Columns of a micro-tile: two Vector256 of op(B) per depth step.</summary>
    internal const int NR = 16;

    /// <summary>Depth of a packed block: an MR x KC sliver of A (6 KiB) and a KC x NR sliver of B (16 KiB) share L1.</summary>
    internal const int KC = 256;

    /// <summary>Rows of a packed A block (a multiple of MR): MC x KC floats (144 KiB) stay in L2.</summary>
    internal const int MC = 144;

    /// <summary>Columns of a packed B panel (a multiple of NR): KC x NC floats (2 MiB) stay in L3.</summary>
    internal const int NC = 2048;

    /// <summary>Uses per packed sliver at or below which an operand is read in place rather than packed.</summary>
    internal const int DirectReuse = 4;

    /// <summary>Below this many multiply-adds (m * n * k) a product runs on the calling thread alone.</summary>
    internal const long ParallelThreshold = 1L << 16;

    /// <summary>
    /// C (m x n, row stride <paramref name="ldc"/>) = (accumulate ? C : 0) + op(A) (m x k) * op(B) (k x n),
    /// then <paramref name="epilogue"/> on every finished stretch of C's rows, each element exactly once.
    /// op(A) = A (stored m x k, row stride lda) when <paramref name="transA"/> is No, else A is stored
    /// k x m (row stride lda) and transposed; likewise op(B) from B stored k x n or n x k.
    /// With <paramref name="workers"/>, large products are split into tiles of C run concurrently, and
    /// the epilogue is then called concurrently on disjoint stretches.
    /// </summary>
    public static unsafe void Multiply<TEpilogue>(Transpose transA, Transpose transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, TEpilogue epilogue, CpuWorkers? workers = null) where TEpilogue : struct, IEpilogue
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        bool transposeA = transA == Transpose.Yes;
        bool transposeB = transB == Transpose.Yes;
        ValidateOperand("a", "A", "lda", a.Length, lda, transposeA ? k : m, transposeA ? m : k);
        ValidateOperand("b", "B", "ldb", b.Length, ldb, transposeB ? n : k, transposeB ? k : n);
        ValidateOperand("c", "C", "ldc", c.Length, ldc, m, n);
        if (m == 0 || n == 0)
        {
            return;
        }

        fixed (float* aPointer = a)
        fixed (float* bPointer = b)
        fixed (float* cPointer = c)
        {
            var operands = new Operands(aPointer, lda, transposeA, bPointer, ldb, transposeB, cPointer, ldc,
                m, n, k, accumulate);
            if (k == 0)
            {
                FinishWithoutProduct(operands, ref epilogue);
                return;
            }

            int threads = workers?.ThreadCount ?? 1;
            if (threads == 1 || (long)m * n * k < ParallelThreshold)
            {
                MultiplyRegion(operands, 0, m, 0, n, ref epilogue);
                return;
            }

            var task = new RegionTask<TEpilogue>(operands, epilogue, threads);
            workers!.Run(task.TileCount, task);
        }
    }

    /// <summary>The k == 0 product: C = 0 (or C unchanged when accumulating), then the epilogue row by row.</summary>
    private static unsafe void FinishWithoutProduct<TEpilogue>(in Operands operands, ref TEpilogue epilogue)
        where TEpilogue : struct, IEpilogue
    {
        for (int row = 0; row < operands.M; row++)
        {
            var values = new Span<float>(operands.C + (long)row * operands.Ldc, operands.N);
            if (!operands.Accumulate)
            {
                values.Clear();
            }
            epilogue.Apply(row, 0, values);
        }
    }

    /// <summary>
    /// C[rowStart..rowEnd, columnStart..columnEnd) over the full depth, on the calling thread with its
    /// own packing scratch. Loop nest (outer to inner): NC columns, KC depth (pack B), MC rows (pack A),
    /// NR columns, MR rows (micro-kernel). A packed A sliver is used once per column sliver of the
    /// region and a packed B sliver once per row sliver; when that is at most <see cref="DirectReuse"/>
    /// times, A is read in place (the micro-kernel reads only the rows that exist) and so are the full
    /// slivers of a B that is not transposed, the ragged one being packed. Regions that fit one depth
    /// block with a small enough op(A) take <see cref="MultiplyDirect{TEpilogue}"/> instead.
    /// </summary>
    private static unsafe void MultiplyRegion<TEpilogue>(in Operands operands, int rowStart, int rowEnd,
        int columnStart, int columnEnd, ref TEpilogue epilogue) where TEpilogue : struct, IEpilogue
    {
        if (UsesDirectPath(operands, rowEnd - rowStart))
        {
            MultiplyDirect(operands, rowStart, rowEnd, columnStart, columnEnd, ref epilogue);
            return;
        }

        int k = operands.K;
        int lda = operands.Lda;
        int ldb = operands.Ldb;
        int ldc = operands.Ldc;
        // Balanced depth blocks: k = 300 runs as 150 + 150 rather than 256 + 44.
        int depthBlocks = (k + KC - 1) / KC;
        int depthStep = (k + depthBlocks - 1) / depthBlocks;
        int panelWidth = Math.Min(NC, RoundUp(columnEnd - columnStart, NR));
        int blockHeight = Math.Min(MC, RoundUp(rowEnd - rowStart, MR));
        var scratch = PackingScratch.ForCurrentThread(blockHeight * depthStep, panelWidth * depthStep);
        float* packedA = scratch.PackedA;
        float* packedB = scratch.PackedB;
        float* zeros = scratch.Zeros;
        bool directA = ReadsAInPlace(operands, panelWidth / NR);
        bool directB = ReadsBInPlace(operands, blockHeight / MR);
        // op(A)[row, p] at A[row * aRowStride + p * aDepthStride].
        nint aRowStride = operands.TransposeA ? 1 : lda;
        nint aDepthStride = operands.TransposeA ? lda : 1;

        for (int jc = columnStart; jc < columnEnd; jc += NC)
        {
            int nc = Math.Min(NC, columnEnd - jc);
            int inPlaceColumns = directB ? nc / NR * NR : 0;
            for (int pc = 0; pc < k; pc += depthStep)
            {
                int kc = Math.Min(depthStep, k - pc);
                bool overwrite = pc == 0 && !operands.Accumulate;
                bool lastDepthBlock = pc + kc == k;
                if (inPlaceColumns < nc)
                {
                    // Sliver jr stays at packedB + jr * kc whichever slivers are packed.
                    PackB(operands, pc, kc, jc + inPlaceColumns, nc - inPlaceColumns, packedB + (long)inPlaceColumns * kc, zeros);
                }
                for (int ic = rowStart; ic < rowEnd; ic += MC)
                {
                    int mc = Math.Min(MC, rowEnd - ic);
                    if (!directA)
                    {
                        PackA(operands, ic, mc, pc, kc, packedA, zeros);
                    }
                    float* aBlock = directA ? operands.A + ic * aRowStride + pc * aDepthStride : packedA;
                    for (int jr = 0; jr < nc; jr += NR)
                    {
                        bool bInPlace = jr < inPlaceColumns;
                        float* bSliver = bInPlace ? operands.B + (long)pc * ldb + jc + jr : packedB + (long)jr * kc;
                        float* cColumn = operands.C + (long)ic * ldc + jc + jr;
                        if (Vector512.IsHardwareAccelerated && jr + 2 * NR <= nc && bInPlace == (jr + NR < inPlaceColumns))
                        {
                            // Two full slivers read the same way: the next one is NR columns on in place, NR * kc packed.
                            MicroKernelPair(kc, aBlock, directA ? aRowStride : 1, directA ? aDepthStride : MR,
                                directA ? MR * aRowStride : MR * kc, bSliver, bSliver + (bInPlace ? NR : (long)NR * kc), bInPlace ? ldb : NR,
                                cColumn, ldc, mc, overwrite);
                            jr += NR;
                            continue;
                        }

                        MicroKernel(kc, aBlock, directA ? aRowStride : 1, directA ? aDepthStride : MR,
                            directA ? MR * aRowStride : MR * kc, bSliver, bInPlace ? ldb : NR, cColumn, ldc,
                            mc, Math.Min(NR, nc - jr), overwrite);
                    }
                    if (lastDepthBlock)
                    {
                        // The mc x nc block is final: one call per row, while it is still in L2.
                        for (int row = ic; row < ic + mc; row++)
                        {
                            epilogue.Apply(row, jc, new Span<float>(operands.C + (long)row * ldc + jc, nc));
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Whether A is read in place by a region <paramref name="columnSlivers"/> wide (each sliver is
    /// used that many times). In place, a transposed A sliver steps through one line of A per depth
    /// step: with a stride that is a multiple of 256 floats all those lines share a handful of cache
    /// sets and evict each other, so such an A is packed regardless.
    /// </summary>
    private static bool ReadsAInPlace(in Operands operands, int columnSlivers)
        => Vector256.IsHardwareAccelerated && columnSlivers <= DirectReuse
            && !(operands.TransposeA && operands.Lda % 256 == 0);

    /// <summary>
    /// Whether full B slivers are read in place by a region <paramref name="rowSlivers"/> tall: only a B
    /// stored k x n (a transposed one needs the transposition packing does), and not with a stride
    /// that is a multiple of 256 floats (a sliver steps through one line of B per depth step).
    /// </summary>
    private static bool ReadsBInPlace(in Operands operands, int rowSlivers)
        => Vector256.IsHardwareAccelerated && rowSlivers <= DirectReuse
            && !operands.TransposeB && operands.Ldb % 256 != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static void ValidateOperand(string parameter, string matrix, string strideName, int length,
        int stride, int storedRows, int storedColumns)
    {
        if (stride < storedColumns || stride < 0)
        {
            throw new ArgumentException(
                $"{strideName} = {stride}, but the stored {matrix} is {storedRows} x {storedColumns}: " +
                $"expected {strideName} >= {storedColumns}.", strideName);
        }
        long required = storedRows == 0 || storedColumns == 0 ? 0 : (long)(storedRows - 1) * stride + storedColumns;
        if (length < required)
        {
            throw new ArgumentException(
                $"{parameter} holds {length} floats, but the stored {matrix} is {storedRows} x {storedColumns} " +
                $"with {strideName} = {stride}: expected at least {required}.", parameter);
        }
    }

    /// <summary>The product's pointers and shape, pinned by <see cref="Multiply{TEpilogue}"/> for its duration.</summary>
    private readonly unsafe struct Operands(float* a, int lda, bool transposeA, float* b, int ldb, bool transposeB,
        float* c, int ldc, int m, int n, int k, bool accumulate)
    {
        public readonly float* A = a;
        public readonly int Lda = lda;
        public readonly bool TransposeA = transposeA;
        public readonly float* B = b;
        public readonly int Ldb = ldb;
        public readonly bool TransposeB = transposeB;
        public readonly float* C = c;
        public readonly int Ldc = ldc;
        public readonly int M = m;
        public readonly int N = n;
        public readonly int K = k;
        public readonly bool Accumulate = accumulate;
    }

    /// <summary>
    /// C cut into a grid of regions, one task each, on micro-tile boundaries. Every region packs its
    /// own rows of A and columns of B, so the grid (rowTiles x columnTiles == threads) is the one whose
    /// largest region costs least, counting micro-kernel steps and packed elements.
    /// </summary>
    private struct RegionTask<TEpilogue> : ICpuTask where TEpilogue : struct, IEpilogue
    {
        private readonly Operands _operands;
        private TEpilogue _epilogue;
        private readonly int _rowSlivers;
        private readonly int _columnSlivers;
        private readonly int _rowTiles;
        private readonly int _columnTiles;

        public RegionTask(in Operands operands, TEpilogue epilogue, int threads)
        {
            _operands = operands;
            _epilogue = epilogue;
            _rowSlivers = (operands.M + MR - 1) / MR;
            _columnSlivers = (operands.N + NR - 1) / NR;
            (_rowTiles, _columnTiles) = ChooseGrid(operands, _rowSlivers, _columnSlivers, threads);
        }

        public readonly int TileCount => _rowTiles * _columnTiles;

        public void Execute(int index)
        {
            int rowTile = index % _rowTiles;
            int columnTile = index / _rowTiles;
            int rowStart = rowTile * _rowSlivers / _rowTiles * MR;
            int rowEnd = Math.Min(_operands.M, (rowTile + 1) * _rowSlivers / _rowTiles * MR);
            int columnStart = columnTile * _columnSlivers / _columnTiles * NR;
            int columnEnd = Math.Min(_operands.N, (columnTile + 1) * _columnSlivers / _columnTiles * NR);
            MultiplyRegion(_operands, rowStart, rowEnd, columnStart, columnEnd, ref _epilogue);
        }

        /// <summary>
        /// The grid whose largest region is cheapest. In quarter cycles, a region of r x c micro-tiles
        /// costs per depth step 24 per tile (MR*NR = 96 multiply-adds at two 8-lane FMAs per cycle) plus,
        /// unless read in place, per packed element of A 4 (an interleave; 2 for the copies of a
        /// transposed A) and of B 2 (a copy; 6 for the transposition of a transposed B); and once 120
        /// per tile (the kernel's set-up and write-back) and, when C is split by columns, 200 per row
        /// for the cache line it shares with the neighbouring region. A region on the direct path
        /// packs nothing but a transposed B. Grids with more tiles than slivers are skipped.
        /// </summary>
        private static (int RowTiles, int ColumnTiles) ChooseGrid(in Operands operands, int rowSlivers, int columnSlivers, int threads)
        {
            (int, int) best = (1, 1);
            long bestCost = long.MaxValue;
            for (int tasks = threads; tasks > 1 && bestCost == long.MaxValue; tasks--)
            {
                for (int rowTiles = 1; rowTiles <= tasks; rowTiles++)
                {
                    int columnTiles = tasks / rowTiles;
                    if (rowTiles * columnTiles != tasks || rowTiles > rowSlivers || columnTiles > columnSlivers)
                    {
                        continue;
                    }
                    int rows = (rowSlivers + rowTiles - 1) / rowTiles;
                    int columns = (columnSlivers + columnTiles - 1) / columnTiles;
                    long packingA;
                    long packingB;
                    if (UsesDirectPath(operands, rows * MR))
                    {
                        packingA = 0;
                        packingB = operands.TransposeB ? columns * NR * 6 : 0;
                    }
                    else
                    {
                        packingA = ReadsAInPlace(operands, Math.Min(columns, NC / NR)) ? 0 : rows * MR * (operands.TransposeA ? 2 : 4);
                        packingB = ReadsBInPlace(operands, Math.Min(rows, MC / MR)) ? 0 : columns * NR * (operands.TransposeB ? 6 : 2);
                    }
                    long falseSharing = columnTiles > 1 ? rows * MR * 200L : 0;
                    long cost = ((long)rows * columns * 24 + packingA + packingB) * operands.K
                        + (long)rows * columns * 120 + falseSharing;
                    if (cost < bestCost)
                    {
                        bestCost = cost;
                        best = (rowTiles, columnTiles);
                    }
                }
            }
            return best;
        }
    }
}
