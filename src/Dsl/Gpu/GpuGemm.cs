using System.Reflection;
using Dsl.Cpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// Single-precision GEMM on the GPU: C (m x n) = op(A) (m x k) * op(B) (k x n), each finished element
/// handed to an epilogue (<see cref="IGpuEpilogue"/>) that stores it, accumulates it or fuses an activation.
/// op(A) = A stored m x k (row stride lda) when transA is No, else A is stored k x m and transposed;
/// likewise op(B) from B stored k x n or n x k (row stride ldb). Same conventions as the CPU's
/// <see cref="Gemm.Multiply{TEpilogue}"/>.
/// </summary>
/// <remarks>
/// <para>
/// Two explicitly grouped kernels, chosen per launch (<see cref="GemmTileSelection"/>). The standard one: a group of
/// 16 x 16 = 256 threads computes a 64 x 64 tile of C. Per depth
/// step of 16 it stages a 64 x 16 slab of op(A) and a 16 x 64 slab of op(B) in shared memory (depth-major,
/// rows padded to 65 floats: staging an operand whose depth is contiguous writes down a column of the slab,
/// which without the pad would put a half-warp's 16 writes in one bank; with it they spread, at most two to a
/// bank), then each thread accumulates a 4 x 4 register tile. A thread owns rows ty + 16 i and columns tx + 16 j (i, j in 0..3),
/// so the 16 threads of a half-warp read 16 consecutive shared floats and store 16 consecutive columns of C.
/// Rows, columns and depths past the matrix are staged as zeros and never stored, so any m, n, k works.
/// The wide one (<c>GpuGemm.Wide.cs</c>) takes a 128 x 128 tile, depth steps of 8 and 8 x 8 accumulators per thread
/// over 4 adjacent rows and columns per quadrant, read from the slabs with vector loads, with the next depth step
/// read ahead into registers; for large products.
/// </para>
/// <para>
/// The kernels are generic over how each operand is stored (<see cref="DepthContiguous"/> or
/// <see cref="OuterContiguous"/>), over the epilogue and over which sizes are constants (<see cref="IGemmSizes"/>),
/// so each transpose combination, epilogue and set of constant sizes is its own specialised kernel with the layout
/// decisions and the known sizes folded at compile time. A generated network fixes every size but the batch
/// (<see cref="IDenseWidths"/>); <see cref="LaunchSizes"/> takes all of them from the launch.
/// </para>
/// </remarks>
public static partial class GpuGemm
{
    /// <summary>Rows of C per group (the "outer" extent of the op(A) slab).</summary>
    internal const int TileRows = 64;

    /// <summary>Columns of C per group (the "outer" extent of the op(B) slab).</summary>
    internal const int TileColumns = 64;

    /// <summary>Depth of a staged slab.</summary>
    internal const int TileDepth = 16;

    /// <summary>Threads along each side of a group: 16 x 16, each owning a 4 x 4 register tile.</summary>
    internal const int GroupSide = 16;

    /// <summary>Threads per group.</summary>
    internal const int GroupThreads = GroupSide * GroupSide;

    /// <summary>Floats per depth row of a staged slab: 64 plus one of padding against bank conflicts.</summary>
    internal const int SlabStride = TileRows + 1;

    /// <summary>
    /// The launcher of the kernels specialised for the transposes and <typeparamref name="TEpilogue"/>, with every size
    /// taken from the launch (<see cref="LaunchSizes"/>). See <see cref="Load{TSizes, TEpilogue}"/>.
    /// </summary>
    public static GemmLauncher<LaunchSizes, TEpilogue> Load<TEpilogue>(GpuAccelerator gpu, Transpose transA, Transpose transB, GemmTile tile = GemmTile.Auto)
        where TEpilogue : struct, IGpuEpilogue
        => Load<LaunchSizes, TEpilogue>(gpu, transA, transB, tile);

    /// <summary>
    /// The launcher of the kernels specialised for the transposes, <typeparamref name="TEpilogue"/> and the sizes that
    /// <typeparamref name="TSizes"/> fixes as constants (each launch must then pass those same sizes). Each kernel (64 x 64
    /// or 128 x 128, <see cref="GemmTile"/>) is compiled, once per accelerator and cached by <paramref name="gpu"/>, by the
    /// first launch that uses it, so a network compiles only the GEMMs its shapes need. Call when a layer is built,
    /// not per step.
    /// </summary>
    /// <param name="tile">
    /// Which tile the launches use; <see cref="GemmTile.Auto"/> takes <see cref="GemmTileSelection.EnvironmentVariable"/> when
    /// it is set, else decides per launch by the size of C.
    /// </param>
    public static GemmLauncher<TSizes, TEpilogue> Load<TSizes, TEpilogue>(GpuAccelerator gpu, Transpose transA, Transpose transB, GemmTile tile = GemmTile.Auto)
        where TSizes : struct, IGemmSizes
        where TEpilogue : struct, IGpuEpilogue
    {
        ArgumentNullException.ThrowIfNull(gpu);
        var (standard, wide) = (transA, transB) switch
        {
            (Transpose.No, Transpose.No) => Loaders<DepthContiguous, OuterContiguous, TSizes, TEpilogue>(gpu),
            (Transpose.No, Transpose.Yes) => Loaders<DepthContiguous, DepthContiguous, TSizes, TEpilogue>(gpu),
            (Transpose.Yes, Transpose.No) => Loaders<OuterContiguous, OuterContiguous, TSizes, TEpilogue>(gpu),
            (Transpose.Yes, Transpose.Yes) => Loaders<OuterContiguous, DepthContiguous, TSizes, TEpilogue>(gpu),
            _ => throw new ArgumentOutOfRangeException(nameof(transA), $"Unknown transposes ({transA}, {transB})."),
        };
        GemmTile chosen = tile == GemmTile.Auto ? GemmTileSelection.FromEnvironment() : tile;
        if (!Enum.IsDefined(chosen))
        {
            throw new ArgumentOutOfRangeException(nameof(tile), tile, "Unknown GEMM tile.");
        }

        // On ILGPU's CPU simulator Auto always takes the standard kernel (the simulator has one "multiprocessor", and
        // its timings say nothing about a GPU); tests that want the wide kernel ask for it.
        int multiprocessors = gpu.Type == AcceleratorType.CPU ? int.MaxValue : gpu.Accelerator.NumMultiprocessors;
        return new GemmLauncher<TSizes, TEpilogue>(standard, wide, chosen, multiprocessors, transA, transB);
    }

    /// <summary>
    /// The kernel method specialised for the transposes and epilogue, the 64 x 64 one or (<paramref name="wide"/>) the
    /// 128 x 128 one, with every size from the launch (for compiling it to PTX in tests).
    /// </summary>
    internal static MethodInfo KernelMethod<TEpilogue>(Transpose transA, Transpose transB, bool wide = false)
        where TEpilogue : struct, IGpuEpilogue
        => KernelMethod<LaunchSizes, TEpilogue>(transA, transB, wide);

    /// <summary>As <see cref="KernelMethod{TEpilogue}"/>, with the sizes <typeparamref name="TSizes"/> fixes as constants.</summary>
    internal static MethodInfo KernelMethod<TSizes, TEpilogue>(Transpose transA, Transpose transB, bool wide = false)
        where TSizes : struct, IGemmSizes
        where TEpilogue : struct, IGpuEpilogue
    {
        Action<GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue> kernel = (transA, transB, wide) switch
        {
            (Transpose.No, Transpose.No, false) => Kernel<DepthContiguous, OuterContiguous, TSizes, TEpilogue>,
            (Transpose.No, Transpose.Yes, false) => Kernel<DepthContiguous, DepthContiguous, TSizes, TEpilogue>,
            (Transpose.Yes, Transpose.No, false) => Kernel<OuterContiguous, OuterContiguous, TSizes, TEpilogue>,
            (_, _, false) => Kernel<OuterContiguous, DepthContiguous, TSizes, TEpilogue>,
            (Transpose.No, Transpose.No, true) => WideKernel<DepthContiguous, OuterContiguous, TSizes, TEpilogue>,
            (Transpose.No, Transpose.Yes, true) => WideKernel<DepthContiguous, DepthContiguous, TSizes, TEpilogue>,
            (Transpose.Yes, Transpose.No, true) => WideKernel<OuterContiguous, OuterContiguous, TSizes, TEpilogue>,
            (_, _, true) => WideKernel<OuterContiguous, DepthContiguous, TSizes, TEpilogue>,
        };
        return kernel.Method;
    }

    /// <summary>Loaders of the 64 x 64 and the 128 x 128 kernel for one layout pair; each compiles (once per accelerator) when first called.</summary>
    private static (Func<Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue>> Standard,
        Func<Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue>> Wide) Loaders<TA, TB, TSizes, TEpilogue>(GpuAccelerator gpu)
        where TA : struct, IOperandLayout
        where TB : struct, IOperandLayout
        where TSizes : struct, IGemmSizes
        where TEpilogue : struct, IGpuEpilogue
    {
        Action<GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue> standard = Kernel<TA, TB, TSizes, TEpilogue>;
        Action<GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue> wide = WideKernel<TA, TB, TSizes, TEpilogue>;
        return (() => gpu.Kernel(standard, accelerator => accelerator.LoadKernel(standard)),
            () => gpu.Kernel(wide, accelerator => accelerator.LoadKernel(wide)));
    }

    /// <summary>
    /// One group's 64 x 64 tile of C: group (Grid.IdxX, Grid.IdxY) covers columns from 64 Grid.IdxX and rows
    /// from 64 Grid.IdxY; thread (tx, ty) = (Group.IdxX, Group.IdxY) accumulates rows ty + 16 i and columns
    /// tx + 16 j of it and passes each one inside C to the epilogue once, after the whole depth.
    /// </summary>
    /// <typeparam name="TA">How A is stored, indexed (row of C, depth).</typeparam>
    /// <typeparam name="TB">How B is stored, indexed (column of C, depth).</typeparam>
    /// <typeparam name="TSizes">Which sizes are compile-time constants; the others come from <paramref name="launched"/>.</typeparam>
    /// <typeparam name="TEpilogue">What happens to each finished element of C.</typeparam>
    internal static void Kernel<TA, TB, TSizes, TEpilogue>(GemmShape launched, ArrayView<float> a, ArrayView<float> b, TEpilogue epilogue)
        where TA : struct, IOperandLayout
        where TB : struct, IOperandLayout
        where TSizes : struct, IGemmSizes
        where TEpilogue : struct, IGpuEpilogue
    {
        GemmShape shape = default(TSizes).Resolve(launched); // after inlining, the fixed sizes are literals
        // slab[depth * SlabStride + outer]: op(A) rows resp. op(B) columns of this tile at one depth are adjacent.
        ArrayView<float> aSlab = SharedMemory.Allocate<float>(TileDepth * SlabStride);
        ArrayView<float> bSlab = SharedMemory.Allocate<float>(TileDepth * SlabStride);

        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int thread = (ty * GroupSide) + tx;
        int rowStart = Grid.IdxY * TileRows;
        int columnStart = Grid.IdxX * TileColumns;

        var tile = default(RegisterTile);
        for (int depthStart = 0; depthStart < shape.K; depthStart += TileDepth)
        {
            Stage<TA>(aSlab, a, shape.Lda, rowStart, shape.M, depthStart, shape.K, thread, TileRows, TileDepth, SlabStride);
            Stage<TB>(bSlab, b, shape.Ldb, columnStart, shape.N, depthStart, shape.K, thread, TileColumns, TileDepth, SlabStride);
            Group.Barrier();

            for (int depth = 0; depth < TileDepth; depth++)
            {
                int rowOffset = (depth * SlabStride) + ty;
                int columnOffset = (depth * SlabStride) + tx;
                tile.Add(
                    aSlab[rowOffset], aSlab[rowOffset + GroupSide], aSlab[rowOffset + (2 * GroupSide)], aSlab[rowOffset + (3 * GroupSide)],
                    bSlab[columnOffset], bSlab[columnOffset + GroupSide], bSlab[columnOffset + (2 * GroupSide)], bSlab[columnOffset + (3 * GroupSide)]);
            }

            // Nobody restages the slabs while another thread still reads them.
            Group.Barrier();
        }

        tile.Finish(epilogue, shape.M, shape.N, rowStart + ty, columnStart + tx, GroupSide);
    }

    /// <summary>
    /// Copies the operand's tileOuter (outer) x tileDepth (depth) slab at (outerStart, depthStart) into shared memory
    /// as slab[depth * slabStride + outer], zeros outside the matrix: 64 x 16 for <see cref="Kernel{TA, TB, TSizes, TEpilogue}"/>,
    /// 128 x 8 for <see cref="WideKernel{TA, TB, TSizes, TEpilogue}"/>, 4 elements per thread either way. Consecutive threads
    /// walk the operand's contiguous direction so that global reads coalesce. The tile sizes are constants at every
    /// call, so after inlining the divisions below are divisions by constant powers of two.
    /// </summary>
    private static void Stage<TLayout>(ArrayView<float> slab, ArrayView<float> operand, int leadingDimension,
        int outerStart, int outerCount, int depthStart, int depthCount, int thread, int tileOuter, int tileDepth, int slabStride)
        where TLayout : struct, IOperandLayout
    {
        Quad staged = LoadStaged<TLayout>(operand, leadingDimension, outerStart, outerCount, depthStart, depthCount, thread, tileOuter, tileDepth);
        StoreStaged<TLayout>(slab, staged, thread, tileOuter, tileDepth, slabStride);
    }

    /// <summary>
    /// The first half of <see cref="Stage{TLayout}"/>: this thread's 4 elements of the slab (elements thread + 256 i,
    /// i in 0..3, of the tileOuter x tileDepth = 1024 staged), read from global memory into registers.
    /// </summary>
    private static Quad LoadStaged<TLayout>(ArrayView<float> operand, int leadingDimension,
        int outerStart, int outerCount, int depthStart, int depthCount, int thread, int tileOuter, int tileDepth)
        where TLayout : struct, IOperandLayout
    {
        Quad staged;
        staged.X = LoadStagedElement<TLayout>(operand, leadingDimension, outerStart, outerCount, depthStart, depthCount, thread, tileOuter, tileDepth);
        staged.Y = LoadStagedElement<TLayout>(operand, leadingDimension, outerStart, outerCount, depthStart, depthCount, thread + GroupThreads, tileOuter, tileDepth);
        staged.Z = LoadStagedElement<TLayout>(operand, leadingDimension, outerStart, outerCount, depthStart, depthCount, thread + (2 * GroupThreads), tileOuter, tileDepth);
        staged.W = LoadStagedElement<TLayout>(operand, leadingDimension, outerStart, outerCount, depthStart, depthCount, thread + (3 * GroupThreads), tileOuter, tileDepth);
        return staged;
    }

    /// <summary>The second half of <see cref="Stage{TLayout}"/>: writes what <see cref="LoadStaged{TLayout}"/> read into the slab.</summary>
    private static void StoreStaged<TLayout>(ArrayView<float> slab, Quad staged, int thread, int tileOuter, int tileDepth, int slabStride)
        where TLayout : struct, IOperandLayout
    {
        slab[SlabIndex<TLayout>(thread, tileOuter, tileDepth, slabStride)] = staged.X;
        slab[SlabIndex<TLayout>(thread + GroupThreads, tileOuter, tileDepth, slabStride)] = staged.Y;
        slab[SlabIndex<TLayout>(thread + (2 * GroupThreads), tileOuter, tileDepth, slabStride)] = staged.Z;
        slab[SlabIndex<TLayout>(thread + (3 * GroupThreads), tileOuter, tileDepth, slabStride)] = staged.W;
    }

    /// <summary>Staged element <paramref name="element"/> of the slab from global memory, 0 outside the matrix.</summary>
    private static float LoadStagedElement<TLayout>(ArrayView<float> operand, int leadingDimension,
        int outerStart, int outerCount, int depthStart, int depthCount, int element, int tileOuter, int tileDepth)
        where TLayout : struct, IOperandLayout
    {
        (int outer, int depth) = SlabPosition<TLayout>(element, tileOuter, tileDepth);
        int globalOuter = outerStart + outer;
        int globalDepth = depthStart + depth;
        return globalOuter < outerCount && globalDepth < depthCount
            ? operand[default(TLayout).Offset(globalOuter, globalDepth, leadingDimension)]
            : 0f;
    }

    /// <summary>Where staged element <paramref name="element"/> goes in the slab.</summary>
    private static int SlabIndex<TLayout>(int element, int tileOuter, int tileDepth, int slabStride)
        where TLayout : struct, IOperandLayout
    {
        (int outer, int depth) = SlabPosition<TLayout>(element, tileOuter, tileDepth);
        return (depth * slabStride) + outer;
    }

    /// <summary>
    /// The (outer, depth) of staged element <paramref name="element"/>: consecutive elements (consecutive threads) walk
    /// the operand's contiguous direction.
    /// </summary>
    private static (int Outer, int Depth) SlabPosition<TLayout>(int element, int tileOuter, int tileDepth)
        where TLayout : struct, IOperandLayout
        => default(TLayout).IsDepthContiguous
            ? (element / tileDepth, element % tileDepth)
            : (element % tileOuter, element / tileOuter);

    /// <summary>
    /// Four floats: a thread's 4 staged elements of a slab (<see cref="LoadStaged{TLayout}"/>), or 4 adjacent floats of a
    /// wide slab row read with one vector load (16-byte aligned: see <see cref="WideSlabStride"/>).
    /// </summary>
    private struct Quad
    {
        public float X;
        public float Y;
        public float Z;
        public float W;
    }

    /// <summary>
    /// A thread's 4 x 4 accumulators: Cij for row (first row) + step i and column (first column) + step j, with step 16
    /// in the standard kernel (rows ty + 16 i, columns tx + 16 j) and 1 in the wide kernel (4 adjacent rows and columns
    /// of one quadrant).
    /// </summary>
    private struct RegisterTile
    {
        private float _c00, _c01, _c02, _c03;
        private float _c10, _c11, _c12, _c13;
        private float _c20, _c21, _c22, _c23;
        private float _c30, _c31, _c32, _c33;

        /// <summary>Cij += ai bj: one depth step of the outer product.</summary>
        public void Add(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
        {
            _c00 += a0 * b0; _c01 += a0 * b1; _c02 += a0 * b2; _c03 += a0 * b3;
            _c10 += a1 * b0; _c11 += a1 * b1; _c12 += a1 * b2; _c13 += a1 * b3;
            _c20 += a2 * b0; _c21 += a2 * b1; _c22 += a2 * b2; _c23 += a2 * b3;
            _c30 += a3 * b0; _c31 += a3 * b1; _c32 += a3 * b2; _c33 += a3 * b3;
        }

        /// <summary>
        /// Hands every accumulator that lies inside the m x n C to the epilogue: Cij at (row + step i, column + step j).
        /// <paramref name="step"/> is a constant at each call, so the offsets fold.
        /// </summary>
        public readonly void Finish<TEpilogue>(TEpilogue epilogue, int m, int n, int row, int column, int step)
            where TEpilogue : struct, IGpuEpilogue
        {
            FinishRow(epilogue, m, n, row, column, step, _c00, _c01, _c02, _c03);
            FinishRow(epilogue, m, n, row + step, column, step, _c10, _c11, _c12, _c13);
            FinishRow(epilogue, m, n, row + (2 * step), column, step, _c20, _c21, _c22, _c23);
            FinishRow(epilogue, m, n, row + (3 * step), column, step, _c30, _c31, _c32, _c33);
        }

        private static void FinishRow<TEpilogue>(TEpilogue epilogue, int m, int n, int row, int column, int step,
            float c0, float c1, float c2, float c3)
            where TEpilogue : struct, IGpuEpilogue
        {
            if (row >= m)
            {
                return;
            }

            if (column < n)
            {
                epilogue.Store(row, column, c0);
            }

            if (column + step < n)
            {
                epilogue.Store(row, column + step, c1);
            }

            if (column + (2 * step) < n)
            {
                epilogue.Store(row, column + (2 * step), c2);
            }

            if (column + (3 * step) < n)
            {
                epilogue.Store(row, column + (3 * step), c3);
            }
        }
    }
}

/// <summary>
/// The GEMM's sizes and strides as one kernel argument: C is m x n, the depth k, A and B stored with row
/// strides lda and ldb. Public only because ILGPU's launchers must see the kernel's parameter types.
/// </summary>
public readonly struct GemmShape(int m, int n, int k, int lda, int ldb) : IEquatable<GemmShape>
{
    /// <summary>Rows of C and of op(A).</summary>
    public readonly int M = m;

    /// <summary>Columns of C and of op(B).</summary>
    public readonly int N = n;

    /// <summary>The depth: columns of op(A), rows of op(B).</summary>
    public readonly int K = k;

    /// <summary>Row stride of A as stored.</summary>
    public readonly int Lda = lda;

    /// <summary>Row stride of B as stored.</summary>
    public readonly int Ldb = ldb;

    /// <inheritdoc />
    public bool Equals(GemmShape other) => M == other.M && N == other.N && K == other.K && Lda == other.Lda && Ldb == other.Ldb;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GemmShape other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(M, N, K, Lda, Ldb);

    /// <summary>"(m, n, k) = (..), lda = .., ldb = ..".</summary>
    public override string ToString() => FormattableString.Invariant($"(m, n, k) = ({M}, {N}, {K}), lda = {Lda}, ldb = {Ldb}");

    public static bool operator ==(GemmShape left, GemmShape right) => left.Equals(right);

    public static bool operator !=(GemmShape left, GemmShape right) => !left.Equals(right);
}

/// <summary>
/// Which of a GEMM's sizes its kernel knows when it is compiled. The kernels are generic over it: an implementation
/// whose <see cref="Resolve"/> returns literals for some sizes makes those sizes constants in the compiled kernel
/// (ILGPU inlines the call and folds them into loop bounds, edge tests and address arithmetic), one kernel per
/// implementation. A generated network fixes everything but the batch (<see cref="IDenseWidths"/>).
/// </summary>
public interface IGemmSizes
{
    /// <summary>
    /// The shape the kernel computes with: <paramref name="launched"/> with every size this type fixes replaced by its
    /// constant. Must not depend on anything but <paramref name="launched"/> and constants.
    /// </summary>
    GemmShape Resolve(GemmShape launched);
}

/// <summary>No constant sizes: every size comes from the launch, so one kernel serves every shape.</summary>
public readonly struct LaunchSizes : IGemmSizes
{
    /// <inheritdoc />
    public GemmShape Resolve(GemmShape launched) => launched;
}

/// <summary>
/// How a GEMM operand is stored, seen from the product. An operand is indexed (outer, depth): op(A) by
/// (row of C, depth), op(B) by (column of C, depth). A untransposed (m x k) and B transposed (n x k) are
/// <see cref="DepthContiguous"/>; A transposed (k x m) and B untransposed (k x n) are <see cref="OuterContiguous"/>.
/// </summary>
public interface IOperandLayout
{
    /// <summary>True when consecutive depths of one outer index are adjacent in memory.</summary>
    bool IsDepthContiguous { get; }

    /// <summary>Index of element (outer, depth) in the stored operand with the given row stride.</summary>
    long Offset(int outer, int depth, int leadingDimension);
}

/// <summary>Stored (outer, depth) row-major: element at outer * ld + depth.</summary>
public readonly struct DepthContiguous : IOperandLayout
{
    /// <inheritdoc />
    public bool IsDepthContiguous => true;

    /// <inheritdoc />
    public long Offset(int outer, int depth, int leadingDimension) => ((long)outer * leadingDimension) + depth;
}

/// <summary>Stored (depth, outer) row-major: element at depth * ld + outer.</summary>
public readonly struct OuterContiguous : IOperandLayout
{
    /// <inheritdoc />
    public bool IsDepthContiguous => false;

    /// <inheritdoc />
    public long Offset(int outer, int depth, int leadingDimension) => ((long)depth * leadingDimension) + outer;
}

/// <summary>
/// The GEMM kernels for one pair of transposes, one epilogue type and one set of constant sizes. A launch allocates
/// nothing, except the first launch on each kernel, which compiles it (or takes it from the accelerator's cache).
/// Obtain it from <see cref="GpuGemm.Load{TSizes, TEpilogue}"/>.
/// </summary>
/// <typeparam name="TSizes">The sizes compiled into the kernels (<see cref="LaunchSizes"/>: none).</typeparam>
/// <typeparam name="TEpilogue">What happens to each finished element of C.</typeparam>
public sealed class GemmLauncher<TSizes, TEpilogue>
    where TSizes : struct, IGemmSizes
    where TEpilogue : struct, IGpuEpilogue
{
    private readonly Func<Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue>> _loadStandard;
    private readonly Func<Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue>> _loadWide;
    private Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue>? _standard;
    private Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue>? _wide;
    private readonly GemmTile _tile;
    private readonly int _multiprocessors;

    internal GemmLauncher(
        Func<Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue>> loadStandard,
        Func<Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, TEpilogue>> loadWide,
        GemmTile tile, int multiprocessors, Transpose transA, Transpose transB)
    {
        _loadStandard = loadStandard;
        _loadWide = loadWide;
        _tile = tile;
        _multiprocessors = multiprocessors;
        TransA = transA;
        TransB = transB;
    }

    /// <summary>The tile this launcher was asked for: <see cref="GemmTile.Auto"/> decides per launch.</summary>
    public GemmTile Tile => _tile;

    /// <summary>Whether A is stored transposed (k x m).</summary>
    public Transpose TransA { get; }

    /// <summary>Whether B is stored transposed (n x k).</summary>
    public Transpose TransB { get; }

    /// <summary>
    /// Enqueues C = op(A) op(B) on <paramref name="stream"/>, calling <paramref name="epilogue"/> once for
    /// every element of the m x n C with its full depth-k sum (0 when k = 0). Nothing runs when m or n is 0.
    /// </summary>
    /// <param name="a">A: stored m x k, or k x m when transposed, row stride <paramref name="lda"/>.</param>
    /// <param name="b">B: stored k x n, or n x k when transposed, row stride <paramref name="ldb"/>.</param>
    /// <exception cref="ArgumentException">
    /// A size is negative, a stride is below its row length, a view is too short, or a size differs from the constant
    /// <typeparamref name="TSizes"/> compiled into the kernel.
    /// </exception>
    public void Launch(AcceleratorStream stream, int m, int n, int k,
        ArrayView<float> a, int lda, ArrayView<float> b, int ldb, TEpilogue epilogue)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        bool transposeA = TransA == Transpose.Yes;
        bool transposeB = TransB == Transpose.Yes;
        ValidateOperand("a", "A", "lda", a.Length, lda, transposeA ? k : m, transposeA ? m : k);
        ValidateOperand("b", "B", "ldb", b.Length, ldb, transposeB ? n : k, transposeB ? k : n);
        var shape = new GemmShape(m, n, k, lda, ldb);
        // The kernel computes with the constants, not with these arguments: a launch that disagrees with them would
        // read and write with the wrong sizes without any error on the GPU.
        GemmShape compiled = default(TSizes).Resolve(shape);
        if (!compiled.Equals(shape))
        {
            throw new ArgumentException(
                $"This GEMM was compiled for {compiled} ({typeof(TSizes).Name}), but the launch asks for {shape}.", nameof(m));
        }

        if (m == 0 || n == 0)
        {
            return;
        }

        var threads = new Index2D(GpuGemm.GroupSide, GpuGemm.GroupSide);
        if (GemmTileSelection.UsesWide(_tile, m, n, _multiprocessors))
        {
            _wide ??= _loadWide();
            var wideGroups = new Index2D((n + GpuGemm.WideTile - 1) / GpuGemm.WideTile, (m + GpuGemm.WideTile - 1) / GpuGemm.WideTile);
            _wide(stream, new KernelConfig(wideGroups, threads), shape, a, b, epilogue);
            return;
        }

        var groups = new Index2D(
            (n + GpuGemm.TileColumns - 1) / GpuGemm.TileColumns,
            (m + GpuGemm.TileRows - 1) / GpuGemm.TileRows);
        _standard ??= _loadStandard();
        _standard(stream, new KernelConfig(groups, threads), shape, a, b, epilogue);
    }

    private static void ValidateOperand(string parameter, string matrix, string strideName, long length,
        int stride, int storedRows, int storedColumns)
    {
        if (stride < storedColumns || stride < 0)
        {
            throw new ArgumentException(
                $"{strideName} = {stride}, but the stored {matrix} is {storedRows} x {storedColumns}: " +
                $"expected {strideName} >= {storedColumns}.", strideName);
        }

        long required = storedRows == 0 || storedColumns == 0 ? 0 : ((long)(storedRows - 1) * stride) + storedColumns;
        if (length < required)
        {
            throw new ArgumentException(
                $"{parameter} holds {length} floats, but the stored {matrix} is {storedRows} x {storedColumns} " +
                $"with {strideName} = {stride}: expected at least {required}.", parameter);
        }
    }
}

/// <summary>C[row, column] = sum: the plain product into C (row stride ldc).</summary>
/// <param name="c">C, at least (m - 1) ldc + n floats.</param>
/// <param name="ldc">Row stride of C.</param>
public readonly struct StoreEpilogue(ArrayView<float> c, int ldc) : IGpuEpilogue
{
    private readonly ArrayView<float> _c = c;
    private readonly int _ldc = ldc;

    /// <inheritdoc />
    public void Store(int row, int column, float sum) => _c[((long)row * _ldc) + column] = sum;
}

/// <summary>C[row, column] += sum: accumulates the product into C (row stride ldc).</summary>
/// <param name="c">C, at least (m - 1) ldc + n floats.</param>
/// <param name="ldc">Row stride of C.</param>
public readonly struct AccumulateEpilogue(ArrayView<float> c, int ldc) : IGpuEpilogue
{
    private readonly ArrayView<float> _c = c;
    private readonly int _ldc = ldc;

    /// <inheritdoc />
    public void Store(int row, int column, float sum)
    {
        long index = ((long)row * _ldc) + column;
        _c[index] += sum;
    }
}
