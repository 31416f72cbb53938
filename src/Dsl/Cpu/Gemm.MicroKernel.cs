using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Cpu;

public static partial class Gemm
{
    /// <summary>
    /// A column of tiles: C[0..rows, 0..columns) (row stride ldc) = (overwrite ? 0 : C) + A_rows * B_sliver
    /// over kc depth steps, for any rows &gt;= 1 and columns in [1, NR]. Row r of A is MR-row tile r / MR,
    /// row r % MR inside it; A_tile[r, p] = a[tile * aTileStride + r * aRowStride + p * aDepthStride]
    /// (packed: MR * kc, 1 and MR; in place: MR * aRowStride and the operand's strides). B_sliver[p,
    /// 0..NR) = b[p * bDepthStride ..] (packed: NR), read 8 columns wide when columns &lt;= 8, else 16.
    /// Only the rows of A that exist are read, so an in-place A needs no padding rows; the full tiles
    /// run in one call, the ragged last tile (rows % MR) in a narrower one.
    /// </summary>
    private static unsafe void MicroKernel(int kc, float* a, nint aRowStride, nint aDepthStride, nint aTileStride,
        float* b, nint bDepthStride, float* c, int ldc, int rows, int columns, bool overwrite)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            ScalarMicroKernel(kc, a, aRowStride, aDepthStride, aTileStride, b, bDepthStride, c, ldc, rows, columns, overwrite);
            return;
        }
        int fullTiles = rows / MR;
        int rest = rows - fullTiles * MR;
        if (columns > 8 && Vector512.IsHardwareAccelerated)
        {
            if (fullTiles > 0)
            {
                Tile512<SixRows>(fullTiles, kc, a, aRowStride, aDepthStride, aTileStride, b, bDepthStride, c, ldc, columns, overwrite);
            }
            a += fullTiles * aTileStride;
            c += (long)fullTiles * MR * ldc;
            switch (rest)
            {
                case 5: Tile512<FiveRows>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 4: Tile512<FourRows>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 3: Tile512<ThreeRows>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 2: Tile512<TwoRows>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 1: Tile512<OneRow>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
            }
        }
        else if (columns > 8)
        {
            if (fullTiles > 0)
            {
                Tile<SixRows, SixteenColumns>(fullTiles, kc, a, aRowStride, aDepthStride, aTileStride, b, bDepthStride, c, ldc, columns, overwrite);
            }
            a += fullTiles * aTileStride;
            c += (long)fullTiles * MR * ldc;
            switch (rest)
            {
                case 5: Tile<FiveRows, SixteenColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 4: Tile<FourRows, SixteenColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 3: Tile<ThreeRows, SixteenColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 2: Tile<TwoRows, SixteenColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 1: Tile<OneRow, SixteenColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
            }
        }
        else
        {
            if (fullTiles > 0)
            {
                Tile<SixRows, EightColumns>(fullTiles, kc, a, aRowStride, aDepthStride, aTileStride, b, bDepthStride, c, ldc, columns, overwrite);
            }
            a += fullTiles * aTileStride;
            c += (long)fullTiles * MR * ldc;
            switch (rest)
            {
                case 5: Tile<FiveRows, EightColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 4: Tile<FourRows, EightColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 3: Tile<ThreeRows, EightColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 2: Tile<TwoRows, EightColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
                case 1: Tile<OneRow, EightColumns>(1, kc, a, aRowStride, aDepthStride, 0, b, bDepthStride, c, ldc, columns, overwrite); break;
            }
        }
    }

    /// <summary>Tile height as a type, so each height is its own JIT specialisation with the unused rows compiled away.</summary>
    private interface ITileRows
    {
        static abstract int Count { get; }
    }

    private readonly struct OneRow : ITileRows
    {
        public static int Count => 1;
    }

    private readonly struct TwoRows : ITileRows
    {
        public static int Count => 2;
    }

    private readonly struct ThreeRows : ITileRows
    {
        public static int Count => 3;
    }

    private readonly struct FourRows : ITileRows
    {
        public static int Count => 4;
    }

    private readonly struct FiveRows : ITileRows
    {
        public static int Count => 5;
    }

    private readonly struct SixRows : ITileRows
    {
        public static int Count => MR;
    }

    /// <summary>Tile width as a type: one Vector256 of columns (8) or two (NR = 16).</summary>
    private interface ITileWidth
    {
        static abstract bool Wide { get; }
    }

    private readonly struct EightColumns : ITileWidth
    {
        public static bool Wide => false;
    }

    private readonly struct SixteenColumns : ITileWidth
    {
        public static bool Wide => true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> addend)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, addend) : a * b + addend;

    /// <summary>
    /// <paramref name="tiles"/> register tiles down one B sliver, tile t at a + t * aTileStride and
    /// c + t * TRows * ldc: TRows x (8 or 16) accumulators, at most twelve Vector256; with two B vectors
    /// and one broadcast A value that is 15 of the 16 ymm registers. Depth steps go two at a time (the
    /// loop's bookkeeping is shared by up to 24 FMAs), with a single trailing step for odd kc. Keeping
    /// two FMAs per cycle issuing takes eight independent accumulators (4-cycle latency); a tile with
    /// fewer sends its odd steps into a second set, added in at the end. Precondition: columns in
    /// (8, 16] when wide, else in [1, 8].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile<TRows, TWidth>(int tiles, int kc, float* a, nint aRowStride, nint aDepthStride,
        nint aTileStride, float* b, nint bDepthStride, float* c, int ldc, int columns, bool overwrite)
        where TRows : struct, ITileRows where TWidth : struct, ITileWidth
    {
        int rows = TRows.Count;
        bool wide = TWidth.Wide;
        bool split = rows * (wide ? 2 : 1) < 8;
        nint row1 = aRowStride;
        nint row2 = 2 * aRowStride;
        nint row3 = 3 * aRowStride;
        nint row4 = 4 * aRowStride;
        nint row5 = 5 * aRowStride;
        nint aPair = 2 * aDepthStride;
        nint bPair = 2 * bDepthStride;
        for (; tiles > 0; tiles--, a += aTileStride, c += (long)rows * ldc)
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
            Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
            // The odd steps' set when split: at most six of these exist in any one tile shape.
            Vector256<float> e00 = default, e01 = default, e10 = default, e11 = default, e20 = default;
            Vector256<float> e21 = default, e30 = default, e40 = default, e50 = default;
            float* aEven = a;
            float* aOdd = a + aDepthStride;
            float* bEven = b;
            float* bOdd = b + bDepthStride;
            int p = kc;
            for (; p >= 2; p -= 2)
            {
                Step<TRows, TWidth>(aEven, row1, row2, row3, row4, row5, bEven,
                    ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                if (split)
                {
                    Step<TRows, TWidth>(aOdd, row1, row2, row3, row4, row5, bOdd,
                        ref e00, ref e01, ref e10, ref e11, ref e20, ref e21, ref e30, ref c31, ref e40, ref c41, ref e50, ref c51);
                }
                else
                {
                    Step<TRows, TWidth>(aOdd, row1, row2, row3, row4, row5, bOdd,
                        ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                }
                aEven += aPair;
                aOdd += aPair;
                bEven += bPair;
                bOdd += bPair;
            }
            if (p == 1)
            {
                Step<TRows, TWidth>(aEven, row1, row2, row3, row4, row5, bEven,
                    ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            }
            if (split)
            {
                // A split tile is at most 3 x 16 or 6 x 8: these are all its odd steps' accumulators.
                c00 += e00;
                c01 += e01;
                c10 += e10;
                c11 += e11;
                c20 += e20;
                c21 += e21;
                c30 += e30;
                c40 += e40;
                c50 += e50;
            }

            StoreRow<TWidth>(c, columns, overwrite, c00, c01);
            if (rows > 1) StoreRow<TWidth>(c + ldc, columns, overwrite, c10, c11);
            if (rows > 2) StoreRow<TWidth>(c + 2L * ldc, columns, overwrite, c20, c21);
            if (rows > 3) StoreRow<TWidth>(c + 3L * ldc, columns, overwrite, c30, c31);
            if (rows > 4) StoreRow<TWidth>(c + 4L * ldc, columns, overwrite, c40, c41);
            if (rows > 5) StoreRow<TWidth>(c + 5L * ldc, columns, overwrite, c50, c51);
        }
    }

    /// <summary>One depth step of a tile: TRows broadcasts of A (a[r * aRowStride]) against one or two B vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step<TRows, TWidth>(float* a, nint row1, nint row2, nint row3, nint row4, nint row5, float* b,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
        where TRows : struct, ITileRows where TWidth : struct, ITileWidth
    {
        int rows = TRows.Count;
        bool wide = TWidth.Wide;
        var b0 = Vector256.Load(b);
        var b1 = wide ? Vector256.Load(b + 8) : default;
        var ar = Vector256.Create(a[0]);
        c00 = MultiplyAdd(ar, b0, c00);
        if (wide) c01 = MultiplyAdd(ar, b1, c01);
        if (rows > 1)
        {
            ar = Vector256.Create(a[row1]);
            c10 = MultiplyAdd(ar, b0, c10);
            if (wide) c11 = MultiplyAdd(ar, b1, c11);
        }
        if (rows > 2)
        {
            ar = Vector256.Create(a[row2]);
            c20 = MultiplyAdd(ar, b0, c20);
            if (wide) c21 = MultiplyAdd(ar, b1, c21);
        }
        if (rows > 3)
        {
            ar = Vector256.Create(a[row3]);
            c30 = MultiplyAdd(ar, b0, c30);
            if (wide) c31 = MultiplyAdd(ar, b1, c31);
        }
        if (rows > 4)
        {
            ar = Vector256.Create(a[row4]);
            c40 = MultiplyAdd(ar, b0, c40);
            if (wide) c41 = MultiplyAdd(ar, b1, c41);
        }
        if (rows > 5)
        {
            ar = Vector256.Create(a[row5]);
            c50 = MultiplyAdd(ar, b0, c50);
            if (wide) c51 = MultiplyAdd(ar, b1, c51);
        }
    }

    /// <summary>One row of a tile into C[0..columns): whole vectors stored directly, a ragged last vector lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow<TWidth>(float* c, int columns, bool overwrite, Vector256<float> left, Vector256<float> right)
        where TWidth : struct, ITileWidth
    {
        if (TWidth.Wide)
        {
            if (!overwrite)
            {
                left += Vector256.Load(c);
            }
            Vector256.Store(left, c);
            if (columns == NR)
            {
                if (!overwrite)
                {
                    right += Vector256.Load(c + 8);
                }
                Vector256.Store(right, c + 8);
            }
            else
            {
                StoreLanes(c + 8, right, columns - 8, overwrite);
            }
        }
        else if (columns == 8)
        {
            if (!overwrite)
            {
                left += Vector256.Load(c);
            }
            Vector256.Store(left, c);
        }
        else
        {
            StoreLanes(c, left, columns, overwrite);
        }
    }

    /// <summary>
    /// The first <paramref name="count"/> (1 to 7) lanes of <paramref name="values"/> into c, nothing
    /// past them touched: four, two and one float at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreLanes(float* c, Vector256<float> values, int count, bool overwrite)
    {
        Vector128<float> part = values.GetLower();
        if (count >= 4)
        {
            if (!overwrite)
            {
                part += Vector128.Load(c);
            }
            Vector128.Store(part, c);
            c += 4;
            count -= 4;
            part = values.GetUpper();
        }
        if (count >= 2)
        {
            if (!overwrite)
            {
                part += Vector128.CreateScalar(*(double*)c).AsSingle();
            }
            *(double*)c = part.AsDouble().ToScalar();
            c += 2;
            count -= 2;
            part = Vector128.Shuffle(part, Vector128.Create(2, 3, 2, 3));
        }
        if (count == 1)
        {
            *c = overwrite ? part.ToScalar() : *c + part.ToScalar();
        }
    }

    /// <summary>The same column of tiles for machines without 256-bit vectors: scalar accumulators, one tile at a time.</summary>
    private static unsafe void ScalarMicroKernel(int kc, float* a, nint aRowStride, nint aDepthStride, nint aTileStride,
        float* b, nint bDepthStride, float* c, int ldc, int rows, int columns, bool overwrite)
    {
        float* accumulators = stackalloc float[MR * NR];
        for (int tileRow = 0; tileRow < rows; tileRow += MR, a += aTileStride, c += (long)MR * ldc)
        {
            int tileRows = Math.Min(MR, rows - tileRow);
            new Span<float>(accumulators, MR * NR).Clear();
            float* aStep = a;
            float* bStep = b;
            for (int p = 0; p < kc; p++, aStep += aDepthStride, bStep += bDepthStride)
            {
                for (int r = 0; r < tileRows; r++)
                {
                    float ar = aStep[r * aRowStride];
                    float* row = accumulators + r * NR;
                    for (int j = 0; j < columns; j++)
                    {
                        row[j] += ar * bStep[j];
                    }
                }
            }
            float* tile = accumulators;
            float* cRow = c;
            for (int r = 0; r < tileRows; r++, tile += NR, cRow += ldc)
            {
                for (int j = 0; j < columns; j++)
                {
                    cRow[j] = overwrite ? tile[j] : cRow[j] + tile[j];
                }
            }
        }
    }
}
