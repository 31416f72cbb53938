using Dsl.Cpu;
using Xunit;

namespace Dsl.Tests;

/// <summary>
/// One random product C = op(A) op(B) (or C += op(A) op(B) when accumulating) with padded strides and its float64
/// reference, shared by the CPU and GPU GEMM tests. C's padding holds a sentinel that must survive.
/// </summary>
internal sealed class GemmProblem
{
    private const float Sentinel = -12345f;

    private GemmProblem(Transpose transA, Transpose transB, int m, int n, int k, bool accumulate, int lda, int ldb, int ldc)
    {
        TransA = transA;
        TransB = transB;
        M = m;
        N = n;
        K = k;
        Accumulate = accumulate;
        Lda = lda;
        Ldb = ldb;
        Ldc = ldc;
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
    public float[] InitialC { get; private set; } = [];

    /// <summary>
    /// The float64 product op(A) op(B), plus the initial C when accumulating, row-major m x n; computed once, when
    /// the problem is made.
    /// </summary>
    public double[] Expected { get; private set; } = [];

    /// <summary>Per element of <see cref="Expected"/>, the sum of the magnitudes of its terms, which scales the float32 rounding error.</summary>
    public double[] AbsoluteSum { get; private set; } = [];

    /// <summary>Every (transA, transB) pair, each storing and accumulating: the GEMM tests' theory data.</summary>
    public static TheoryData<Transpose, Transpose, bool> TransposesAndAccumulation()
    {
        var data = new TheoryData<Transpose, Transpose, bool>();
        foreach (Transpose transA in new[] { Transpose.No, Transpose.Yes })
        {
            foreach (Transpose transB in new[] { Transpose.No, Transpose.Yes })
            {
                data.Add(transA, transB, false);
                data.Add(transA, transB, true);
            }
        }

        return data;
    }

    /// <summary>A description for failure messages.</summary>
    public string Name => $"{TransA}/{TransB} m={M} n={N} k={K} accumulate={Accumulate}";

    /// <summary>
    /// Operands and C uniform in [-1, 1); strides are the minimum plus <paramref name="stridePadding"/> (plus 1 for B,
    /// 2 for C), or all <paramref name="stride"/>.
    /// </summary>
    public static GemmProblem Random(Random random, Transpose transA, Transpose transB, int m, int n, int k,
        bool accumulate, int stridePadding, int? stride = null)
        => Random(random, new GemmProblem(transA, transB, m, n, k, accumulate,
            stride ?? (transA == Transpose.No ? k : m) + stridePadding,
            stride ?? (transB == Transpose.No ? n : k) + stridePadding + 1,
            stride ?? n + stridePadding + 2));

    /// <summary>Operands and C uniform in [-1, 1), every matrix dense (each stride its row length), stored C.</summary>
    public static GemmProblem RandomDense(Random random, Transpose transA, Transpose transB, int m, int n, int k)
        => Random(random, new GemmProblem(transA, transB, m, n, k, accumulate: false,
            transA == Transpose.No ? k : m, transB == Transpose.No ? n : k, n));

    private static GemmProblem Random(Random random, GemmProblem problem)
    {
        int m = problem.M;
        int n = problem.N;
        TestData.FillUniform(random, problem.A);
        TestData.FillUniform(random, problem.B);
        TestData.FillUniform(random, problem.C);
        for (int row = 0; row < m; row++)
        {
            problem.C.AsSpan((row * problem.Ldc) + n, problem.Ldc - n).Fill(Sentinel);
        }

        problem.InitialC = (float[])problem.C.Clone();
        (problem.Expected, problem.AbsoluteSum) = problem.ComputeReference();
        return problem;
    }

    /// <summary>C's padding columns [N, Ldc) of every row still hold the sentinel.</summary>
    public void AssertPaddingKept()
    {
        for (int row = 0; row < M; row++)
        {
            for (int column = N; column < Ldc; column++)
            {
                Assert.True(C[(row * Ldc) + column] == Sentinel, $"{Name}: padding C[{row}, {column}] was overwritten with {C[(row * Ldc) + column]}");
            }
        }
    }

    private (double[] Expected, double[] AbsoluteSum) ComputeReference()
    {
        // op(A) row-major (m x k) and op(B) column-major (n x k), so the inner loop is contiguous.
        double[] opA = new double[M * K];
        double[] opBColumns = new double[N * K];
        for (int row = 0; row < M; row++)
        {
            for (int p = 0; p < K; p++)
            {
                opA[(row * K) + p] = TransA == Transpose.No ? A[(row * Lda) + p] : A[(p * Lda) + row];
            }
        }

        for (int column = 0; column < N; column++)
        {
            for (int p = 0; p < K; p++)
            {
                opBColumns[(column * K) + p] = TransB == Transpose.No ? B[(p * Ldb) + column] : B[(column * Ldb) + p];
            }
        }

        double[] expected = new double[M * N];
        double[] absoluteSum = new double[M * N];
        for (int row = 0; row < M; row++)
        {
            for (int column = 0; column < N; column++)
            {
                double sum = Accumulate ? InitialC[(row * Ldc) + column] : 0.0;
                double magnitude = Math.Abs(sum);
                for (int p = 0; p < K; p++)
                {
                    double term = opA[(row * K) + p] * opBColumns[(column * K) + p];
                    sum += term;
                    magnitude += Math.Abs(term);
                }

                expected[(row * N) + column] = sum;
                absoluteSum[(row * N) + column] = magnitude;
            }
        }

        return (expected, absoluteSum);
    }
}
