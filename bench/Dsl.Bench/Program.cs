using System.Diagnostics;
using System.Globalization;
using Dsl;
using Dsl.Bench;
using Dsl.Training;

// Benchmark harness: our generated training step against PyTorch's, same machine, same invocation.
//   dotnet run -c Release --project bench/Dsl.Bench -- --suite cpu [--threads N] [--no-peer]
//   dotnet run -c Release --project bench/Dsl.Bench -- --suite gpu [--device NAME] [--steps-scale F | --quick] [--workloads W1,W3,W4,SWEEP]
// The GPU suite prints our numbers only; bench/gpu/run.sh runs its PyTorch peer and joins the lines.
const string Usage = "usage: Dsl.Bench --suite cpu [--threads N] [--no-peer]\n"
    + "       Dsl.Bench --suite gpu [--device NAME] [--steps-scale F | --quick] [--workloads W1,W3,W4,SWEEP] [--no-peer]";
string suite = "cpu";
int threads = 0;
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

if (suite != "cpu" || deviceName is not null || stepsScale != 1.0 || quick || workloads is not null)
{
    Console.Error.WriteLine(suite == "cpu" ? $"--device, --steps-scale, --quick and --workloads belong to the gpu suite\n{Usage}" : $"unknown suite '{suite}'\n{Usage}");
    return 2;
}

int peerThreads = threads > 0 ? threads : Environment.ProcessorCount;
Dictionary<string, double> peer = runPeer ? TorchPeer.Run(peerThreads) : [];

// Each side runs with 1 and with all threads (or --threads N) and reports its faster configuration.
int[] threadOptions = threads > 0 ? [threads] : [1, Environment.ProcessorCount];
var results = new List<(string Id, double Ours, string Config)>
{
    Fastest("W1", d => new W1Mlp(d, 1), batch: 100, steps: 4000, threadOptions),
    Fastest("W3", d => new W3Mlp(d, 1), batch: 256, steps: 60, threadOptions),
};

Console.WriteLine($"# {Environment.ProcessorCount} cores, .NET {Environment.Version}, peer: {(peer.ContainsKey("W1") ? $"PyTorch, the faster of 1 and {peerThreads} threads per workload" : "none")}");
foreach ((string id, double ours, string config) in results)
{
    string line = string.Create(CultureInfo.InvariantCulture, $"{id} cpu step_us ours={ours:F1}");
    line += peer.TryGetValue(id, out double theirs)
        ? string.Create(CultureInfo.InvariantCulture, $" peer={theirs:F1} speedup={theirs / ours:F2}")
            + (peer.TryGetValue(id + "_threads", out double peerThreadsUsed) ? string.Create(CultureInfo.InvariantCulture, $"  # peer threads={peerThreadsUsed}") : string.Empty)
        : " peer=n/a";
    Console.WriteLine(line + "  # ours " + config);
}

if (peer.TryGetValue("sgemm2048", out double gflops))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# peer OpenBLAS sgemm 2048: {gflops:F1} GFLOP/s"));
}

return 0;

static (string Id, double Ours, string Config) Fastest<TNetwork>(string id, Func<Device, TNetwork> create, int batch, int steps, int[] threadOptions)
    where TNetwork : IClassifierNetwork
{
    var timings = threadOptions.Distinct().Select(t => (Threads: t, Us: StepMicroseconds(create, batch, t, steps))).ToList();
    (int bestThreads, double bestUs) = timings.MinBy(t => t.Us);
    string all = string.Join(", ", timings.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Us:F1} us at {t.Threads}")));
    return (id, bestUs, $"threads={bestThreads} ({all})");
}

// Median of five timed blocks of SGD training steps on one fixed random batch, after a warm-up.
static double StepMicroseconds<TNetwork>(Func<Device, TNetwork> create, int batch, int threads, int steps)
    where TNetwork : IClassifierNetwork
{
    using Device device = Device.Cpu(threads);
    TNetwork model = create(device);
    var random = new Random(0);
    var x = new float[batch * model.InputSize];
    var y = new int[batch];
    for (int i = 0; i < x.Length; i++)
    {
        x[i] = (float)((random.NextDouble() * 2) - 1);
    }

    for (int i = 0; i < y.Length; i++)
    {
        y[i] = random.Next(model.OutputSize);
    }

    var optimizer = new Sgd(0.01f);
    for (int i = 0; i < Math.Max(20, steps / 10); i++)
    {
        model.TrainStep(x, y, optimizer);
    }

    var blocks = new double[5];
    for (int block = 0; block < blocks.Length; block++)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps / blocks.Length; i++)
        {
            model.TrainStep(x, y, optimizer);
        }

        blocks[block] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / (steps / blocks.Length);
    }

    Array.Sort(blocks);
    return blocks[blocks.Length / 2];
}
