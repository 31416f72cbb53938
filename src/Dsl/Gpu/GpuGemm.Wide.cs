using ILGPU;

namespace Dsl.Gpu;

// The wide GEMM kernel: a 128 x 128 tile of C per group of 16 x 16 threads, each thread an 8 x 8 block of
// accumulators held as four 4 x 4 register tiles, one per 64 x 64 quadrant of the group's tile: in each quadrant the
// thread owns 4 adjacent rows (4 ty ..) and 4 adjacent columns (4 tx ..). Adjacent rows and columns are what let a
// depth step read its operands from shared memory as 4 loads of 4 floats (ld.shared.v4: two of op(A) for the top and
// bottom quadrants, two of op(B) for the left and right) instead of 16 scalar loads, for 64 multiply-adds. The next
// depth step's operands are read from global memory into registers while the current one computes. It needs a
// quarter as many groups as the 64 x 64 kernel, so it only pays when C is large enough to keep every multiprocessor
// busy with them: GemmTileSelection decides. Same operand layouts, staging, constant sizes, epilogues and edge
// handling as Kernel<TA, TB, TSizes, TEpilogue>.
public static partial class GpuGemm
{
    /// <summary>Rows and columns of C per group in the wide kernel.</summary>
    internal const int WideTile = 128;

    /// <summary>Depth of a wide staged slab: 128 x 8 floats, 4 per thread as in the standard kernel.</summary>
    internal const int WideDepth = 8;

    /// <summary>
    /// Floats per depth row of a wide slab: 128 plus 4 of padding. Staging a depth-contiguous operand, a warp writes
    /// 4 outer indices x 8 depths at (4 depth + outer) mod 32 banks, all distinct (with a pad of 1 they would meet
    /// up to 4 to a bank); outer-contiguous staging touches consecutive floats either way. A multiple of 4, so every
    /// quad a thread reads starts on 16 bytes, as ld.shared.v4 requires.
    /// </summary>
    internal const int WideSlabStride = WideTile + 4;

    /// <summary>Quads (4 floats) per depth row of a wide slab.</summary>
    private const int WideSlabQuads = WideSlabStride / 4;

    /// <summary>
    /// One group's 128 x 128 tile of C: group (Grid.IdxX, Grid.IdxY) covers columns from 128 Grid.IdxX and rows
    /// from 128 Grid.IdxY; thread (tx, ty) accumulates rows 4 ty + i and 64 + 4 ty + i, columns 4 tx + j and
    /// 64 + 4 tx + j (i, j in 0..3) of it, and passes each one inside C to the epilogue once, after the whole depth.
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
        // slab[depth * WideSlabStride + outer], as in the standard kernel; read back as quads of 4 adjacent outer indices.
        ArrayView<float> aSlab = SharedMemory.Allocate<float>(WideDepth * WideSlabStride);
        ArrayView<float> bSlab = SharedMemory.Allocate<float>(WideDepth * WideSlabStride);
        ArrayView<Quad> aQuads = aSlab.Cast<Quad>();
        ArrayView<Quad> bQuads = bSlab.Cast<Quad>();

        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int thread = (ty * GroupSide) + tx;
        int rowStart = Grid.IdxY * WideTile;
        int columnStart = Grid.IdxX * WideTile;
        const int Half = WideTile / 2;       // quadrant side
        const int HalfQuads = Half / 4;      // quads from a slab row's first half to its second

        var topLeft = default(RegisterTile);
        var topRight = default(RegisterTile);
        var bottomLeft = default(RegisterTile);
        var bottomRight = default(RegisterTile);
        // The first depth step is staged before the loop. Each step then reads the next step's elements from global
        // memory into registers before it computes, so their latency overlaps its 512 multiply-adds per thread, and
        // writes them to the slabs once every thread is done reading (two barriers per step but the last). `more` is the
        // same for the whole group, so every thread reaches every barrier.
        Stage<TA>(aSlab, a, shape.Lda, rowStart, shape.M, 0, shape.K, thread, WideTile, WideDepth, WideSlabStride);
        Stage<TB>(bSlab, b, shape.Ldb, columnStart, shape.N, 0, shape.K, thread, WideTile, WideDepth, WideSlabStride);
        Group.Barrier();
        for (int depthStart = 0; depthStart < shape.K; depthStart += WideDepth)
        {
            int nextDepth = depthStart + WideDepth;
            bool more = nextDepth < shape.K;
            Quad nextA = default;
            Quad nextB = default;
            if (more)
            {
                nextA = LoadStaged<TA>(a, shape.Lda, rowStart, shape.M, nextDepth, shape.K, thread, WideTile, WideDepth);
                nextB = LoadStaged<TB>(b, shape.Ldb, columnStart, shape.N, nextDepth, shape.K, thread, WideTile, WideDepth);
            }

            for (int depth = 0; depth < WideDepth; depth++)
            {
                // Rows 4 ty .. 4 ty + 3 of this depth are quad ty of the slab row; rows 64 + 4 ty .. are 16 quads on.
                // In a warp (two values of ty, sixteen of tx) the A reads are two broadcasts and the B reads 256
                // consecutive bytes: no bank conflicts.
                int rowQuad = (depth * WideSlabQuads) + ty;
                int columnQuad = (depth * WideSlabQuads) + tx;
                Quad top = aQuads[rowQuad];
                Quad bottom = aQuads[rowQuad + HalfQuads];
                Quad left = bQuads[columnQuad];
                Quad right = bQuads[columnQuad + HalfQuads];
                topLeft.Add(top.X, top.Y, top.Z, top.W, left.X, left.Y, left.Z, left.W);
                topRight.Add(top.X, top.Y, top.Z, top.W, right.X, right.Y, right.Z, right.W);
                bottomLeft.Add(bottom.X, bottom.Y, bottom.Z, bottom.W, left.X, left.Y, left.Z, left.W);
                bottomRight.Add(bottom.X, bottom.Y, bottom.Z, bottom.W, right.X, right.Y, right.Z, right.W);
            }

            if (more)
            {
                // Nobody restages the slabs while another thread still reads them...
                Group.Barrier();
                StoreStaged<TA>(aSlab, nextA, thread, WideTile, WideDepth, WideSlabStride);
                StoreStaged<TB>(bSlab, nextB, thread, WideTile, WideDepth, WideSlabStride);
                // ...nor reads them before they are restaged.
                Group.Barrier();
            }
        }

        int firstRow = rowStart + (4 * ty);
        int firstColumn = columnStart + (4 * tx);
        topLeft.Finish(epilogue, shape.M, shape.N, firstRow, firstColumn, 1);
        topRight.Finish(epilogue, shape.M, shape.N, firstRow, firstColumn + Half, 1);
        bottomLeft.Finish(epilogue, shape.M, shape.N, firstRow + Half, firstColumn, 1);
        bottomRight.Finish(epilogue, shape.M, shape.N, firstRow + Half, firstColumn + Half, 1);
    }
}
