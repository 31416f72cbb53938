using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Cpu;

public static partial class Gemm
{
    /// <summary>
    /// One MR x NR tile: C[0..rows, 0..columns) (row stride ldc) = (overwrite ? 0 : C) + A_sliver * B_sliver
    /// over kc depth steps. A_sliver[r, p] = a[r * aRowStride + p * aDepthStride] (packed: 1 and MR) for
    /// r in [0, MR); B_sliver[p, 0..NR) = b[p * bDepthStride ..] (packed: NR). All MR x NR are computed;
    /// rows and columns only limit what is written. The accumulators are twelve Vector256 held in
    /// registers; with two B vectors and one broadcast A value that is 15 of the 16 ymm registers.
    /// </summary>
    private static unsafe void MicroKernel(int kc, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, int ldc, int rows, int columns, bool overwrite, float* edgeTile)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            VectorMicroKernel(kc, a, aRowStride, aDepthStride, b, bDepthStride, c, ldc, rows, columns, overwrite, edgeTile);
        }
        else
        {
            ScalarMicroKernel(kc, a, b, c, ldc, rows, columns, overwrite);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> addend)
        => Fma.IsSupported ? Fma.MultiplyAdd(a, b, addend) : a * b + addend;

    private static unsafe void VectorMicroKernel(int kc, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, int ldc, int rows, int columns, bool overwrite, float* edgeTile)
    {
        nint row1 = aRowStride;
        nint row2 = 2 * aRowStride;
        nint row3 = 3 * aRowStride;
        nint row4 = 4 * aRowStride;
        nint row5 = 5 * aRowStride;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ar = Vector256.Create(a[0]);
            c00 = MultiplyAdd(ar, b0, c00);
            c01 = MultiplyAdd(ar, b1, c01);
            ar = Vector256.Create(a[row1]);
            c10 = MultiplyAdd(ar, b0, c10);
            c11 = MultiplyAdd(ar, b1, c11);
            ar = Vector256.Create(a[row2]);
            c20 = MultiplyAdd(ar, b0, c20);
            c21 = MultiplyAdd(ar, b1, c21);
            ar = Vector256.Create(a[row3]);
            c30 = MultiplyAdd(ar, b0, c30);
            c31 = MultiplyAdd(ar, b1, c31);
            ar = Vector256.Create(a[row4]);
            c40 = MultiplyAdd(ar, b0, c40);
            c41 = MultiplyAdd(ar, b1, c41);
            ar = Vector256.Create(a[row5]);
            c50 = MultiplyAdd(ar, b0, c50);
            c51 = MultiplyAdd(ar, b1, c51);
            a += aDepthStride;
            b += bDepthStride;
        }

        if (rows == MR && columns == NR)
        {
            StoreRow(c, overwrite, c00, c01);
            StoreRow(c + ldc, overwrite, c10, c11);
            StoreRow(c + 2L * ldc, overwrite, c20, c21);
            StoreRow(c + 3L * ldc, overwrite, c30, c31);
            StoreRow(c + 4L * ldc, overwrite, c40, c41);
            StoreRow(c + 5L * ldc, overwrite, c50, c51);
            return;
        }

        Vector256.Store(c00, edgeTile);
        Vector256.Store(c01, edgeTile + 8);
        Vector256.Store(c10, edgeTile + NR);
        Vector256.Store(c11, edgeTile + NR + 8);
        Vector256.Store(c20, edgeTile + 2 * NR);
        Vector256.Store(c21, edgeTile + 2 * NR + 8);
        Vector256.Store(c30, edgeTile + 3 * NR);
        Vector256.Store(c31, edgeTile + 3 * NR + 8);
        Vector256.Store(c40, edgeTile + 4 * NR);
        Vector256.Store(c41, edgeTile + 4 * NR + 8);
        Vector256.Store(c50, edgeTile + 5 * NR);
        Vector256.Store(c51, edgeTile + 5 * NR + 8);
        StoreEdgeTile(edgeTile, c, ldc, rows, columns, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(float* c, bool overwrite, Vector256<float> left, Vector256<float> right)
    {
        if (!overwrite)
        {
            left += Vector256.Load(c);
            right += Vector256.Load(c + 8);
        }
        Vector256.Store(left, c);
        Vector256.Store(right, c + 8);
    }

    /// <summary>Writes the valid rows x columns corner of a full MR x NR tile (row stride NR) into C.</summary>
    private static unsafe void StoreEdgeTile(float* tile, float* c, int ldc, int rows, int columns, bool overwrite)
    {
        for (int r = 0; r < rows; r++, tile += NR, c += ldc)
        {
            if (overwrite)
            {
                for (int j = 0; j < columns; j++)
                {
                    c[j] = tile[j];
                }
            }
            else
            {
                for (int j = 0; j < columns; j++)
                {
                    c[j] += tile[j];
                }
            }
        }
    }

    /// <summary>The same tile for machines without 256-bit vectors (always packed operands): scalar accumulators.</summary>
    private static unsafe void ScalarMicroKernel(int kc, float* a, float* b, float* c, int ldc,
        int rows, int columns, bool overwrite)
    {
        float* accumulators = stackalloc float[MR * NR];
        new Span<float>(accumulators, MR * NR).Clear();
        for (int p = 0; p < kc; p++, a += MR, b += NR)
        {
            for (int r = 0; r < MR; r++)
            {
                float ar = a[r];
                float* row = accumulators + r * NR;
                for (int j = 0; j < NR; j++)
                {
                    row[j] += ar * b[j];
                }
            }
        }
        StoreEdgeTile(accumulators, c, ldc, rows, columns, overwrite);
    }
}
