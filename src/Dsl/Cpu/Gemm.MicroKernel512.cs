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
    /// the end: 12 of the 32 zmm registers. Same operands, layout and preconditions as the Vector256 tile. Its sums run in
    /// another order than a Vector256 tile of 4 to 6 rows (which sums every step into one set), so the two paths agree
    /// to float rounding, not bit for bit.
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
