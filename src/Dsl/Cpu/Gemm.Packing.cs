using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Cpu;

public static partial class Gemm
{
    /// <summary>Floats ahead of the current position that the packing routines prefetch (eight cache lines).</summary>
    private const int PrefetchDistance = 128;

    /// <summary>
    /// Packs op(A)[ic .. ic + mc, pc .. pc + kc) into MR-tall row slivers: sliver s holds rows
    /// ic + s*MR .. + MR, depth-major, element (r, p) at packedA[s*MR*kc + p*MR + r]. Rows past mc are
    /// zero, so the micro-kernel always computes full MR x NR tiles.
    /// </summary>
    private static unsafe void PackA(in Operands operands, int ic, int mc, int pc, int kc, float* packedA, float* zeros)
    {
        int lda = operands.Lda;
        if (operands.TransposeA)
        {
            PackTransposedBlock(operands.A + (long)pc * lda + ic, lda, kc, mc, operands.M - ic, packedA);
            return;
        }
        for (int i = 0; i < mc; i += MR)
        {
            // A stored m x k: op(A)[row, p] = a[row * lda + p]; MR rows interleaved depth by depth.
            PackRowSliver(operands.A + (long)(ic + i) * lda + pc, lda, Math.Min(MR, mc - i), zeros, kc,
                packedA + (long)i * kc);
        }
    }

    /// <summary>
    /// A stored k x m (op(A)[row, p] = source[p * lda + row], source at op(A)[ic, pc]) into MR-tall
    /// slivers: every depth step of a sliver is MR contiguous floats. Eight depth steps at a time across
    /// the whole block, so the reads are eight sequential streams. Full slivers with two more rows of A
    /// after them copy eight floats per step, overlapping the next step by two; the last step of each
    /// sliver is copied exactly, since its spill would land in the next sliver, already written.
    /// </summary>
    private static unsafe void PackTransposedBlock(float* source, int lda, int kc, int mc, int rowsLeftInA, float* packedA)
    {
        const int DepthGroup = 8;
        int vectorRows = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Slivers i with i + MR <= mc and i + 8 <= rowsLeftInA.
            int limit = Math.Min(mc, rowsLeftInA - 2);
            vectorRows = limit < MR ? 0 : limit / MR * MR;
            for (int p0 = 0; p0 < kc - 1; p0 += DepthGroup)
            {
                int depthEnd = Math.Min(p0 + DepthGroup, kc - 1);
                for (int i = 0; i < vectorRows; i += MR)
                {
                    float* rows = source + (long)p0 * lda + i;
                    float* steps = packedA + (long)i * kc + p0 * MR;
                    for (int p = p0; p < depthEnd; p++, rows += lda, steps += MR)
                    {
                        Prefetch(rows + (long)DepthGroup * lda);
                        Vector256.Store(Vector256.Load(rows), steps);
                    }
                }
            }
            for (int i = 0; i < vectorRows; i += MR)
            {
                CopySteps(source + (long)(kc - 1) * lda + i, packedA + (long)i * kc + (kc - 1) * MR, MR);
            }
        }
        for (int i = vectorRows; i < mc; i += MR)
        {
            int rows = Math.Min(MR, mc - i);
            float* rowsAtDepth = source + i;
            float* steps = packedA + (long)i * kc;
            if (Avx.IsSupported)
            {
                // Masked lanes read nothing and load zero; the two-float spill of each step lands in
                // the next step, the next sliver (both written afterwards) or the slack.
                var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(rows)).AsSingle();
                for (int p = 0; p < kc; p++, rowsAtDepth += lda, steps += MR)
                {
                    Avx.Store(steps, Avx.MaskLoad(rowsAtDepth, mask));
                }
                continue;
            }
            for (int p = 0; p < kc; p++, rowsAtDepth += lda, steps += MR)
            {
                CopySteps(rowsAtDepth, steps, rows);
            }
        }
    }

    /// <summary>One depth step of a sliver: count floats copied, the rest of the MR zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void CopySteps(float* source, float* step, int count)
    {
        for (int r = 0; r < MR; r++)
        {
            step[r] = r < count ? source[r] : 0f;
        }
    }

    /// <summary>
    /// Interleaves <paramref name="rows"/> (at most MR) rows of A (row stride lda, kc floats each) into
    /// an MR x kc depth-major sliver; the missing rows read <paramref name="zeros"/> (at least kc floats).
    /// With AVX, eight depth steps at a time through an 8 x 8 transpose (two rows of it unused) whose
    /// eight-float stores overlap by two; the last of them spills two floats past the sliver, into the
    /// next sliver (written afterwards) or into the scratch's slack.
    /// </summary>
    private static unsafe void PackRowSliver(float* source, nint lda, int rows, float* zeros, int kc, float* sliver)
    {
        float* row0 = source;
        float* row1 = rows > 1 ? source + lda : zeros;
        float* row2 = rows > 2 ? source + 2 * lda : zeros;
        float* row3 = rows > 3 ? source + 3 * lda : zeros;
        float* row4 = rows > 4 ? source + 4 * lda : zeros;
        float* row5 = rows > 5 ? source + 5 * lda : zeros;
        int p = 0;
        if (Avx.IsSupported)
        {
            for (; p + 8 <= kc; p += 8)
            {
                if ((p & 15) == 0)
                {
                    // The same line of the next sliver's rows.
                    float* next = source + 6 * lda + p;
                    Prefetch(next);
                    Prefetch(next + lda);
                    Prefetch(next + 2 * lda);
                    Prefetch(next + 3 * lda);
                    Prefetch(next + 4 * lda);
                    Prefetch(next + 5 * lda);
                }
                Transpose8x8(
                    Avx.LoadVector256(row0 + p), Avx.LoadVector256(row1 + p), Avx.LoadVector256(row2 + p),
                    Avx.LoadVector256(row3 + p), Avx.LoadVector256(row4 + p), Avx.LoadVector256(row5 + p),
                    Vector256<float>.Zero, Vector256<float>.Zero,
                    out var d0, out var d1, out var d2, out var d3, out var d4, out var d5, out var d6, out var d7);
                float* destination = sliver + p * MR;
                Avx.Store(destination, d0);
                Avx.Store(destination + MR, d1);
                Avx.Store(destination + 2 * MR, d2);
                Avx.Store(destination + 3 * MR, d3);
                Avx.Store(destination + 4 * MR, d4);
                Avx.Store(destination + 5 * MR, d5);
                Avx.Store(destination + 6 * MR, d6);
                Avx.Store(destination + 7 * MR, d7);
            }
        }
        for (; p < kc; p++)
        {
            float* destination = sliver + p * MR;
            destination[0] = row0[p];
            destination[1] = row1[p];
            destination[2] = row2[p];
            destination[3] = row3[p];
            destination[4] = row4[p];
            destination[5] = row5[p];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(float* address)
    {
        // A prefetch never faults, so addresses past the operand are harmless.
        if (Sse.IsSupported)
        {
            Sse.Prefetch1(address);
        }
    }

    /// <summary>
    /// Packs op(B)[pc .. pc + kc, jc .. jc + nc) into NR-wide column slivers: sliver s holds columns
    /// jc + s*NR .. + NR, element (p, column) at packedB[s*NR*kc + p*NR + column]. Columns past nc are zero.
    /// Every sliver starts 64-byte aligned (NR floats per depth step).
    /// </summary>
    private static unsafe void PackB(in Operands operands, int pc, int kc, int jc, int nc, float* packedB, float* zeros)
    {
        int ldb = operands.Ldb;
        if (!operands.TransposeB)
        {
            PackRowMajorPanel(operands.B + (long)pc * ldb + jc, ldb, kc, nc, packedB);
            return;
        }
        for (int j = 0; j < nc; j += NR)
        {
            // B stored n x k: op(B)[p, column] = b[column * ldb + p]; NR stored rows become depth steps.
            PackTransposedSliver(operands.B + (long)(jc + j) * ldb + pc, ldb, Math.Min(NR, nc - j), zeros, kc,
                packedB + (long)j * kc);
        }
    }

    /// <summary>
    /// B stored k x n (op(B)[p, column] = source[p * ldb + column]) into NR-wide slivers. Eight depth
    /// steps at a time across the whole panel, so the reads are eight sequential row streams and the
    /// writes eight consecutive NR-float rows of each sliver.
    /// </summary>
    private static unsafe void PackRowMajorPanel(float* source, int ldb, int kc, int nc, float* packedB)
    {
        const int DepthGroup = 8;
        int fullColumns = Vector256.IsHardwareAccelerated ? nc / NR * NR : 0;
        for (int p0 = 0; p0 < kc; p0 += DepthGroup)
        {
            int depth = Math.Min(DepthGroup, kc - p0);
            for (int j = 0; j < fullColumns; j += NR)
            {
                float* rows = source + (long)p0 * ldb + j;
                float* sliverRows = packedB + (long)j * kc + p0 * NR;
                for (int q = 0; q < depth; q++, rows += ldb, sliverRows += NR)
                {
                    Prefetch(rows + PrefetchDistance);
                    Vector256.Store(Vector256.Load(rows), sliverRows);
                    Vector256.Store(Vector256.Load(rows + 8), sliverRows + 8);
                }
            }
        }
        for (int j = fullColumns; j < nc; j += NR)
        {
            int columns = Math.Min(NR, nc - j);
            float* rows = source + j;
            float* sliver = packedB + (long)j * kc;
            if (Avx.IsSupported)
            {
                // Masked lanes read nothing (no fault past the row) and load zero.
                var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
                var low = Vector256.LessThan(lane, Vector256.Create(columns)).AsSingle();
                var high = Vector256.LessThan(lane, Vector256.Create(columns - 8)).AsSingle();
                for (int p = 0; p < kc; p++, rows += ldb, sliver += NR)
                {
                    Avx.StoreAligned(sliver, Avx.MaskLoad(rows, low));
                    Avx.StoreAligned(sliver + 8, Avx.MaskLoad(rows + 8, high));
                }
                continue;
            }
            for (int p = 0; p < kc; p++, rows += ldb, sliver += NR)
            {
                for (int column = 0; column < NR; column++)
                {
                    sliver[column] = column < columns ? rows[column] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// <paramref name="columns"/> (at most NR) stored rows of B (stride ldb, kc floats each) transposed
    /// into a kc x NR depth-major sliver, as 8 x 8 blocks (the last kc % 8 steps as a masked one); the
    /// missing rows read <paramref name="zeros"/>.
    /// Sixteen depth steps (one cache line of each row) at a time, so a line is used up before the
    /// other rows in its L1 set (ldb a multiple of 1024 puts all sixteen in one set) evict it.
    /// </summary>
    private static unsafe void PackTransposedSliver(float* source, nint ldb, int columns, float* zeros, int kc, float* sliver)
    {
        float** rows = stackalloc float*[NR];
        for (int q = 0; q < NR; q++)
        {
            rows[q] = q < columns ? source + q * ldb : zeros;
        }
        int p = 0;
        if (Avx.IsSupported)
        {
            for (; p + 16 <= kc; p += 16)
            {
                for (int half = 0; half < NR; half += 8)
                {
                    // The same line of the next sliver's rows: everything after the first sliver arrives early.
                    for (int q = half; q < half + 8; q++)
                    {
                        Prefetch(rows[q] + NR * ldb + p);
                    }
                    TransposeBlock(rows + half, p, sliver + p * NR + half);
                    TransposeBlock(rows + half, p + 8, sliver + (p + 8) * NR + half);
                }
            }
            if (p + 8 <= kc)
            {
                TransposeBlock(rows, p, sliver + p * NR);
                TransposeBlock(rows + 8, p, sliver + p * NR + 8);
                p += 8;
            }
            if (p < kc)
            {
                TransposeTail(rows, p, kc - p, sliver + p * NR);
                TransposeTail(rows + 8, p, kc - p, sliver + p * NR + 8);
                p = kc;
            }
        }
        for (; p < kc; p++)
        {
            float* destination = sliver + p * NR;
            for (int column = 0; column < NR; column++)
            {
                destination[column] = rows[column][p];
            }
        }
    }

    /// <summary>Depth steps p .. p + 8 of eight rows into eight sliver steps (stride NR), transposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransposeBlock(float** rows, int p, float* destination)
    {
        Transpose8x8(
            Avx.LoadVector256(rows[0] + p), Avx.LoadVector256(rows[1] + p),
            Avx.LoadVector256(rows[2] + p), Avx.LoadVector256(rows[3] + p),
            Avx.LoadVector256(rows[4] + p), Avx.LoadVector256(rows[5] + p),
            Avx.LoadVector256(rows[6] + p), Avx.LoadVector256(rows[7] + p),
            out var d0, out var d1, out var d2, out var d3, out var d4, out var d5, out var d6, out var d7);
        Avx.StoreAligned(destination, d0);
        Avx.StoreAligned(destination + NR, d1);
        Avx.StoreAligned(destination + 2 * NR, d2);
        Avx.StoreAligned(destination + 3 * NR, d3);
        Avx.StoreAligned(destination + 4 * NR, d4);
        Avx.StoreAligned(destination + 5 * NR, d5);
        Avx.StoreAligned(destination + 6 * NR, d6);
        Avx.StoreAligned(destination + 7 * NR, d7);
    }

    /// <summary>
    /// The last <paramref name="count"/> (1 to 7) depth steps p .. p + count of eight rows into as many
    /// sliver steps: masked loads read nothing past the count (nor fault there).
    /// </summary>
    private static unsafe void TransposeTail(float** rows, int p, int count, float* destination)
    {
        var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();
        Transpose8x8(
            Avx.MaskLoad(rows[0] + p, mask), Avx.MaskLoad(rows[1] + p, mask),
            Avx.MaskLoad(rows[2] + p, mask), Avx.MaskLoad(rows[3] + p, mask),
            Avx.MaskLoad(rows[4] + p, mask), Avx.MaskLoad(rows[5] + p, mask),
            Avx.MaskLoad(rows[6] + p, mask), Avx.MaskLoad(rows[7] + p, mask),
            out var d0, out var d1, out var d2, out var d3, out var d4, out var d5, out var d6, out _);
        Avx.StoreAligned(destination, d0);
        if (count > 1) Avx.StoreAligned(destination + NR, d1);
        if (count > 2) Avx.StoreAligned(destination + 2 * NR, d2);
        if (count > 3) Avx.StoreAligned(destination + 3 * NR, d3);
        if (count > 4) Avx.StoreAligned(destination + 4 * NR, d4);
        if (count > 5) Avx.StoreAligned(destination + 5 * NR, d5);
        if (count > 6) Avx.StoreAligned(destination + 6 * NR, d6);
    }

    /// <summary>Rows r0..r7 of an 8 x 8 block in, its columns out: d_j[i] = r_i[j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(
        Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> d0, out Vector256<float> d1, out Vector256<float> d2, out Vector256<float> d3,
        out Vector256<float> d4, out Vector256<float> d5, out Vector256<float> d6, out Vector256<float> d7)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        d0 = Avx.Permute2x128(u0, u4, 0x20);
        d1 = Avx.Permute2x128(u1, u5, 0x20);
        d2 = Avx.Permute2x128(u2, u6, 0x20);
        d3 = Avx.Permute2x128(u3, u7, 0x20);
        d4 = Avx.Permute2x128(u0, u4, 0x31);
        d5 = Avx.Permute2x128(u1, u5, 0x31);
        d6 = Avx.Permute2x128(u2, u6, 0x31);
        d7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>
    /// One thread's packing buffers, 64-byte aligned inside a pinned array that grows to the largest
    /// product the thread has run and is then reused: no allocation per call after warm-up.
    /// Layout: KC zeros, the packed A block, slack for the eight-float stores of <see cref="PackA"/>
    /// that overlap past the last sliver, the packed B panel (on the direct path: one B sliver).
    /// </summary>
    private sealed unsafe class PackingScratch
    {
        private const int AlignmentFloats = 16;
        private const int SlackFloats = 16;

        [ThreadStatic]
        private static PackingScratch? _current;

        // Holds the pinned storage the pointers below point into.
        private readonly float[] _storage;
        private readonly int _capacityA;
        private readonly int _capacityB;

        private PackingScratch(int capacityA, int capacityB)
        {
            _capacityA = RoundUp(capacityA, AlignmentFloats);
            _capacityB = RoundUp(capacityB, AlignmentFloats);
            _storage = GC.AllocateUninitializedArray<float>(
                AlignmentFloats + KC + _capacityA + SlackFloats + _capacityB, pinned: true);
            float* start = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
            float* aligned = (float*)(((nuint)start + 63) & ~(nuint)63);
            Zeros = aligned;
            new Span<float>(Zeros, KC).Clear();
            PackedA = Zeros + KC;
            PackedB = PackedA + _capacityA + SlackFloats;
        }

        /// <summary>KC zeros, never written: the missing rows of an edge sliver read them.</summary>
        public float* Zeros { get; }

        public float* PackedA { get; }

        public float* PackedB { get; }

        public static PackingScratch ForCurrentThread(int floatsA, int floatsB)
        {
            var scratch = _current;
            if (scratch is null || scratch._capacityA < floatsA || scratch._capacityB < floatsB)
            {
                scratch = new PackingScratch(
                    Math.Max(floatsA, scratch?._capacityA ?? 0), Math.Max(floatsB, scratch?._capacityB ?? 0));
                _current = scratch;
            }
            return scratch;
        }
    }
}
