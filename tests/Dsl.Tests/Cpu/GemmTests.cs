using Dsl.Cpu;
using Xunit;

namespace Dsl.Tests.Cpu;

/// <summary>
/// <see cref="Gemm.Multiply{TEpilogue}"/> against a naive float64 reference on random inputs at odd
/// sizes, every transpose combination, padded strides, with and without accumulation and workers.
/// </summary>
public sealed class GemmTests
{
    private static readonly int[] OddSizes = [1, 2, 7, 16, 33, 100, 129];

    public static TheoryData<Transpose, Transpose, bool> TransposesAndAccumulation() => GemmProblem.TransposesAndAccumulation();

    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void Multiply_MatchesFloat64Reference_AtOddSizes(Transpose transA, Transpose transB, bool accumulate)
    {
        var random = new Random(HashCode.Combine(transA, transB, accumulate));
        foreach (int m in OddSizes)
        {
            foreach (int n in OddSizes)
            {
                foreach (int k in OddSizes)
                {
                    var problem = GemmProblem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 3);
                    Run(problem, new NoEpilogue(), workers: null);
                    AssertMatchesReference(problem);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void Multiply_MatchesFloat64Reference_AcrossCacheBlocks(Transpose transA, Transpose transB, bool accumulate)
    {
        // m crosses MC (144) while k crosses KC (256) twice with a ragged end; then n crosses NC (2048).
        var random = new Random(HashCode.Combine(transA, transB, accumulate, 1));
        foreach (var (m, n, k) in new[] { (151, 40, 523), (13, 2071, 300) })
        {
            var problem = GemmProblem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 5);
            Run(problem, new NoEpilogue(), workers: null);
            AssertMatchesReference(problem);
        }
    }

    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void DirectPath_MatchesFloat64Reference_AtEveryTileShape(Transpose transA, Transpose transB, bool accumulate)
    {
        // Small products read A in place: every ragged row count (m % MR = 1..5, with and without full
        // tiles above it), one- and two-vector column slivers, full and ragged, and odd and even depths
        // (the kernel takes depth steps in pairs).
        var random = new Random(HashCode.Combine(transA, transB, accumulate, 3));
        int[] columnCounts = [1, 3, 4, 7, 8, 9, 12, 15, 16, 17, 24, 40];
        int[] depths = [1, 2, 5, 40];
        for (int m = 1; m <= 2 * Gemm.MR + 1; m++)
        {
            foreach (int n in columnCounts)
            {
                foreach (int k in depths)
                {
                    var problem = GemmProblem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 3);
                    Run(problem, new NoEpilogue(), workers: null);
                    AssertMatchesReference(problem);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void Multiply_MatchesFloat64Reference_AroundTheDirectPathLimits(Transpose transA, Transpose transB, bool accumulate)
    {
        // k = KC is the deepest direct product and k = KC + 1 the shallowest packed one; at k = KC,
        // DirectLimit / KC rows are the most the direct path takes, one more row goes packed.
        var random = new Random(HashCode.Combine(transA, transB, accumulate, 4));
        int limitRows = Gemm.DirectLimit / Gemm.KC;
        (int M, int N, int K)[] shapes =
        [
            (13, 17, Gemm.KC - 1), (13, 17, Gemm.KC), (13, 17, Gemm.KC + 1),
            (limitRows, 9, Gemm.KC), (limitRows + 1, 9, Gemm.KC), (limitRows + 5, 33, Gemm.KC),
        ];
        foreach (var (m, n, k) in shapes)
        {
            var problem = GemmProblem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 2);
            Run(problem, new NoEpilogue(), workers: null);
            AssertMatchesReference(problem);
        }
    }

    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void PackedPath_MatchesFloat64Reference_AtOddSizes(Transpose transA, Transpose transB, bool accumulate)
    {
        // Deeper than KC, so blocked and packed (A in place when few column slivers use it): ragged
        // row tiles, narrow and ragged column slivers, two depth blocks with the second one accumulating.
        var random = new Random(HashCode.Combine(transA, transB, accumulate, 5));
        foreach (int m in new[] { 1, 5, 7, 13, 100 })
        {
            foreach (int n in new[] { 1, 8, 9, 17, 33, 100 })
            {
                var problem = GemmProblem.Random(random, transA, transB, m, n, Gemm.KC + 45, accumulate, stridePadding: 3);
                Run(problem, new NoEpilogue(), workers: null);
                AssertMatchesReference(problem);
            }
        }
    }

    [Theory]
    [MemberData(nameof(TransposesAndAccumulation))]
    public void Multiply_MatchesFloat64Reference_WithPowerOfTwoStrides(Transpose transA, Transpose transB, bool accumulate)
    {
        // Small m and n would read A and B in place; strides that are multiples of 256 floats pack them instead.
        var random = new Random(HashCode.Combine(transA, transB, accumulate, 2));
        foreach (var (m, n, k) in new[] { (7, 40, 300), (20, 9, 33), (130, 20, 70) })
        {
            var problem = GemmProblem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 0, stride: 512);
            Run(problem, new NoEpilogue(), workers: null);
            AssertMatchesReference(problem);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Multiply_WithWorkers_MatchesFloat64Reference(int threadCount)
    {
        // Every product is above Gemm.ParallelThreshold, so it is split into tiles over the workers.
        (int M, int N, int K)[] shapes = [(129, 257, 100), (300, 33, 250), (7, 1000, 400), (1, 4100, 600), (520, 7, 900), (150, 130, 120)];
        using var workers = new CpuWorkers(threadCount);
        var random = new Random(threadCount);
        int shape = 0;
        foreach (var row in TransposesAndAccumulation())
        {
            var (m, n, k) = shapes[shape++ % shapes.Length];
            Assert.True((long)m * n * k >= Gemm.ParallelThreshold);
            var problem = GemmProblem.Random(random, (Transpose)row[0], (Transpose)row[1], m, n, k, (bool)row[2], stridePadding: 2);
            Run(problem, new NoEpilogue(), workers);
            AssertMatchesReference(problem);
        }
    }

    [Theory]
    [InlineData(Transpose.No, Transpose.Yes, 33, 100, 40, 1)]
    [InlineData(Transpose.Yes, Transpose.No, 129, 7, 600, 1)]
    [InlineData(Transpose.No, Transpose.No, 20, 2071, 300, 1)]
    [InlineData(Transpose.Yes, Transpose.Yes, 100, 90, 523, 2)]
    [InlineData(Transpose.No, Transpose.Yes, 256, 160, 300, 3)]
    [InlineData(Transpose.No, Transpose.No, 100, 100, 10, 1)]
    [InlineData(Transpose.Yes, Transpose.No, 10, 100, 101, 1)]
    [InlineData(Transpose.No, Transpose.Yes, 100, 10, 100, 1)]
    [InlineData(Transpose.Yes, Transpose.Yes, 13, 17, 256, 1)]
    [InlineData(Transpose.No, Transpose.Yes, 50, 100, 100, 2)]
    [InlineData(Transpose.Yes, Transpose.No, 100, 40, 100, 2)]
    [InlineData(Transpose.No, Transpose.No, 101, 97, 99, 3)]
    public void Epilogue_SeesEveryElementOnceAfterTheFullReduction(Transpose transA, Transpose transB,
        int m, int n, int k, int threadCount)
    {
        using var workers = new CpuWorkers(threadCount);
        foreach (bool accumulate in new[] { false, true })
        {
            var problem = GemmProblem.Random(new Random(m + n + k), transA, transB, m, n, k, accumulate, stridePadding: 4);
            var epilogue = new RecordingEpilogue(problem);
            Run(problem, epilogue, workers);
            epilogue.AssertEveryElementSeenOnceWithTheFinishedValue();
            AssertMatchesReference(problem, addRowColumnTag: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ZeroDepth_StillRunsTheEpilogue(bool accumulate)
    {
        var problem = GemmProblem.Random(new Random(7), Transpose.No, Transpose.Yes, m: 7, n: 33, k: 0, accumulate, stridePadding: 3);
        var epilogue = new RecordingEpilogue(problem);
        Run(problem, epilogue, workers: null);
        epilogue.AssertEveryElementSeenOnceWithTheFinishedValue();
        AssertMatchesReference(problem, addRowColumnTag: true);
    }

    [Theory]
    [InlineData(0, 5, 3)]
    [InlineData(5, 0, 3)]
    [InlineData(0, 0, 0)]
    public void EmptyOutput_IsANoOp(int m, int n, int k)
    {
        var problem = GemmProblem.Random(new Random(3), Transpose.No, Transpose.No, m, n, k, accumulate: false, stridePadding: 1);
        var epilogue = new RecordingEpilogue(problem);
        float[] before = (float[])problem.C.Clone();
        Run(problem, epilogue, workers: null);
        Assert.Equal(0, epilogue.Calls[0]);
        Assert.Equal(before, problem.C);
    }

    [Fact]
    public void Sizes_AreValidated()
    {
        float[] a = new float[6 * 4];
        float[] b = new float[4 * 5];
        float[] c = new float[6 * 5];
        Assert.Throws<ArgumentOutOfRangeException>(() => Multiply(Transpose.No, Transpose.No, -1, 5, 4, a, 4, b, 5, c, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Multiply(Transpose.No, Transpose.No, 6, -5, 4, a, 4, b, 5, c, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Multiply(Transpose.No, Transpose.No, 6, 5, -4, a, 4, b, 5, c, 5));

        var shortA = Assert.Throws<ArgumentException>(() => Multiply(Transpose.No, Transpose.No, 6, 5, 4, a.AsSpan(1).ToArray(), 4, b, 5, c, 5));
        Assert.Equal("a", shortA.ParamName);
        Assert.Contains("23", shortA.Message);
        Assert.Contains("24", shortA.Message);

        // Stored transposed, A is 4 x 6: with lda = 7 it needs 3 * 7 + 6 = 27 floats.
        var shortTransposedA = Assert.Throws<ArgumentException>(() => Multiply(Transpose.Yes, Transpose.No, 6, 5, 4, a, 7, b, 5, c, 5));
        Assert.Contains("27", shortTransposedA.Message);

        var narrowLdb = Assert.Throws<ArgumentException>(() => Multiply(Transpose.No, Transpose.No, 6, 5, 4, a, 4, b, 4, c, 5));
        Assert.Equal("ldb", narrowLdb.ParamName);

        var shortB = Assert.Throws<ArgumentException>(() => Multiply(Transpose.No, Transpose.Yes, 6, 5, 4, a, 4, b, 5, c, 5));
        Assert.Equal("b", shortB.ParamName);
        Assert.Contains("24", shortB.Message);

        var shortC = Assert.Throws<ArgumentException>(() => Multiply(Transpose.No, Transpose.No, 6, 5, 4, a, 4, b, 5, c, 6));
        Assert.Equal("c", shortC.ParamName);
        Assert.Contains("35", shortC.Message);

        Assert.Throws<ArgumentException>(() => Multiply(Transpose.No, Transpose.No, 6, 5, 4, a, 3, b, 5, c, 5));
        Assert.Throws<ArgumentException>(() => Multiply(Transpose.No, Transpose.No, 6, 5, 4, a, 4, b, 5, c, 4));

        // Empty products still check their operands, and need nothing from the ones of size zero.
        Multiply(Transpose.No, Transpose.No, 0, 5, 4, [], 4, b, 5, [], 5);
        Multiply(Transpose.No, Transpose.No, 6, 5, 0, [], 0, [], 5, c, 5);
    }

    [Fact]
    public void Workers_RunEveryIndexExactlyOnce_AndRethrowFailures()
    {
        Assert.Equal(Environment.ProcessorCount, CpuWorkers.Default.ThreadCount);
        using var workers = new CpuWorkers(3);
        Assert.Equal(3, workers.ThreadCount);
        for (int round = 0; round < 200; round++)
        {
            int taskCount = round % 17;
            int[] visits = new int[taskCount];
            workers.Run(taskCount, new CountingTask(visits));
            Assert.All(visits, count => Assert.Equal(1, count));
        }

        var failure = Assert.Throws<InvalidOperationException>(() => workers.Run(8, new FailingTask(5)));
        Assert.Equal("task 5", failure.Message);

        // A job started from inside a job runs inline rather than deadlocking.
        int[] inner = new int[4];
        workers.Run(2, new NestingTask(workers, inner));
        Assert.All(inner, count => Assert.Equal(2, count));
    }

    private static void Multiply(Transpose transA, Transpose transB, int m, int n, int k,
        float[] a, int lda, float[] b, int ldb, float[] c, int ldc)
        => Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate: false, new NoEpilogue());

    private readonly struct CountingTask(int[] visits) : ICpuTask
    {
        public void Execute(int index) => Interlocked.Increment(ref visits[index]);
    }

    private readonly struct FailingTask(int failingIndex) : ICpuTask
    {
        public void Execute(int index)
        {
            if (index == failingIndex)
            {
                throw new InvalidOperationException($"task {index}");
            }
        }
    }

    private readonly struct NestingTask(CpuWorkers workers, int[] inner) : ICpuTask
    {
        public void Execute(int index) => workers.Run(inner.Length, new CountingTask(inner));
    }

    /// <summary>
    /// Checks, at each call, that the stretch holds the finished product (float64 reference plus the
    /// previous C when accumulating), counts visits per element, then adds row * 1000 + column so the
    /// final C proves the rewrite landed. Safe under concurrent calls on disjoint stretches.
    /// </summary>
    private readonly struct RecordingEpilogue : IEpilogue
    {
        private readonly GemmProblem _problem;
        private readonly int[] _visits;
        private readonly int[] _mismatches;

        public RecordingEpilogue(GemmProblem problem)
        {
            _problem = problem;
            _visits = new int[problem.M * problem.N];
            _mismatches = new int[1];
            Calls = new int[1];
        }

        public int[] Calls { get; }

        public void Apply(int row, int column, Span<float> values)
        {
            Interlocked.Increment(ref Calls[0]);
            for (int j = 0; j < values.Length; j++)
            {
                Interlocked.Increment(ref _visits[row * _problem.N + column + j]);
                if (!IsClose(_problem, row, column + j, values[j], addRowColumnTag: false))
                {
                    Interlocked.Increment(ref _mismatches[0]);
                }
                values[j] += row * 1000 + column + j;
            }
        }

        public void AssertEveryElementSeenOnceWithTheFinishedValue()
        {
            Assert.Equal(0, _mismatches[0]);
            for (int i = 0; i < _visits.Length; i++)
            {
                Assert.True(_visits[i] == 1, $"C[{i / _problem.N}, {i % _problem.N}] passed to the epilogue {_visits[i]} times");
            }
        }
    }

    /// <summary>Runs the product on the CPU with minimal spans: the last row of each operand ends at its last used element.</summary>
    private static void Run<TEpilogue>(GemmProblem problem, TEpilogue epilogue, CpuWorkers? workers)
        where TEpilogue : struct, IEpilogue
    {
        int aLength = Math.Max(0, problem.A.Length - (problem.Lda - (problem.TransA == Transpose.No ? problem.K : problem.M)));
        int bLength = Math.Max(0, problem.B.Length - (problem.Ldb - (problem.TransB == Transpose.No ? problem.N : problem.K)));
        int cLength = Math.Max(0, problem.C.Length - (problem.Ldc - problem.N));
        Gemm.Multiply(problem.TransA, problem.TransB, problem.M, problem.N, problem.K, problem.A.AsSpan(0, aLength), problem.Lda,
            problem.B.AsSpan(0, bLength), problem.Ldb, problem.C.AsSpan(0, cLength), problem.Ldc, problem.Accumulate, epilogue, workers);
    }

    /// <summary>
    /// Whether <paramref name="actual"/> is C[row, column] of the float64 reference (plus row * 1000 + column when
    /// <paramref name="addRowColumnTag"/>) within float32 rounding of a depth-k sum, scaled by the sum of the terms' magnitudes.
    /// </summary>
    private static bool IsClose(GemmProblem problem, int row, int column, float actual, bool addRowColumnTag)
    {
        double expected = problem.Expected[row * problem.N + column];
        double absoluteSum = problem.AbsoluteSum[row * problem.N + column];
        double tag = addRowColumnTag ? row * 1000 + column : 0;
        double tolerance = 1e-6 * Math.Sqrt(problem.K + 1) * (absoluteSum + 1) + 1e-6 * Math.Abs(tag);
        return Math.Abs(actual - (expected + tag)) <= tolerance;
    }

    private static void AssertMatchesReference(GemmProblem problem, bool addRowColumnTag = false)
    {
        for (int row = 0; row < problem.M; row++)
        {
            for (int column = 0; column < problem.N; column++)
            {
                float actual = problem.C[row * problem.Ldc + column];
                if (!IsClose(problem, row, column, actual, addRowColumnTag))
                {
                    double expected = problem.Expected[row * problem.N + column] + (addRowColumnTag ? row * 1000 + column : 0);
                    Assert.Fail($"{problem.Name}: C[{row}, {column}] = {actual}, expected {expected}");
                }
            }
        }

        problem.AssertPaddingKept();
    }
}
