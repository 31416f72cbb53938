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

    public static TheoryData<Transpose, Transpose, bool> TransposesAndAccumulation()
    {
        var data = new TheoryData<Transpose, Transpose, bool>();
        foreach (var transA in new[] { Transpose.No, Transpose.Yes })
        {
            foreach (var transB in new[] { Transpose.No, Transpose.Yes })
            {
                data.Add(transA, transB, false);
                data.Add(transA, transB, true);
            }
        }
        return data;
    }

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
                    var problem = Problem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 3);
                    problem.Run(new NoEpilogue(), workers: null);
                    problem.AssertMatchesReference();
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
            var problem = Problem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 5);
            problem.Run(new NoEpilogue(), workers: null);
            problem.AssertMatchesReference();
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
                    var problem = Problem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 3);
                    problem.Run(new NoEpilogue(), workers: null);
                    problem.AssertMatchesReference();
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
            var problem = Problem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 2);
            problem.Run(new NoEpilogue(), workers: null);
            problem.AssertMatchesReference();
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
                var problem = Problem.Random(random, transA, transB, m, n, Gemm.KC + 45, accumulate, stridePadding: 3);
                problem.Run(new NoEpilogue(), workers: null);
                problem.AssertMatchesReference();
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
            var problem = Problem.Random(random, transA, transB, m, n, k, accumulate, stridePadding: 0, stride: 512);
            problem.Run(new NoEpilogue(), workers: null);
            problem.AssertMatchesReference();
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
            var problem = Problem.Random(random, (Transpose)row[0], (Transpose)row[1], m, n, k, (bool)row[2], stridePadding: 2);
            problem.Run(new NoEpilogue(), workers);
            problem.AssertMatchesReference();
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
            var problem = Problem.Random(new Random(m + n + k), transA, transB, m, n, k, accumulate, stridePadding: 4);
            var epilogue = new RecordingEpilogue(problem);
            problem.Run(epilogue, workers);
            epilogue.AssertEveryElementSeenOnceWithTheFinishedValue();
            problem.AssertMatchesReference(addRowColumnTag: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ZeroDepth_StillRunsTheEpilogue(bool accumulate)
    {
        var problem = Problem.Random(new Random(7), Transpose.No, Transpose.Yes, m: 7, n: 33, k: 0, accumulate, stridePadding: 3);
        var epilogue = new RecordingEpilogue(problem);
        problem.Run(epilogue, workers: null);
        epilogue.AssertEveryElementSeenOnceWithTheFinishedValue();
        problem.AssertMatchesReference(addRowColumnTag: true);
    }

    [Theory]
    [InlineData(0, 5, 3)]
    [InlineData(5, 0, 3)]
    [InlineData(0, 0, 0)]
    public void EmptyOutput_IsANoOp(int m, int n, int k)
    {
        var problem = Problem.Random(new Random(3), Transpose.No, Transpose.No, m, n, k, accumulate: false, stridePadding: 1);
        var epilogue = new RecordingEpilogue(problem);
        float[] before = (float[])problem.C.Clone();
        problem.Run(epilogue, workers: null);
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
        private readonly Problem _problem;
        private readonly int[] _visits;
        private readonly int[] _mismatches;

        public RecordingEpilogue(Problem problem)
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
                if (!_problem.IsClose(row, column + j, values[j], addRowColumnTag: false))
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

    /// <summary>One random product with padded strides; C's padding holds a sentinel that must survive.</summary>
    private sealed class Problem
    {
        private const float Sentinel = -12345f;

        private Problem(Transpose transA, Transpose transB, int m, int n, int k, bool accumulate, int stridePadding, int? stride)
        {
            TransA = transA;
            TransB = transB;
            M = m;
            N = n;
            K = k;
            Accumulate = accumulate;
            Lda = stride ?? (transA == Transpose.No ? k : m) + stridePadding;
            Ldb = stride ?? (transB == Transpose.No ? n : k) + stridePadding + 1;
            Ldc = stride ?? n + stridePadding + 2;
            A = new float[(transA == Transpose.No ? m : k) * Lda];
            B = new float[(transB == Transpose.No ? k : n) * Ldb];
            C = new float[m * Ldc];
        }

        public Transpose TransA { get; }
        public Transpose TransB { get; }
        public int M { get; }
        public int N { get; }
        public int K { get; }
        public bool Accumulate { get; }
        public int Lda { get; }
        public int Ldb { get; }
        public int Ldc { get; }
        public float[] A { get; }
        public float[] B { get; }
        public float[] C { get; }

        /// <summary>C before the call: the accumulation's addend.</summary>
        private float[] InitialC { get; set; } = [];

        /// <summary>Strides are the minimum plus <paramref name="stridePadding"/> (plus 1 for B, 2 for C), or all <paramref name="stride"/>.</summary>
        public static Problem Random(Random random, Transpose transA, Transpose transB, int m, int n, int k,
            bool accumulate, int stridePadding, int? stride = null)
        {
            var problem = new Problem(transA, transB, m, n, k, accumulate, stridePadding, stride);
            Fill(random, problem.A);
            Fill(random, problem.B);
            Fill(random, problem.C);
            for (int row = 0; row < m; row++)
            {
                problem.C.AsSpan(row * problem.Ldc + n, problem.Ldc - n).Fill(Sentinel);
            }
            problem.InitialC = (float[])problem.C.Clone();
            problem.Reference = problem.ComputeReference();
            return problem;
        }

        public void Run<TEpilogue>(TEpilogue epilogue, CpuWorkers? workers) where TEpilogue : struct, IEpilogue
        {
            // Minimal spans: the last row of each operand ends at its last used element.
            int aLength = Math.Max(0, A.Length - (Lda - (TransA == Transpose.No ? K : M)));
            int bLength = Math.Max(0, B.Length - (Ldb - (TransB == Transpose.No ? N : K)));
            int cLength = Math.Max(0, C.Length - (Ldc - N));
            Gemm.Multiply(TransA, TransB, M, N, K, A.AsSpan(0, aLength), Lda, B.AsSpan(0, bLength), Ldb,
                C.AsSpan(0, cLength), Ldc, Accumulate, epilogue, workers);
        }

        /// <summary>
        /// The float64 product (plus the initial C when accumulating) and, per element, the sum of the
        /// magnitudes of its terms, which scales the float32 rounding error. Computed once, row-major m x n.
        /// </summary>
        private (double[] Expected, double[] AbsoluteSum) Reference { get; set; }

        private (double[] Expected, double[] AbsoluteSum) ComputeReference()
        {
            // op(A) row-major (m x k) and op(B) column-major (n x k), so the inner loop is contiguous.
            double[] opA = new double[M * K];
            double[] opBColumns = new double[N * K];
            for (int row = 0; row < M; row++)
            {
                for (int p = 0; p < K; p++)
                {
                    opA[row * K + p] = TransA == Transpose.No ? A[row * Lda + p] : A[p * Lda + row];
                }
            }
            for (int column = 0; column < N; column++)
            {
                for (int p = 0; p < K; p++)
                {
                    opBColumns[column * K + p] = TransB == Transpose.No ? B[p * Ldb + column] : B[column * Ldb + p];
                }
            }
            double[] expected = new double[M * N];
            double[] absoluteSum = new double[M * N];
            for (int row = 0; row < M; row++)
            {
                for (int column = 0; column < N; column++)
                {
                    double sum = Accumulate ? InitialC[row * Ldc + column] : 0.0;
                    double magnitude = Math.Abs(sum);
                    for (int p = 0; p < K; p++)
                    {
                        double term = opA[row * K + p] * opBColumns[column * K + p];
                        sum += term;
                        magnitude += Math.Abs(term);
                    }
                    expected[row * N + column] = sum;
                    absoluteSum[row * N + column] = magnitude;
                }
            }
            return (expected, absoluteSum);
        }

        public bool IsClose(int row, int column, float actual, bool addRowColumnTag)
        {
            var (expectedValues, absoluteSums) = Reference;
            double expected = expectedValues[row * N + column];
            double absoluteSum = absoluteSums[row * N + column];
            double tag = addRowColumnTag ? row * 1000 + column : 0;
            double tolerance = 1e-6 * Math.Sqrt(K + 1) * (absoluteSum + 1) + 1e-6 * Math.Abs(tag);
            return Math.Abs(actual - (expected + tag)) <= tolerance;
        }

        public void AssertMatchesReference(bool addRowColumnTag = false)
        {
            for (int row = 0; row < M; row++)
            {
                for (int column = 0; column < N; column++)
                {
                    float actual = C[row * Ldc + column];
                    if (!IsClose(row, column, actual, addRowColumnTag))
                    {
                        double expected = Reference.Expected[row * N + column] + (addRowColumnTag ? row * 1000 + column : 0);
                        Assert.Fail($"{TransA}{TransB} m={M} n={N} k={K} accumulate={Accumulate}: " +
                            $"C[{row}, {column}] = {actual}, expected {expected}");
                    }
                }
                for (int column = N; column < Ldc; column++)
                {
                    Assert.True(C[row * Ldc + column] == Sentinel,
                        $"{TransA}{TransB} m={M} n={N} k={K}: padding C[{row}, {column}] was overwritten");
                }
            }
        }

        private static void Fill(Random random, float[] values)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)(random.NextDouble() * 2 - 1);
            }
        }
    }
}
