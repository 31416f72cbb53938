using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dsl.Cpu;

public static partial class Gemm
{
    /// <summary>
    /// The AVX-512 form of <see cref="MicroKernel"/>'s wide tiles (columns in (8, NR]): a B sliver's NR = 16 columns
    /// are one Vector512, so a tile row is one accumulator and a depth step of a 6-row tile is one B load, six A
    /// broadcasts and six FMAs, half the instructions of the two-Vector256 tile. Six accumulators cannot keep two
    /// 512-bit FMAs per cycle issuing (4-cycle latency), so odd depth steps go into a second set of six, added in at
    /// the end: 12 of the 32 zmm registers. Same operands, layout and preconditions as the Vector256 tile. Every tile
    /// taken while Vector512 is accelerated (these, <see cref="TilePair"/> and the 8-column Vector256 tiles) sums that
    /// way, so an element's bits do not depend on the tile that computes it; against the Vector256 path's wide tiles
    /// of 4 to 6 rows (which sum every step into one set) results agree to float rounding, not bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile512<TRows>(int tiles, int kc, float* a, nint aRowStride, nint aDepthStride,
        nint aTileStride, float* b, nint bDepthStride, float* c, int ldc, int columns, bool overwrite)
        where TRows : struct, ITileRows
    {
        int rows = TRows.Count;
        nint row1 = aRowStride;
        nint row2 = 2 * aRowStride;
        nint row3 = 3 * aRowStride;
        nint row4 = 4 * aRowStride;
        nint row5 = 5 * aRowStride;
        nint aPair = 2 * aDepthStride;
        nint bPair = 2 * bDepthStride;
        for (; tiles > 0; tiles--, a += aTileStride, c += (long)rows * ldc)
        {
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, e4 = default, e5 = default;
            float* aEven = a;
            float* aOdd = a + aDepthStride;
            float* bEven = b;
            float* bOdd = b + bDepthStride;
            int p = kc;
            for (; p >= 2; p -= 2)
            {
                Step512<TRows>(aEven, row1, row2, row3, row4, row5, bEven, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5);
                Step512<TRows>(aOdd, row1, row2, row3, row4, row5, bOdd, ref e0, ref e1, ref e2, ref e3, ref e4, ref e5);
                aEven += aPair;
                aOdd += aPair;
                bEven += bPair;
                bOdd += bPair;
            }
            if (p == 1)
            {
                Step512<TRows>(aEven, row1, row2, row3, row4, row5, bEven, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5);
            }

            StoreRow512(c, columns, overwrite, c0 + e0);
            if (rows > 1) StoreRow512(c + ldc, columns, overwrite, c1 + e1);
            if (rows > 2) StoreRow512(c + 2L * ldc, columns, overwrite, c2 + e2);
            if (rows > 3) StoreRow512(c + 3L * ldc, columns, overwrite, c3 + e3);
            if (rows > 4) StoreRow512(c + 4L * ldc, columns, overwrite, c4 + e4);
            if (rows > 5) StoreRow512(c + 5L * ldc, columns, overwrite, c5 + e5);
        }
    }

    /// <summary>
    /// <see cref="MicroKernel"/> over two adjacent full B slivers at once (32 columns of C), for AVX-512: full 6-row tiles
    /// run <see cref="TilePair"/>, the ragged last tile (rows % MR) one <see cref="Tile512{TRows}"/> per sliver. The
    /// second sliver is at <paramref name="b1"/> with the same depth stride as the first; C's second 16 columns follow
    /// its first. Precondition: <see cref="Vector512.IsHardwareAccelerated"/>.
    /// </summary>
    private static unsafe void MicroKernelPair(int kc, float* a, nint aRowStride, nint aDepthStride, nint aTileStride,
        float* b0, float* b1, nint bDepthStride, float* c, int ldc, int rows, bool overwrite)
    {
        int fullTiles = rows / MR;
        int rest = rows - fullTiles * MR;
        if (fullTiles > 0)
        {
            TilePair(fullTiles, kc, a, aRowStride, aDepthStride, aTileStride, b0, b1, bDepthStride, c, ldc, overwrite);
        }

        if (rest > 0)
        {
            a += fullTiles * aTileStride;
            c += (long)fullTiles * MR * ldc;
            MicroKernel(kc, a, aRowStride, aDepthStride, aTileStride, b0, bDepthStride, c, ldc, rest, NR, overwrite);
            MicroKernel(kc, a, aRowStride, aDepthStride, aTileStride, b1, bDepthStride, c + NR, ldc, rest, NR, overwrite);
        }
    }

    /// <summary>
    /// <paramref name="tiles"/> 6 x 32 register tiles: per depth step two B vectors (one per sliver), six A broadcasts
    /// and twelve FMAs, a third fewer loads per FMA than a 6 x 16 tile. Like every tile on this path it sums the even
    /// depth steps and the odd ones apart and adds the two at the end (24 accumulators, 27 of the 32 zmm registers), so
    /// an element of C gets the same bits whichever tile computes it: a product split across threads, or a batch
    /// predicted row by row, matches the whole one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TilePair(int tiles, int kc, float* a, nint aRowStride, nint aDepthStride,
        nint aTileStride, float* b0, float* b1, nint bDepthStride, float* c, int ldc, bool overwrite)
    {
        nint row1 = aRowStride;
        nint row2 = 2 * aRowStride;
        nint row3 = 3 * aRowStride;
        nint row4 = 4 * aRowStride;
        nint row5 = 5 * aRowStride;
        nint aPair = 2 * aDepthStride;
        nint bPair = 2 * bDepthStride;
        for (; tiles > 0; tiles--, a += aTileStride, c += (long)MR * ldc)
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            Vector512<float> e00 = default, e01 = default, e10 = default, e11 = default, e20 = default, e21 = default;
            Vector512<float> e30 = default, e31 = default, e40 = default, e41 = default, e50 = default, e51 = default;
            float* aStep = a;
            float* left = b0;
            float* right = b1;
            int p = kc;
            for (; p >= 2; p -= 2, aStep += aPair, left += bPair, right += bPair)
            {
                PairStep(aStep, row1, row2, row3, row4, row5, left, right,
                    ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                PairStep(aStep + aDepthStride, row1, row2, row3, row4, row5, left + bDepthStride, right + bDepthStride,
                    ref e00, ref e01, ref e10, ref e11, ref e20, ref e21, ref e30, ref e31, ref e40, ref e41, ref e50, ref e51);
            }
            if (p == 1)
            {
                PairStep(aStep, row1, row2, row3, row4, row5, left, right,
                    ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            }

            StorePairRow(c, overwrite, c00 + e00, c01 + e01);
            StorePairRow(c + ldc, overwrite, c10 + e10, c11 + e11);
            StorePairRow(c + 2L * ldc, overwrite, c20 + e20, c21 + e21);
            StorePairRow(c + 3L * ldc, overwrite, c30 + e30, c31 + e31);
            StorePairRow(c + 4L * ldc, overwrite, c40 + e40, c41 + e41);
            StorePairRow(c + 5L * ldc, overwrite, c50 + e50, c51 + e51);
        }
    }

    /// <summary>One depth step of a 6 x 32 tile: six broadcasts of A against the two slivers' B vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PairStep(float* a, nint row1, nint row2, nint row3, nint row4, nint row5, float* left, float* right,
        ref Vector512<float> c00, ref Vector512<float> c01, ref Vector512<float> c10, ref Vector512<float> c11,
        ref Vector512<float> c20, ref Vector512<float> c21, ref Vector512<float> c30, ref Vector512<float> c31,
        ref Vector512<float> c40, ref Vector512<float> c41, ref Vector512<float> c50, ref Vector512<float> c51)
    {
        var l = Vector512.Load(left);
        var r = Vector512.Load(right);
        var ar = Vector512.Create(a[0]);
        c00 = Vector512.FusedMultiplyAdd(ar, l, c00);
        c01 = Vector512.FusedMultiplyAdd(ar, r, c01);
        ar = Vector512.Create(a[row1]);
        c10 = Vector512.FusedMultiplyAdd(ar, l, c10);
        c11 = Vector512.FusedMultiplyAdd(ar, r, c11);
        ar = Vector512.Create(a[row2]);
        c20 = Vector512.FusedMultiplyAdd(ar, l, c20);
        c21 = Vector512.FusedMultiplyAdd(ar, r, c21);
        ar = Vector512.Create(a[row3]);
        c30 = Vector512.FusedMultiplyAdd(ar, l, c30);
        c31 = Vector512.FusedMultiplyAdd(ar, r, c31);
        ar = Vector512.Create(a[row4]);
        c40 = Vector512.FusedMultiplyAdd(ar, l, c40);
        c41 = Vector512.FusedMultiplyAdd(ar, r, c41);
        ar = Vector512.Create(a[row5]);
        c50 = Vector512.FusedMultiplyAdd(ar, l, c50);
        c51 = Vector512.FusedMultiplyAdd(ar, r, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StorePairRow(float* c, bool overwrite, Vector512<float> left, Vector512<float> right)
    {
        if (!overwrite)
        {
            left += Vector512.Load(c);
            right += Vector512.Load(c + NR);
        }
        Vector512.Store(left, c);
        Vector512.Store(right, c + NR);
    }

    /// <summary>One depth step of a 512-bit tile: TRows broadcasts of A (a[r * aRowStride]) against one B vector of 16 columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step512<TRows>(float* a, nint row1, nint row2, nint row3, nint row4, nint row5, float* b,
        ref Vector512<float> c0, ref Vector512<float> c1, ref Vector512<float> c2, ref Vector512<float> c3, ref Vector512<float> c4, ref Vector512<float> c5)
        where TRows : struct, ITileRows
    {
        int rows = TRows.Count;
        var b0 = Vector512.Load(b);
        c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
        if (rows > 1) c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[row1]), b0, c1);
        if (rows > 2) c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[row2]), b0, c2);
        if (rows > 3) c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[row3]), b0, c3);
        if (rows > 4) c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[row4]), b0, c4);
        if (rows > 5) c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[row5]), b0, c5);
    }

    /// <summary>One row of a 512-bit tile into C[0..columns), columns in (8, 16]: a full row stored at once, a ragged one as two halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow512(float* c, int columns, bool overwrite, Vector512<float> values)
    {
        if (columns == NR)
        {
            if (!overwrite)
            {
                values += Vector512.Load(c);
            }
            Vector512.Store(values, c);
        }
        else
        {
            StoreRow<SixteenColumns>(c, columns, overwrite, values.GetLower(), values.GetUpper());
        }
    }
}
