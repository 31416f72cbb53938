using System.Runtime.Intrinsics;

namespace Dsl.Cpu;

public static partial class Gemm
{
    /// <summary>
    /// Most elements (rows of op(A) times depth) a region's op(A) may have for the direct path: A is
    /// then read in place once per NR columns of C, so it must stay in L2 between those passes
    /// (MC x KC floats, 144 KiB, the same budget as a packed A block).
    /// </summary>
    internal const int DirectLimit = MC * KC;

    /// <summary>
    /// Whether a region <paramref name="rows"/> tall runs on the direct path: a single depth block
    /// (k &lt;= KC) whose op(A) fits <see cref="DirectLimit"/>, so nothing is gained by packing A.
    /// A transposed A with a stride that is a multiple of 256 floats is excluded: in place, each depth
    /// step of a sliver is one line of A, and those lines would share a handful of cache sets.
    /// </summary>
    private static bool UsesDirectPath(in Operands operands, int rows)
        => Vector256.IsHardwareAccelerated && operands.K <= KC && (long)rows * operands.K <= DirectLimit
            && !(operands.TransposeA && operands.Lda % 256 == 0);

    /// <summary>
    /// C[rowStart..rowEnd, columnStart..columnEnd) over the whole depth (k &lt;= KC) with A read in place:
    /// for each NR columns of C (outer; 2 NR at once with AVX-512) one B sliver, then every MR rows of A against it
    /// (inner). The B
    /// sliver is read in place when B is stored k x n, the sliver is a full NR wide and ldb is not a
    /// multiple of 256 floats (its depth steps would share cache sets); otherwise it is packed (a
    /// transposed B, the ragged last sliver) into k x NR floats that stay in L1 for the pass. The ragged
    /// row and column edges run narrower tiles rather than padded ones. The epilogue follows, row by row,
    /// once the region is complete.
    /// </summary>
    private static unsafe void MultiplyDirect<TEpilogue>(in Operands operands, int rowStart, int rowEnd,
        int columnStart, int columnEnd, ref TEpilogue epilogue) where TEpilogue : struct, IEpilogue
    {
        int k = operands.K;
        int ldb = operands.Ldb;
        int ldc = operands.Ldc;
        bool overwrite = !operands.Accumulate;
        // op(A)[row, p] at A[row * aRowStride + p * aDepthStride].
        nint aRowStride = operands.TransposeA ? 1 : operands.Lda;
        nint aDepthStride = operands.TransposeA ? operands.Lda : 1;
        bool bInPlace = !operands.TransposeB && ldb % 256 != 0;
        var scratch = PackingScratch.ForCurrentThread(0, 2 * NR * k);
        float* packedB = scratch.PackedB;

        for (int jc = columnStart; jc < columnEnd; jc += NR)
        {
            int columns = Math.Min(NR, columnEnd - jc);
            if (Vector512.IsHardwareAccelerated && jc + 2 * NR <= columnEnd)
            {
                // Two full slivers at once: both in place, or both packed side by side (k x NR floats each).
                if (!bInPlace)
                {
                    PackB(operands, 0, k, jc, 2 * NR, packedB, scratch.Zeros);
                }
                MicroKernelPair(k, operands.A + rowStart * aRowStride, aRowStride, aDepthStride, MR * aRowStride,
                    bInPlace ? operands.B + jc : packedB, bInPlace ? operands.B + jc + NR : packedB + (long)NR * k, bInPlace ? ldb : NR,
                    operands.C + (long)rowStart * ldc + jc, ldc, rowEnd - rowStart, overwrite);
                jc += NR;
                continue;
            }

            float* bSliver;
            nint bDepthStride;
            if (bInPlace && columns == NR)
            {
                bSliver = operands.B + jc;
                bDepthStride = ldb;
            }
            else
            {
                PackB(operands, 0, k, jc, columns, packedB, scratch.Zeros);
                bSliver = packedB;
                bDepthStride = NR;
            }
            MicroKernel(k, operands.A + rowStart * aRowStride, aRowStride, aDepthStride, MR * aRowStride,
                bSliver, bDepthStride, operands.C + (long)rowStart * ldc + jc, ldc, rowEnd - rowStart, columns, overwrite);
        }

        for (int row = rowStart; row < rowEnd; row++)
        {
            epilogue.Apply(row, columnStart, new Span<float>(operands.C + (long)row * ldc + columnStart, columnEnd - columnStart));
        }
    }
}
