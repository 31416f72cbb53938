using System.Diagnostics;
using System.Globalization;
using Dsl;
using Dsl.Bench;
using Dsl.Training;

// Benchmark harness: our generated training step against PyTorch's, same machine, same invocation.
//   dotnet run -c Release --project bench/Dsl.Bench -- --suite cpu [--threads N] [--pairs N] [--workloads W1,W2,W3,W1R,W5,SGEMM] [--no-peer]
//   dotnet run -c Release --project bench/Dsl.Bench -- --suite gpu [--device NAME] [--steps-scale F | --quick] [--workloads W1,W2,W3,W4,SWEEP]
// The GPU suite prints our numbers only; bench/gpu/run.sh runs its PyTorch peer and joins the lines.
const string Usage = "usage: Dsl.Bench --suite cpu [--threads N] [--pairs N] [--workloads W1,W2,W3,W1R,W5,SGEMM] [--no-peer]\n"
    + "       Dsl.Bench --suite gpu [--device NAME] [--steps-scale F | --quick] [--workloads W1,W2,W3,W4,SWEEP] [--no-peer]";
string suite = "cpu";
int threads = 0;
int pairs = 10;
bool runPeer = true;
string? deviceName = null;
double stepsScale = 1.0;
bool quick = false;
HashSet<string>? workloads = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--suite" when i + 1 < args.Length: suite = args[++i]; break;
        case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--pairs" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0:
            pairs = count;
            i++;
            break;
        case "--no-peer": runPeer = false; break;
        case "--device" when i + 1 < args.Length: deviceName = args[++i]; break;
        case "--steps-scale" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out double scale) && scale > 0:
            stepsScale = scale;
            i++;
            break;
        case "--quick": quick = true; break;
        case "--workloads" when i + 1 < args.Length:
            workloads = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => w.ToUpperInvariant())];
            break;
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

if (suite == "gpu")
{
    // The GPU peer runs from bench/gpu/run.sh (PyTorch on the same GPU, after this process has exited).
    return GpuSuite.Run(deviceName, stepsScale, quick, workloads);
}

if (suite != "cpu" || deviceName is not null || stepsScale != 1.0 || quick)
{
    Console.Error.WriteLine(suite == "cpu" ? $"--device, --steps-scale and --quick belong to the gpu suite\n{Usage}" : $"unknown suite '{suite}'\n{Usage}");
    return 2;
}

string[] cpuWorkloads = ["W1", "W2", "W3", "W1R", "W5", "SGEMM"];
if (workloads is not null && workloads.Except(cpuWorkloads).FirstOrDefault() is string unknown)
{
    Console.Error.WriteLine($"unknown CPU workload '{unknown}' (the CPU suite has {string.Join(", ", cpuWorkloads)})\n{Usage}");
    return 2;
}

return CpuSuite(threads, pairs, runPeer, workloads);

// Each workload alternates a block of PyTorch's steps with a block of ours, `pairs` times (which side goes
// first alternates too), so each pair is measured within a few seconds and drift in this shared machine's
// speed reaches both sides of a pair alike. Every configuration's block lasts about half a second (its step
// count is set from a short probe), so neither side's blocks sample the machine over a shorter window. In every
// pair each side runs with 1 and with all threads (or --threads N) and counts its faster configuration. The
// speedup is the median of the pairs' own ratios; ours and peer are each side's median block.
static int CpuSuite(int threads, int pairs, bool runPeer, HashSet<string>? only)
{
    int[] threadOptions = [.. (threads > 0 ? [threads] : new[] { 1, Environment.ProcessorCount }).Distinct()];
    using TorchPeer? peer = runPeer ? TorchPeer.Start() : null;
    (string Id, Func<string> Run)[] suite =
    [
        ("W1", () => Paired("W1", d => new W1Mlp(d, 1), batch: 100, probeSteps: 100, pairs, threadOptions, peer)),
        ("W2", () => Paired("W2", d => new W2Cnn(d, 1), batch: 100, probeSteps: 50, pairs, threadOptions, peer, () => new Adam(1e-2f))),
        ("W3", () => Paired("W3", d => new W3Mlp(d, 1), batch: 256, probeSteps: 3, pairs, threadOptions, peer)),
        ("W1R", () => Paired("W1R", d => new W1ResidualMlp(d, 1), batch: 100, probeSteps: 100, pairs, threadOptions, peer)),
        ("W5", () => Paired("W5", d => new W5DeepResidual(d, 1), batch: 256, probeSteps: 3, pairs, threadOptions, peer, () => new Adam(1e-3f))),
    ];
    string[] lines = [.. suite.Where(w => only is null || only.Contains(w.Id)).Select(w => w.Run())];
    string peerName = peer is null ? "none" : $"PyTorch {peer.Version}, the faster of {string.Join(" and ", threadOptions)} threads in each pair";
    Console.WriteLine($"# {Environment.ProcessorCount} cores, .NET {Environment.Version}, {pairs} alternating pairs of blocks per workload; peer: {peerName}");
    Console.WriteLine($"# instruction sets: ours {SgemmComparison.OurInstructionSets()}; peer {peer?.InstructionSets() ?? "none"}");
    foreach (string line in lines)
    {
        Console.WriteLine(line);
    }

    if (only is null || only.Contains("SGEMM"))
    {
        foreach (string line in SgemmComparison.Run(peer))
        {
            Console.WriteLine(line);
        }
    }

    if (lines.FirstOrDefault(line => line.StartsWith("W1 ", StringComparison.Ordinal)) is string w1)
    {
        double checks = FiniteCheckCost.MicrosecondsPerStep(blocks: 9);
        double w1Ours = double.Parse(w1[(w1.IndexOf("ours=", StringComparison.Ordinal) + 5)..].Split(' ')[0], CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# W1 finite checks (inputs, loss, gradients of a step): {checks:F2} us per step, {100 * checks / w1Ours:F1}% of ours={w1Ours:F1}"));
    }

    if (peer is not null)
    {
        int all = threadOptions.Max();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# peer OpenBLAS sgemm 2048: {peer.SgemmGflops(all):F1} GFLOP/s on {all} threads"));
    }

    return 0;
}

static string Paired<TNetwork>(string id, Func<Device, TNetwork> create, int batch, int probeSteps, int pairs, int[] threadOptions, TorchPeer? peer, Func<Optimizer>? optimizer = null)
    where TNetwork : IClassifierNetwork
{
    const double BlockMicroseconds = 500_000;
    var ours = threadOptions.Select(t => OurStep.Prepare(create, batch, t, warmupSteps: 2 * probeSteps, optimizer)).ToList();
    try
    {
        // (threads, steps per block, time one block) for each configuration of each side.
        static (int Threads, int Steps, Func<int, double> Block) Calibrated(int threads, int probeSteps, Func<int, double> block)
            => (threads, Math.Max(probeSteps, (int)(BlockMicroseconds / block(probeSteps))), block);
        var ourConfigs = ours.Select(o => Calibrated(o.Threads, probeSteps, o.BlockMicroseconds)).ToList();
        var peerConfigs = peer is null ? [] : threadOptions.Select(t => Calibrated(t, probeSteps, steps => peer.StepMicroseconds(id, t, steps))).ToList();
        static (double Us, int Threads) Fastest(List<(int Threads, int Steps, Func<int, double> Block)> configs)
            => configs.Select(c => (c.Block(c.Steps), c.Threads)).Min();

        var oursBest = new List<(double Us, int Threads)>();
        var peerBest = new List<(double Us, int Threads)>();
        for (int pair = 0; pair < pairs; pair++)
        {
            if (peer is null)
            {
                oursBest.Add(Fastest(ourConfigs));
            }
            else if (pair % 2 == 0)
            {
                peerBest.Add(Fastest(peerConfigs));
                oursBest.Add(Fastest(ourConfigs));
            }
            else
            {
                oursBest.Add(Fastest(ourConfigs));
                peerBest.Add(Fastest(peerConfigs));
            }
        }

        double oursUs = Median(oursBest.Select(b => b.Us));
        string line = string.Create(CultureInfo.InvariantCulture, $"{id} cpu step_us ours={oursUs:F1}");
        string threadsUsed = "ours " + ThreadCounts(oursBest);
        if (peer is null)
        {
            return line + " peer=n/a  # " + threadsUsed;
        }

        double[] ratios = [.. peerBest.Zip(oursBest, (p, o) => p.Us / o.Us)];
        return line + string.Create(CultureInfo.InvariantCulture,
            $" peer={Median(peerBest.Select(b => b.Us)):F1} speedup={Median(ratios):F2}  # pairs' speedups {ratios.Min():F2}-{ratios.Max():F2}; {threadsUsed}; peer {ThreadCounts(peerBest)}");
    }
    finally
    {
        foreach (OurStep step in ours)
        {
            step.Dispose();
        }
    }
}

// "threads=1 in 3, threads=2 in 7": which configuration was the faster in how many pairs.
static string ThreadCounts(List<(double Us, int Threads)> blocks)
    => string.Join(", ", blocks.GroupBy(b => b.Threads).OrderBy(g => g.Key).Select(g => $"threads={g.Key} in {g.Count()}"));

static double Median(IEnumerable<double> values)
{
    double[] sorted = [.. values.Order()];
    int middle = sorted.Length / 2;
    return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
