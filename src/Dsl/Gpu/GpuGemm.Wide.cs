using ILGPU;

namespace Dsl.Gpu;

// The wide GEMM kernel: a 128 x 128 tile of C per group of 16 x 16 threads, each thread an 8 x 8 block of
// accumulators held as four 4 x 4 register tiles (one per 64 x 64 quadrant of the group's tile). Per depth
// step a thread reads 8 floats of each slab for 64 multiply-adds, twice the standard kernel's 16 per 8 reads,
// so large products are less bound by shared-memory bandwidth. It needs a quarter as many groups as the
// 64 x 64 kernel, so it only pays when C is large enough to keep every multiprocessor busy with them:
// GemmTileSelection decides. Same operand layouts, constant sizes, epilogues and edge handling as Kernel<TA, TB, TSizes, TEpilogue>.
public static partial class GpuGemm
{
    /// <summary>Rows and columns of C per group in the wide kernel.</summary>
    internal const int WideTile = 128;

    /// <summary>Depth of a wide staged slab: 128 x 8 floats, 4 per thread as in the standard kernel.</summary>
    internal const int WideDepth = 8;

    /// <summary>
    /// Floats per depth row of a wide slab: 128 plus 4 of padding. Staging a depth-contiguous operand, a warp writes
    /// 4 outer indices x 8 depths at (4 depth + outer) mod 32 banks, all distinct (with a pad of 1 they would meet
    /// up to 4 to a bank); outer-contiguous staging and the reads touch consecutive floats either way.
    /// </summary>
    internal const int WideSlabStride = WideTile + 4;

    /// <summary>
    /// One group's 128 x 128 tile of C: group (Grid.IdxX, Grid.IdxY) covers columns from 128 Grid.IdxX and rows
    /// from 128 Grid.IdxY; thread (tx, ty) accumulates rows ty + 16 i and columns tx + 16 j (i, j in 0..7) and
    /// passes each one inside C to the epilogue once, after the whole depth.
    /// </summary>
    /// <typeparam name="TA">How A is stored, indexed (row of C, depth).</typeparam>
    /// <typeparam name="TB">How B is stored, indexed (column of C, depth).</typeparam>
    /// <typeparam name="TSizes">Which sizes are compile-time constants; the others come from <paramref name="launched"/>.</typeparam>
    /// <typeparam name="TEpilogue">What happens to each finished element of C.</typeparam>
    internal static void WideKernel<TA, TB, TSizes, TEpilogue>(GemmShape launched, ArrayView<float> a, ArrayView<float> b, TEpilogue epilogue)
        where TA : struct, IOperandLayout
        where TB : struct, IOperandLayout
        where TSizes : struct, IGemmSizes
        where TEpilogue : struct, IGpuEpilogue
    {
        GemmShape shape = default(TSizes).Resolve(launched); // after inlining, the fixed sizes are literals
        // slab[depth * WideSlabStride + outer], as in the standard kernel.
        ArrayView<float> aSlab = SharedMemory.Allocate<float>(WideDepth * WideSlabStride);
        ArrayView<float> bSlab = SharedMemory.Allocate<float>(WideDepth * WideSlabStride);

        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int thread = (ty * GroupSide) + tx;
        int rowStart = Grid.IdxY * WideTile;
        int columnStart = Grid.IdxX * WideTile;
        const int Half = WideTile / 2; // quadrant side: rows ty + 16 i for i < 4 are the top half

        var topLeft = default(RegisterTile);
        var topRight = default(RegisterTile);
        var bottomLeft = default(RegisterTile);
        var bottomRight = default(RegisterTile);
        for (int depthStart = 0; depthStart < shape.K; depthStart += WideDepth)
        {
            Stage<TA>(aSlab, a, shape.Lda, rowStart, shape.M, depthStart, shape.K, thread, WideTile, WideDepth, WideSlabStride);
            Stage<TB>(bSlab, b, shape.Ldb, columnStart, shape.N, depthStart, shape.K, thread, WideTile, WideDepth, WideSlabStride);
            Group.Barrier();

            for (int depth = 0; depth < WideDepth; depth++)
            {
                int rowOffset = (depth * WideSlabStride) + ty;
                int columnOffset = (depth * WideSlabStride) + tx;
                float a0 = aSlab[rowOffset];
                float a1 = aSlab[rowOffset + GroupSide];
                float a2 = aSlab[rowOffset + (2 * GroupSide)];
                float a3 = aSlab[rowOffset + (3 * GroupSide)];
                float a4 = aSlab[rowOffset + Half];
                float a5 = aSlab[rowOffset + Half + GroupSide];
                float a6 = aSlab[rowOffset + Half + (2 * GroupSide)];
                float a7 = aSlab[rowOffset + Half + (3 * GroupSide)];
                float b0 = bSlab[columnOffset];
                float b1 = bSlab[columnOffset + GroupSide];
                float b2 = bSlab[columnOffset + (2 * GroupSide)];
                float b3 = bSlab[columnOffset + (3 * GroupSide)];
                float b4 = bSlab[columnOffset + Half];
                float b5 = bSlab[columnOffset + Half + GroupSide];
                float b6 = bSlab[columnOffset + Half + (2 * GroupSide)];
                float b7 = bSlab[columnOffset + Half + (3 * GroupSide)];
                topLeft.Add(a0, a1, a2, a3, b0, b1, b2, b3);
                topRight.Add(a0, a1, a2, a3, b4, b5, b6, b7);
                bottomLeft.Add(a4, a5, a6, a7, b0, b1, b2, b3);
                bottomRight.Add(a4, a5, a6, a7, b4, b5, b6, b7);
            }

            // Nobody restages the slabs while another thread still reads them.
            Group.Barrier();
        }

        topLeft.Finish(epilogue, shape.M, shape.N, rowStart + ty, columnStart + tx);
        topRight.Finish(epilogue, shape.M, shape.N, rowStart + ty, columnStart + Half + tx);
        bottomLeft.Finish(epilogue, shape.M, shape.N, rowStart + Half + ty, columnStart + tx);
        bottomRight.Finish(epilogue, shape.M, shape.N, rowStart + Half + ty, columnStart + Half + tx);
    }
}
