using Dsl.Cpu;
using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace Dsl.Tests.Gpu;

/// <summary>
/// <see cref="GpuGemm"/> on ILGPU's CPU simulator against a naive float64 reference and against the CPU
/// <see cref="Gemm.Multiply{TEpilogue}"/>, at odd sizes around the 64 x 64 x 16 tiles, every transpose
/// combination, padded strides, storing and accumulating; each kernel instantiation compiled to PTX.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class GpuGemmTests
{
    /// <summary>(m, n, k) built from {1, 7, 33, 65, 70}: edges of the 64 x 64 tile and of the 16-deep step.</summary>
    private static readonly (int M, int N, int K)[] OddShapes = [(1, 1, 1), (7, 33, 7), (33, 7, 33), (65, 70, 17), (70, 65, 1), (1, 70, 65), (70, 1, 33)];
    private static readonly Transpose[] Transposes = [Transpose.No, Transpose.Yes];

    private readonly GpuAccelerator _gpu;

    public GpuGemmTests(GpuSimulatorFixture simulator) => _gpu = simulator.Gpu;


    public static TheoryData<Transpose, Transpose, bool> TransposesAndAccumulation() => GemmProblem.TransposesAndAccumulation();

    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void Multiply_MatchesFloat64ReferenceAndCpuGemm_AtOddSizes(Transpose transA, Transpose transB, bool accumulate)
    {
        // Ragged single tiles, a tile and a bit in each direction, one to five depth steps with ragged ends.
        // The simulator runs a group's 256 threads as OS threads (tens of ms per barrier under load), so the
        // shapes are few and each one covers several edges.
        var random = new Random(HashCode.Combine(transA, transB, accumulate));
        foreach (var (m, n, k) in OddShapes)
        {
            var problem = GemmProblem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 3);
            RunOnGpu(problem);
            AssertMatchesReference(problem);
            AssertMatchesCpuGemm(problem);
        }
    }

    [Theory]
    [MemberData(nameof(AllTransposes))]
    public void Multiply_MatchesFloat64Reference_AcrossSeveralTiles(Transpose transA, Transpose transB)
    {
        // Three row tiles by three column tiles with ragged ends; exact tiles and exact depth steps.
        var random = new Random(HashCode.Combine(transA, transB, 1));
        foreach (var (m, n, k) in new[] { (130, 129, 17), (64, 64, 16), (65, 63, 32) })
        {
            var problem = GemmProblem.Random(random, transA, transB, m, n, k, accumulate: false, stridePadding: 5);
            RunOnGpu(problem);
            AssertMatchesReference(problem);
        }
    }

    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void ZeroDepth_StoresZerosOrLeavesCUnchanged(Transpose transA, Transpose transB, bool accumulate)
    {
        var problem = GemmProblem.Random(new Random(7), transA, transB, m: 7, n: 33, k: 0, accumulate, stridePadding: 2);
        RunOnGpu(problem);
        AssertMatchesReference(problem);
    }

    [Theory]
    [InlineData(Transpose.No, Transpose.Yes, 70, 65, 33)]
    [InlineData(Transpose.Yes, Transpose.No, 7, 130, 1)]
    [InlineData(Transpose.No, Transpose.No, 1, 1, 0)]
    public void Epilogue_SeesEveryElementOnceWithTheFullSum(Transpose transA, Transpose transB, int m, int n, int k)
    {
        var problem = GemmProblem.Random(new Random(m + n + k), transA, transB, m, n, k, accumulate: false, stridePadding: 1);
        var launcher = GpuGemm.Load<CountingEpilogue>(_gpu, transA, transB);
        Accelerator accelerator = _gpu.Accelerator;
        using var a = accelerator.DefaultStream.Upload(problem.A);
        using var b = accelerator.DefaultStream.Upload(problem.B);
        using var c = accelerator.Allocate1D<float>(m * n);
        using var visits = accelerator.Allocate1D<int>(m * n);
        visits.MemSetToZero();
        launcher.Launch(accelerator.DefaultStream, m, n, k, a.View, problem.Lda, b.View, problem.Ldb, new CountingEpilogue(c.View, visits.View, n));
        accelerator.Synchronize();

        Assert.All(visits.GetAsArray1D(), count => Assert.Equal(1, count));
        float[] sums = c.GetAsArray1D();
        double[] reference = problem.Expected;
        for (int i = 0; i < m * n; i++)
        {
            Assert.Equal(reference[i], sums[i], Tolerance(problem, reference[i]));
        }
    }

    [Theory]
    [InlineData(0, 5, 3)]
    [InlineData(5, 0, 3)]
    [InlineData(0, 0, 0)]
    public void EmptyOutput_IsANoOp(int m, int n, int k)
    {
        var problem = GemmProblem.Random(new Random(3), Transpose.No, Transpose.No, m, n, k, accumulate: false, stridePadding: 1);
        float[] before = (float[])problem.C.Clone();
        RunOnGpu(problem);
        Assert.Equal(before, problem.C);
    }

    [Fact]
    public void Launch_ValidatesSizesAndStrides()
    {
        Accelerator accelerator = _gpu.Accelerator;
        using var a = accelerator.Allocate1D<float>(6 * 4);
        using var b = accelerator.Allocate1D<float>(4 * 5);
        using var c = accelerator.Allocate1D<float>(6 * 5);
        var epilogue = new StoreEpilogue(c.View, 5);
        var plain = GpuGemm.Load<StoreEpilogue>(_gpu, Transpose.No, Transpose.No);
        AcceleratorStream stream = accelerator.DefaultStream;

        Assert.Throws<ArgumentOutOfRangeException>(() => plain.Launch(stream, -1, 5, 4, a.View, 4, b.View, 5, epilogue));
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.Launch(stream, 6, 5, -4, a.View, 4, b.View, 5, epilogue));

        var shortA = Assert.Throws<ArgumentException>(() => plain.Launch(stream, 6, 5, 4, a.View.SubView(1, a.Length - 1), 4, b.View, 5, epilogue));
        Assert.Equal("a", shortA.ParamName);
        Assert.Contains("24", shortA.Message, StringComparison.Ordinal);

        var narrowLdb = Assert.Throws<ArgumentException>(() => plain.Launch(stream, 6, 5, 4, a.View, 4, b.View, 4, epilogue));
        Assert.Equal("ldb", narrowLdb.ParamName);

        // Stored transposed, A is 4 x 6: with lda = 7 it needs 3 * 7 + 6 = 27 floats.
        var transposed = GpuGemm.Load<StoreEpilogue>(_gpu, Transpose.Yes, Transpose.No);
        var shortTransposedA = Assert.Throws<ArgumentException>(() => transposed.Launch(stream, 6, 5, 4, a.View, 7, b.View, 5, epilogue));
        Assert.Contains("27", shortTransposedA.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernels_CompileOnFirstLaunch_OncePerAccelerator()
    {
        using var gpu = GpuAccelerator.CpuSimulator();
        AcceleratorStream stream = gpu.Accelerator.DefaultStream;
        using var one = gpu.Accelerator.Allocate1D<float>(1);
        void LaunchOneByOne(GemmLauncher<LaunchSizes, StoreEpilogue> launcher) => launcher.Launch(stream, 1, 1, 1, one.View, 1, one.View, 1, new StoreEpilogue(one.View, 1));

        var first = GpuGemm.Load<StoreEpilogue>(gpu, Transpose.Yes, Transpose.No);
        Assert.Equal(0, gpu.LoadedKernelCount); // nothing compiles before a launch needs it
        LaunchOneByOne(first);
        Assert.Equal(1, gpu.LoadedKernelCount);
        var second = GpuGemm.Load<StoreEpilogue>(gpu, Transpose.Yes, Transpose.No);
        LaunchOneByOne(second);
        Assert.Equal(1, gpu.LoadedKernelCount); // the accelerator's cache
        Assert.Equal(Transpose.Yes, second.TransA);
        Assert.Equal(Transpose.No, second.TransB);
        Assert.NotSame(first, second);

        // Another transpose, another tile or another epilogue is another kernel.
        LaunchOneByOne(GpuGemm.Load<StoreEpilogue>(gpu, Transpose.No, Transpose.No));
        LaunchOneByOne(GpuGemm.Load<StoreEpilogue>(gpu, Transpose.Yes, Transpose.No, GemmTile.Wide));
        GpuGemm.Load<AccumulateEpilogue>(gpu, Transpose.Yes, Transpose.No).Launch(stream, 1, 1, 1, one.View, 1, one.View, 1, new AccumulateEpilogue(one.View, 1));
        Assert.Equal(4, gpu.LoadedKernelCount);
        gpu.Accelerator.Synchronize();
    }

    public static TheoryData<Transpose, Transpose> AllTransposes()
    {
        var data = new TheoryData<Transpose, Transpose>();
        foreach (Transpose transA in Transposes)
        {
            foreach (Transpose transB in Transposes)
            {
                data.Add(transA, transB);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllTransposes))]
    public void Kernels_CompileToPtxWithoutExternalCalls(Transpose transA, Transpose transB)
    {
        string ptx = GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<StoreEpilogue>(transA, transB), explicitlyGrouped: true);
        Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
        Assert.Contains(".shared", ptx, StringComparison.Ordinal);
        GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<AccumulateEpilogue>(transA, transB), explicitlyGrouped: true);
        GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<CountingEpilogue>(transA, transB), explicitlyGrouped: true);

        string wide = GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<StoreEpilogue>(transA, transB, wide: true), explicitlyGrouped: true);
        Assert.Contains("bar.sync", wide, StringComparison.Ordinal);
        Assert.DoesNotContain("ld.local", wide, StringComparison.Ordinal); // the 64 accumulators stay in registers in the PTX
        // A depth step reads its operands with 16-byte vector loads from shared memory, no scalar shared loads, and the
        // slabs are declared 16-byte aligned, as those loads require on a GPU (the simulator would not notice).
        Assert.Matches(@"ld\.shared\.v4\.f32", wide);
        Assert.DoesNotMatch(@"ld\.shared\.f32", wide);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(wide, @"\.shared \.align 16 \.b8 __shared_alloca\d+\[").Count);
        GpuPtxAssert.CompilesWithoutExternalCalls(GpuGemm.KernelMethod<AccumulateEpilogue>(transA, transB, wide: true), explicitlyGrouped: true);
    }

    /// <summary>Stores the sum and counts, atomically, how often each element of the dense m x n C was stored.</summary>
    public readonly struct CountingEpilogue(ArrayView<float> c, ArrayView<int> visits, int n) : IGpuEpilogue
    {
        private readonly ArrayView<float> _c = c;
        private readonly ArrayView<int> _visits = visits;
        private readonly int _n = n;

        public void Store(int row, int column, float sum)
        {
            int index = (row * _n) + column;
            _c[index] = sum;
            Atomic.Add(ref _visits[index], 1);
        }
    }

    /// <summary>
    /// The 128 x 128 kernel (8 x 8 accumulators per thread, depth steps of 8, the next step read ahead into registers) at
    /// sizes around its edges: a single ragged tile, the quadrant boundary at 64, several tiles with ragged ends, depths
    /// that are not a multiple of 8, exactly one and exactly two depth steps, no depth at all; every transpose, storing
    /// and accumulating.
    /// </summary>
    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void WideKernel_MatchesFloat64Reference_AtOddSizes(Transpose transA, Transpose transB, bool accumulate)
    {
        var random = new Random(HashCode.Combine(transA, transB, accumulate, 128));
        foreach (var (m, n, k) in new[] { (1, 1, 1), (65, 7, 9), (7, 66, 17), (130, 129, 17), (128, 64, 8), (260, 131, 9), (33, 70, 16), (7, 9, 0) })
        {
            var problem = GemmProblem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 3);
            RunOnGpu(problem, GemmTile.Wide);
            AssertMatchesReference(problem);
        }
    }

    /// <summary>Both kernels stage exactly 4 elements per thread and slab (LoadStaged reads a Quad), and wide slab rows are whole quads.</summary>
    [Fact]
    public void Staging_IsFourElementsPerThread_InBothKernels()
    {
        Assert.Equal(4 * GpuGemm.GroupThreads, GpuGemm.TileRows * GpuGemm.TileDepth);
        Assert.Equal(4 * GpuGemm.GroupThreads, GpuGemm.TileColumns * GpuGemm.TileDepth);
        Assert.Equal(4 * GpuGemm.GroupThreads, GpuGemm.WideTile * GpuGemm.WideDepth);
        Assert.Equal(0, GpuGemm.WideSlabStride % 4);
    }

    [Fact]
    public void WideKernel_EpilogueSeesEveryElementOnce()
    {
        const int m = 131, n = 70, k = 5;
        var problem = GemmProblem.Random(new Random(5), Transpose.No, Transpose.Yes, m, n, k, accumulate: false, stridePadding: 1);
        var launcher = GpuGemm.Load<CountingEpilogue>(_gpu, Transpose.No, Transpose.Yes, GemmTile.Wide);
        Accelerator accelerator = _gpu.Accelerator;
        using var a = accelerator.DefaultStream.Upload(problem.A);
        using var b = accelerator.DefaultStream.Upload(problem.B);
        using var c = accelerator.Allocate1D<float>(m * n);
        using var visits = accelerator.Allocate1D<int>(m * n);
        visits.MemSetToZero();
        launcher.Launch(accelerator.DefaultStream, m, n, k, a.View, problem.Lda, b.View, problem.Ldb, new CountingEpilogue(c.View, visits.View, n));
        accelerator.Synchronize();

        Assert.All(visits.GetAsArray1D(), count => Assert.Equal(1, count));
    }

    [Fact]
    public void TileSelection_FollowsTheSizeOfC_AndTheEnvironment()
    {
        // Auto: the wide kernel once C has a 128 x 128 tile per multiprocessor (132 on an H100).
        Assert.True(GemmTileSelection.UsesWide(GemmTile.Auto, 4096, 4096, 132));   // 1024 wide tiles
        Assert.True(GemmTileSelection.UsesWide(GemmTile.Auto, 4096, 1024, 132));   // 256
        Assert.False(GemmTileSelection.UsesWide(GemmTile.Auto, 256, 1024, 132));   // 16: W3's forward
        Assert.False(GemmTileSelection.UsesWide(GemmTile.Standard, 4096, 4096, 132));
        Assert.True(GemmTileSelection.UsesWide(GemmTile.Wide, 1, 1, 132));

        Assert.Equal(GemmTile.Wide, GemmTileSelection.Parse(" Wide "));
        Assert.Equal(GemmTile.Standard, GemmTileSelection.Parse("standard"));
        Assert.Equal(GemmTile.Auto, GemmTileSelection.Parse(null));
        Assert.Equal(GemmTile.Auto, GemmTileSelection.Parse("auto"));
        var bad = Assert.Throws<ArgumentException>(() => GemmTileSelection.Parse("128"));
        Assert.Contains(GemmTileSelection.EnvironmentVariable, bad.Message, StringComparison.Ordinal);

        // The variable reaches launchers built while it is set (only valid values: other test classes build
        // networks concurrently, and would see it).
        string? saved = Environment.GetEnvironmentVariable(GemmTileSelection.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(GemmTileSelection.EnvironmentVariable, "wide");
            Assert.Equal(GemmTile.Wide, GpuGemm.Load<StoreEpilogue>(_gpu, Transpose.No, Transpose.No).Tile);
        }
        finally
        {
            Environment.SetEnvironmentVariable(GemmTileSelection.EnvironmentVariable, saved);
        }
    }

    /// <summary>A dense layer's widths as constants, odd and past one 64-wide tile: fanIn 37, units 70.</summary>
    private readonly struct Widths37x70 : IDenseWidths
    {
        public bool AreConstant => true;
        public int FanIn => 37;
        public int Units => 70;
    }

    /// <summary>
    /// Each dense GEMM with its widths compiled in as constants (batch 67 from the launch) computes the float64
    /// reference, on both tiles. A constant in the wrong place (a swapped stride, n for k) is refused at launch
    /// (the launcher compares the resolved shape with the launched one), which fails this test; that the sizes really
    /// are constants in the compiled kernel is what <see cref="ConstantSizes_AreLiteralsInThePtx"/> checks, since the
    /// simulator runs the kernel as .NET code.
    /// </summary>
    [Theory]
    [InlineData(GemmTile.Standard)]
    [InlineData(GemmTile.Wide)]
    public void ConstantSizes_MatchTheReference_InEachDenseRole(GemmTile tile)
    {
        const int batch = 67, fanIn = 37, units = 70;
        var random = new Random((int)tile + 37);
        // Forward z = x W^T: C (batch, units) from x (batch, fanIn) and W (units, fanIn).
        RunAndCheck<DenseForwardSizes<Widths37x70>>(GemmProblem.RandomDense(random, Transpose.No, Transpose.Yes, batch, units, fanIn), tile);
        // Input gradient dx = dz W: C (batch, fanIn) from dz (batch, units) and W (units, fanIn).
        RunAndCheck<DenseInputGradientSizes<Widths37x70>>(GemmProblem.RandomDense(random, Transpose.No, Transpose.No, batch, fanIn, units), tile);
        // Weight gradient dW = dz^T x: C (units, fanIn) from dz (batch, units) and x (batch, fanIn), depth batch.
        RunAndCheck<DenseWeightGradientSizes<Widths37x70>>(GemmProblem.RandomDense(random, Transpose.Yes, Transpose.No, units, fanIn, batch), tile);
    }

    private void RunAndCheck<TSizes>(GemmProblem problem, GemmTile tile)
        where TSizes : struct, IGemmSizes
    {
        RunOnGpu<TSizes>(problem, tile);
        AssertMatchesReference(problem);
    }

    /// <summary>
    /// The kernel computes with its constants, not with the launch's sizes, so a launch whose sizes differ (here a
    /// fanIn of 36 against the compiled 37) is refused with both shapes named, before anything compiles. Only the
    /// batch may vary.
    /// </summary>
    [Fact]
    public void ConstantSizes_RefuseALaunchWithOtherSizes_BeforeCompiling()
    {
        using var gpu = GpuAccelerator.CpuSimulator(); // an empty kernel cache
        AcceleratorStream stream = gpu.Accelerator.DefaultStream;
        using var a = gpu.Accelerator.Allocate1D<float>(5 * 37);
        using var b = gpu.Accelerator.Allocate1D<float>(70 * 37);
        using var c = gpu.Accelerator.Allocate1D<float>(5 * 70);
        var forward = GpuGemm.Load<DenseForwardSizes<Widths37x70>, StoreEpilogue>(gpu, Transpose.No, Transpose.Yes);

        var error = Assert.Throws<ArgumentException>(() => forward.Launch(stream, 5, 70, 36, a.View, 36, b.View, 36, new StoreEpilogue(c.View, 70)));
        Assert.Contains("compiled for (m, n, k) = (5, 70, 37), lda = 37, ldb = 37", error.Message, StringComparison.Ordinal);
        Assert.Contains("asks for (m, n, k) = (5, 70, 36), lda = 36, ldb = 36", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, gpu.LoadedKernelCount);

        forward.Launch(stream, 5, 70, 37, a.View, 37, b.View, 37, new StoreEpilogue(c.View, 70));
        forward.Launch(stream, 3, 70, 37, a.View, 37, b.View, 37, new StoreEpilogue(c.View, 70)); // another batch, the same kernel
        stream.Synchronize();
        Assert.Equal(1, gpu.LoadedKernelCount);
    }

    /// <summary>
    /// In the PTX, a size the sizes type fixes is a literal: the register ILGPU loads from that field of the launch's
    /// GemmShape is never read again (a dead load, which ptxas removes), and the literal appears in the comparisons;
    /// a size from the launch is read.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConstantSizes_AreLiteralsInThePtx(bool wide)
    {
        string forward = KernelCompilation.Ptx(GpuGemm.KernelMethod<DenseForwardSizes<Widths37x70>, StoreEpilogue>(Transpose.No, Transpose.Yes, wide), explicitlyGrouped: true);
        Assert.Equal(["M"], LaunchFieldsRead(forward));
        Assert.Matches(ComparisonWith(37), forward); // the depth loop's bound, k = fanIn
        Assert.Matches(ComparisonWith(70), forward); // the column edge, n = units

        string inputGradient = KernelCompilation.Ptx(GpuGemm.KernelMethod<DenseInputGradientSizes<Widths37x70>, StoreEpilogue>(Transpose.No, Transpose.No, wide), explicitlyGrouped: true);
        Assert.Equal(["M"], LaunchFieldsRead(inputGradient));
        Assert.Matches(ComparisonWith(70), inputGradient); // the depth loop's bound, k = units
        Assert.Matches(ComparisonWith(37), inputGradient); // the column edge, n = fanIn

        string weightGradient = KernelCompilation.Ptx(GpuGemm.KernelMethod<DenseWeightGradientSizes<Widths37x70>, StoreEpilogue>(Transpose.Yes, Transpose.No, wide), explicitlyGrouped: true);
        Assert.Equal(["K"], LaunchFieldsRead(weightGradient));
        Assert.Matches(ComparisonWith(70), weightGradient); // the row edge, m = units
        Assert.Matches(ComparisonWith(37), weightGradient); // the column edge, n = fanIn

        string launchSized = KernelCompilation.Ptx(GpuGemm.KernelMethod<LaunchSizes, StoreEpilogue>(Transpose.No, Transpose.Yes, wide), explicitlyGrouped: true);
        Assert.Equal(["M", "N", "K", "Lda", "Ldb"], LaunchFieldsRead(launchSized));
        Assert.DoesNotMatch(ComparisonWith(37), launchSized);
    }

    /// <summary>A PTX integer comparison of a register with the literal <paramref name="value"/>.</summary>
    private static string ComparisonWith(int value) => $@"setp\.\w+\.s32\s+%p\d+, %r\d+, {value};";

    /// <summary>
    /// The GemmShape fields whose register the kernel reads after loading it from the kernel parameter named
    /// <c>launched</c>. Fields by byte offset: M 0, N 4, K 8, Lda 12, Ldb 16. Every field must be loaded exactly once
    /// (ILGPU loads a struct parameter whole), so a renamed parameter or another load scheme fails here loudly.
    /// </summary>
    internal static List<string> LaunchFieldsRead(string ptx)
    {
        string[] fields = ["M", "N", "K", "Lda", "Ldb"];
        var read = new List<string>();
        var loads = System.Text.RegularExpressions.Regex.Matches(ptx, @"ld\.param\.b32\s+(%r\d+), \[_launched_\d+(?:\+(\d+))?\];");
        Assert.Equal(fields.Length, loads.Count);
        foreach (System.Text.RegularExpressions.Match load in loads)
        {
            string register = load.Groups[1].Value;
            int offset = load.Groups[2].Success ? int.Parse(load.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            int uses = System.Text.RegularExpressions.Regex.Matches(ptx, System.Text.RegularExpressions.Regex.Escape(register) + @"(?!\d)").Count;
            if (uses > 1)
            {
                read.Add(fields[offset / 4]);
            }
        }

        return read;
    }

    /// <summary>C = op(A) op(B) (or C += when accumulating) on the GPU, through Store- or AccumulateEpilogue.</summary>
    private void RunOnGpu(GemmProblem problem, GemmTile tile = GemmTile.Auto) => RunOnGpu<LaunchSizes>(problem, tile);

    /// <summary>The same with the sizes <typeparamref name="TSizes"/> compiled in.</summary>
    private void RunOnGpu<TSizes>(GemmProblem problem, GemmTile tile)
        where TSizes : struct, IGemmSizes
    {
        Accelerator accelerator = _gpu.Accelerator;
        AcceleratorStream stream = accelerator.DefaultStream;
        using var a = stream.Upload(problem.A);
        using var b = stream.Upload(problem.B);
        using var c = stream.Upload(problem.C);
        if (problem.Accumulate)
        {
            GpuGemm.Load<TSizes, AccumulateEpilogue>(_gpu, problem.TransA, problem.TransB, tile)
                .Launch(stream, problem.M, problem.N, problem.K, a.View, problem.Lda, b.View, problem.Ldb, new AccumulateEpilogue(c.View, problem.Ldc));
        }
        else
        {
            GpuGemm.Load<TSizes, StoreEpilogue>(_gpu, problem.TransA, problem.TransB, tile)
                .Launch(stream, problem.M, problem.N, problem.K, a.View, problem.Lda, b.View, problem.Ldb, new StoreEpilogue(c.View, problem.Ldc));
        }

        stream.Synchronize();
        if (problem.C.Length > 0)
        {
            c.CopyToCPU(problem.C);
        }
    }

    /// <summary>Float32 rounding of a depth-k sum of products of values in [-1, 1].</summary>
    private static double Tolerance(GemmProblem problem, double expected) => 1e-6 * Math.Sqrt(problem.K + 1) * (4 + Math.Abs(expected));

    private static void AssertMatchesReference(GemmProblem problem)
    {
        for (int i = 0; i < problem.M; i++)
        {
            for (int j = 0; j < problem.N; j++)
            {
                int index = (i * problem.Ldc) + j;
                double expected = problem.Expected[(i * problem.N) + j];
                Assert.True(Math.Abs(problem.C[index] - expected) <= Tolerance(problem, expected),
                    $"{problem.Name}: C[{i}, {j}] = {problem.C[index]}, expected {expected}");
            }
        }

        problem.AssertPaddingKept();
    }

    /// <summary>The same product on the CPU backend agrees within float32 rounding of both.</summary>
    private static void AssertMatchesCpuGemm(GemmProblem problem)
    {
        float[] cpu = (float[])problem.InitialC.Clone();
        Gemm.Multiply(problem.TransA, problem.TransB, problem.M, problem.N, problem.K, problem.A, problem.Lda, problem.B, problem.Ldb, cpu, problem.Ldc, problem.Accumulate, default(NoEpilogue));
        for (int i = 0; i < cpu.Length; i++)
        {
            Assert.True(Math.Abs(problem.C[i] - cpu[i]) <= 2 * Tolerance(problem, cpu[i]),
                $"{problem.Name}: GPU C[{i / problem.Ldc}, {i % problem.Ldc}] = {problem.C[i]}, CPU {cpu[i]}");
        }
    }
}
