using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dsl.Cpu;

namespace Dsl.Bench;

/// <summary>
/// Our GEMM against PyTorch's torch.mm (OpenBLAS's sgemm) on one thread, square n x n x n products (C = A B, both
/// stored as given), n = 128 to 2048, in the same run: per size, 5 alternating pairs (which side goes first
/// alternates), each side's block the best of 3 timings of about 0.2 s. Prints each side's median GFLOP/s and the
/// median of the pairs' ratios with their range.
/// </summary>
internal static class SgemmComparison
{
    private static readonly int[] Sizes = [128, 256, 512, 1024, 2048];

    private const int Pairs = 5;

    /// <summary>The vector width our kernels take on this machine, as the GEMM and the elementwise kernels choose it.</summary>
    public static string OurInstructionSets()
        => Vector512.IsHardwareAccelerated ? "Vector512 (AVX-512F) GEMM tiles, Vector256 elsewhere"
            : Vector256.IsHardwareAccelerated ? $"Vector256 ({(Fma.IsSupported ? "AVX2 and FMA" : "AVX2, no FMA")})"
            : "portable scalar fallbacks (no 256-bit vectors)";

    public static IEnumerable<string> Run(TorchPeer? peer)
    {
        foreach (int n in Sizes)
        {
            var ours = new List<double>();
            var theirs = new List<double>();
            var ratios = new List<double>();
            for (int pair = 0; pair < Pairs; pair++)
            {
                double peerGflops = 0;
                if (peer is not null && pair % 2 == 0)
                {
                    peerGflops = peer.SgemmGflops(1, n);
                }

                double ourGflops = OurGflops(n);
                if (peer is not null && pair % 2 == 1)
                {
                    peerGflops = peer.SgemmGflops(1, n);
                }

                ours.Add(ourGflops);
                if (peer is not null)
                {
                    theirs.Add(peerGflops);
                    ratios.Add(ourGflops / peerGflops);
                }
            }

            yield return peer is null
                ? string.Create(CultureInfo.InvariantCulture, $"SGEMM n={n} threads=1 ours={Median(ours):F1} GFLOP/s")
                : string.Create(CultureInfo.InvariantCulture,
                    $"SGEMM n={n} threads=1 ours={Median(ours):F1} peer={Median(theirs):F1} GFLOP/s ratio={Median(ratios):F2} ({ratios.Min():F2}-{ratios.Max():F2})");
        }
    }

    /// <summary>Our single-threaded C = A B at n x n x n: the best of 3 timings of about 0.2 s each, after a warm-up.</summary>
    private static double OurGflops(int n)
    {
        var random = new Random(n);
        float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)random.NextDouble() - 0.5f;
            b[i] = (float)random.NextDouble() - 0.5f;
        }

        double flops = 2.0 * n * n * n;
        Multiply(n, a, b, c);
        var probe = Stopwatch.StartNew();
        Multiply(n, a, b, c);
        int reps = Math.Max(3, (int)(0.2 / Math.Max(probe.Elapsed.TotalSeconds, 1e-6)));
        double best = double.MaxValue;
        for (int timing = 0; timing < 3; timing++)
        {
            var clock = Stopwatch.StartNew();
            for (int r = 0; r < reps; r++)
            {
                Multiply(n, a, b, c);
            }

            best = Math.Min(best, clock.Elapsed.TotalSeconds / reps);
        }

        return flops / best / 1e9;
    }

    private static void Multiply(int n, float[] a, float[] b, float[] c)
        => Gemm.Multiply(Transpose.No, Transpose.No, n, n, n, a, n, b, n, c, n, accumulate: false, default(NoEpilogue));

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
