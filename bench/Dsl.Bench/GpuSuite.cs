using System.Diagnostics;
using System.Globalization;
using Dsl.Training;

namespace Dsl.Bench;

/// <summary>
/// The GPU suite: W1, W3, W4 and W1R training steps (SGD lr 0.01), W2's (Adam lr 1e-2) and W5's (Adam lr 1e-3), softmax
/// cross-entropy, on one GPU, each on a fresh device and a fresh network. For each workload it measures the cold start
/// (device and network creation, then the first step with its kernel compilation) and the steady state (median of five
/// synchronised blocks of steps after a warm-up) on a device-resident data set, so no step copies anything between
/// host and device. W2, W1R and W5 are graph networks (W2's convolutions, W1R's residual add, W5's LayerNorms). W1 runs
/// with DSL_GPU_FUSED unset, "0" and "1" (and, fused, at 1 to 16 rows per tile with DSL_GPU_FUSED_TILE_ROWS), the others
/// with DSL_GPU_GEMM_TILE unset, "standard" (64 x 64) and "wide" (128 x 128), and the SWEEP times both sequences on three
/// fused-eligible networks at batches 100, 1000 and 10000 (the data for the default per size). The PyTorch peer is
/// bench/gpu/torch_gpu_peer.py, which bench/gpu/run.sh runs after this suite and joins to its lines.
/// </summary>
internal static class GpuSuite
{
    /// <summary>The environment variable the generated GPU code reads when a network is created.</summary>
    private const string FusedVariable = "DSL_GPU_FUSED";

    /// <summary>Batches in each workload's device-resident data set; consecutive steps walk through them.</summary>
    private const int BatchesPerDataSet = 4;

    private const int TimedBlocks = 5;

    /// <summary>The least wall time every configuration warms up for before its timed blocks.</summary>
    private const double WarmupSeconds = 0.5;

    private static readonly Workload[] Workloads =
    [
        new("W1", "40-100-100-10 ReLU", Batch: 100, Steps: 2000, RunsUnderQuick: true, d => new W1Mlp(d, 1)),
        new("W2", "Conv1d 1->25 k5 s2 p1, 2x Conv1d 25->25 k3 s2 p1, ReLU, flatten 125, Dense 10", Batch: 100, Steps: 2000, RunsUnderQuick: true, d => new W2Cnn(d, 1), () => new Adam(1e-2f)),
        new("W3", "784-1024-1024-10 ReLU", Batch: 256, Steps: 500, RunsUnderQuick: false, d => new W3Mlp(d, 1)),
        new("W4", "1024-4096-4096-1024 ReLU", Batch: 4096, Steps: 25, RunsUnderQuick: false, d => new W4Mlp(d, 1)),
        new("W1R", "40-100 ReLU, residual 100 ReLU, 10", Batch: 100, Steps: 2000, RunsUnderQuick: false, d => new W1ResidualMlp(d, 1)),
        new("W5", "pre-norm residual MLP, 8 blocks of 256", Batch: 256, Steps: 200, RunsUnderQuick: false, d => new W5DeepResidual(d, 1), () => new Adam(1e-3f)),
    ];

    /// <summary>
    /// The sweep behind the fused-or-layered default (workload id SWEEP): networks the fused kernel takes, from small
    /// to near its shared-memory limit, each at three batch sizes, with both sequences. Steps keep each timing near
    /// 0.1-1 s on a GPU.
    /// </summary>
    private static readonly (string Shape, Func<Device, INetwork> Create)[] SweepNetworks =
    [
        ("40-64-64-10 ReLU", d => new Sweep64Mlp(d, 1)),
        ("40-100-100-10 ReLU", d => new W1Mlp(d, 1)),
        ("40-200-200-10 ReLU", d => new Sweep200Mlp(d, 1)),
    ];

    private static readonly (int Batch, int Steps)[] SweepBatches = [(100, 2000), (1000, 1000), (10000, 200)];

    /// <summary>Runs the suite and prints its lines; returns the process exit code.</summary>
    /// <param name="deviceName">A <see cref="Device.Parse"/> name, or null for <see cref="Device.Best()"/>.</param>
    /// <param name="stepsScale">Multiplies every step count (at least one step per timed block is kept).</param>
    /// <param name="quick">Smoke-test mode: W1 and W2 only, a handful of steps (for ILGPU's CPU simulator).</param>
    /// <param name="only">Workload ids to run (e.g. "W1", "W4"), or null for all of them.</param>
    public static int Run(string? deviceName, double stepsScale, bool quick, IReadOnlySet<string>? only)
    {
        if (quick)
        {
            stepsScale = Math.Min(stepsScale, 0.0025); // W1 and W2: one step per timed block
        }

        Func<Device> open = deviceName is null ? Device.Best : () => Device.Parse(deviceName);
        string? fusedBefore = Environment.GetEnvironmentVariable(FusedVariable);
        try
        {
            // Open the device once up front: to name it, and to fail early with a clear message.
            using (Device probe = open())
            {
                Console.WriteLine($"# device: {probe.Name} (kind {probe.Kind}), .NET {Environment.Version}, {Environment.ProcessorCount} host cores");
                if (!probe.IsGpu && deviceName is null)
                {
                    Console.Error.WriteLine("no GPU found (Device.Best() chose the CPU); name one with --device cuda|opencl|gpu-sim, or --device cpu to time the CPU backend on this path");
                    return 2;
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# method: fresh device + network per configuration; first step = first TrainStep(DeviceDataSet) + Synchronize, kernel compilation included; steady state = median of {TimedBlocks} synchronised blocks after a warm-up; SGD lr 0.01 (W2: Adam lr 1e-2, W5: Adam lr 1e-3), softmax cross-entropy, fp32; steps scale {stepsScale}"));

            foreach (Workload workload in Workloads)
            {
                if (only is not null && !only.Contains(workload.Id))
                {
                    continue;
                }

                if (quick && !workload.RunsUnderQuick)
                {
                    Console.WriteLine($"# {workload.Id} skipped (--quick: too slow for ILGPU's CPU simulator)");
                    continue;
                }

                RunWorkload(workload, open, stepsScale);
                if (workload.Id == "W1" && !quick)
                {
                    RunTileRowsSweep(workload, open, stepsScale, fusedBefore);
                }
            }

            if (only is null || only.Contains("SWEEP"))
            {
                RunSweep(open, stepsScale, quick, fusedBefore);
            }
        }
        catch (DeviceUnavailableException exception)
        {
            Console.Error.WriteLine($"device unavailable: {exception.Message}");
            return 1;
        }
        finally
        {
            Environment.SetEnvironmentVariable(FusedVariable, fusedBefore);
        }

        return 0;
    }

    // W1 runs once per DSL_GPU_FUSED setting (fused or layer-by-layer kernels), the others once per
    // DSL_GPU_GEMM_TILE setting (64 x 64 or 128 x 128 GEMM); the result line reports the unset (default) one.
    private static void RunWorkload(Workload workload, Func<Device> open, double stepsScale)
    {
        (string variable, string?[] values) = workload.Id == "W1"
            ? (FusedVariable, new string?[] { null, "0", "1" })
            : (Dsl.Gpu.GemmTileSelection.EnvironmentVariable, new string?[] { null, "standard", "wide" });
        string? variableBefore = Environment.GetEnvironmentVariable(variable);
        var measurements = new List<(string Setting, Measurement Result)>();
        foreach (string? value in values)
        {
            Environment.SetEnvironmentVariable(variable, value);
            string setting = $"{variable}={value ?? "unset"}";
            Measurement result = Measure(workload, open, stepsScale);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# {workload.Id} {workload.Shape} batch {workload.Batch} {setting}: {result.StepMicroseconds:F1} us/step (blocks of {result.StepsPerBlock} after {result.WarmupSteps} warm-up; blocks {string.Join(' ', result.Blocks.Select(b => b.ToString("F1", CultureInfo.InvariantCulture)))} us), "
                + $"device {result.DeviceMilliseconds:F1} ms + network {result.NetworkMilliseconds:F1} ms + data {result.DataMilliseconds:F1} ms + first step {result.FirstStepMilliseconds:F1} ms = {result.ColdStartMilliseconds:F1} ms to a trained step; "
                + $"loss {result.FirstLoss:F4} after the first step, {result.LastLoss:F4} after the last"));
            if (!float.IsFinite(result.LastLoss))
            {
                Console.WriteLine($"# WARNING {workload.Id} {setting}: the loss is not finite");
            }

            measurements.Add((setting, result));
        }

        Environment.SetEnvironmentVariable(variable, variableBefore);
        Measurement reported = measurements[0].Result;
        if (measurements.Count > 1)
        {
            (string fastest, Measurement best) = measurements.MinBy(m => m.Result.StepMicroseconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# {workload.Id} fastest: {fastest} at {best.StepMicroseconds:F1} us/step; the default ({measurements[0].Setting}) {(ReferenceEquals(best, reported) ? "is the fastest" : $"is {reported.StepMicroseconds / best.StepMicroseconds:F2}x slower")}; the result line reports the default"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{workload.Id} gpu step_us ours={reported.StepMicroseconds:F1} first_step_ms={reported.KernelsAndFirstStepMilliseconds:F1}"));
    }

    // The fused kernel at 1, 2, 4, 8 and 16 rows per tile (DSL_GPU_FUSED_TILE_ROWS), against its default choice for the
    // batch on this GPU (FusedMlp.RowsPerTile): which tile size a small batch wants is only known on a GPU.
    private static void RunTileRowsSweep(Workload workload, Func<Device> open, double stepsScale, string? fusedBefore)
    {
        string variable = Dsl.Gpu.FusedMlpSelection.TileRowsVariable;
        string? rowsBefore = Environment.GetEnvironmentVariable(variable);
        var timings = new List<(string Rows, double Microseconds)>();
        try
        {
            Environment.SetEnvironmentVariable(FusedVariable, "1");
            foreach (string? rows in new string?[] { null, "1", "2", "4", "8", "16" })
            {
                Environment.SetEnvironmentVariable(variable, rows);
                Measurement result = Measure(workload, open, stepsScale);
                string label = rows ?? "default";
                timings.Add((label, result.StepMicroseconds));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"# {workload.Id} fused, {variable}={rows ?? "unset"}: {result.StepMicroseconds:F1} us/step, first step (network + step) {result.KernelsAndFirstStepMilliseconds:F1} ms, loss after the last step {result.LastLoss:F4}"));
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, rowsBefore);
            Environment.SetEnvironmentVariable(FusedVariable, fusedBefore);
        }

        (string fastest, double best) = timings.MinBy(t => t.Microseconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# {workload.Id} fused rows per tile: fastest {fastest} at {best:F1} us/step; the default choice {timings[0].Microseconds:F1} us/step"));
    }

    // Fused against layer by layer for each sweep network and batch; one line per pair and a summary. Under --quick
    // (the simulator) only the smallest network at batch 16, to check the plumbing.
    private static void RunSweep(Func<Device> open, double stepsScale, bool quick, string? fusedBefore)
    {
        var networks = quick ? SweepNetworks[..1] : SweepNetworks;
        (int Batch, int Steps)[] batches = quick ? [(16, 2000)] : SweepBatches;
        var fusedFaster = new List<string>();
        var layeredFaster = new List<string>();
        foreach ((string shape, Func<Device, INetwork> create) in networks)
        {
            foreach ((int batch, int steps) in batches)
            {
                var workload = new Workload("SWEEP", shape, batch, steps, RunsUnderQuick: true, create);
                Environment.SetEnvironmentVariable(FusedVariable, "1");
                Measurement fused = Measure(workload, open, stepsScale);
                Environment.SetEnvironmentVariable(FusedVariable, "0");
                Measurement layered = Measure(workload, open, stepsScale);
                Environment.SetEnvironmentVariable(FusedVariable, fusedBefore);
                bool fusedWins = fused.StepMicroseconds <= layered.StepMicroseconds;
                string label = string.Create(CultureInfo.InvariantCulture, $"{shape.Split(' ')[0]}@{batch}");
                (fusedWins ? fusedFaster : layeredFaster).Add(label);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"# sweep {shape} batch {batch}: fused {fused.StepMicroseconds:F1} us/step, layered {layered.StepMicroseconds:F1} us/step -> {(fusedWins ? "fused" : "layered")} {Math.Max(fused.StepMicroseconds, layered.StepMicroseconds) / Math.Min(fused.StepMicroseconds, layered.StepMicroseconds):F2}x faster; "
                    + $"first step (network + step) fused {fused.KernelsAndFirstStepMilliseconds:F1} ms, layered {layered.KernelsAndFirstStepMilliseconds:F1} ms; loss after the last step fused {fused.LastLoss:F4}, layered {layered.LastLoss:F4}"));
            }
        }

        Console.WriteLine($"SWEEP gpu fused_faster={(fusedFaster.Count == 0 ? "none" : string.Join(',', fusedFaster))} layered_faster={(layeredFaster.Count == 0 ? "none" : string.Join(',', layeredFaster))}");
    }

    private static Measurement Measure(Workload workload, Func<Device> open, double stepsScale)
    {
        long start = Stopwatch.GetTimestamp();
        using Device device = open();
        double deviceMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

        start = Stopwatch.GetTimestamp();
        using INetwork network = workload.Create(device);
        double networkMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

        start = Stopwatch.GetTimestamp();
        using DeviceDataSet data = RandomDataSet(device, network, workload.Batch * BatchesPerDataSet);
        double dataMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

        Optimizer optimizer = workload.Optimizer?.Invoke() ?? new Sgd(0.01f);
        int step = 0;
        void TrainOneStep() => network.TrainStep(data, (step++ % BatchesPerDataSet) * workload.Batch, workload.Batch, optimizer);

        start = Stopwatch.GetTimestamp();
        TrainOneStep();
        Synchronize(device);
        double firstStepMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        float firstLoss = network.LastLoss;

        int steps = Math.Max(TimedBlocks, (int)Math.Round(workload.Steps * stepsScale));
        int stepsPerBlock = steps / TimedBlocks;
        // Warm up for a tenth of the steps and at least WarmupSeconds, so that .NET has tiered the host-side
        // launch code up to optimised code before the clock runs (it waits ~100 ms after the last tier-0 JIT).
        int warmup = 0;
        long warmupStart = Stopwatch.GetTimestamp();
        while (warmup < Math.Max(2, steps / 10) || Stopwatch.GetElapsedTime(warmupStart).TotalSeconds < WarmupSeconds)
        {
            TrainOneStep();
            warmup++;
            if (warmup % 64 == 0)
            {
                Synchronize(device); // keep the GPU's launch queue short while the clock decides
            }
        }

        Synchronize(device);
        var blocks = new double[TimedBlocks];
        for (int block = 0; block < blocks.Length; block++)
        {
            start = Stopwatch.GetTimestamp();
            for (int i = 0; i < stepsPerBlock; i++)
            {
                TrainOneStep();
            }

            Synchronize(device);
            blocks[block] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / stepsPerBlock;
        }

        float lastLoss = network.LastLoss;
        double[] sorted = [.. blocks];
        Array.Sort(sorted);
        return new Measurement(sorted[sorted.Length / 2], blocks, stepsPerBlock, warmup, deviceMs, networkMs, dataMs, firstStepMs, firstLoss, lastLoss);
    }

    // Waits for every launched kernel; CPU-backend steps are synchronous.
    private static void Synchronize(Device device) => device.Gpu?.Accelerator.Synchronize();

    // Uniform inputs in [-1, 1) and uniform labels, seeded, as in the CPU suite and the PyTorch peers.
    private static DeviceDataSet RandomDataSet(Device device, INetwork network, int rows)
    {
        var random = new Random(0);
        var inputs = new float[checked(rows * network.InputSize)];
        var labels = new int[rows];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (float)((random.NextDouble() * 2) - 1);
        }

        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = random.Next(network.OutputSize);
        }

        return DeviceDataSet.ForClassification(device, inputs, labels, network.InputSize, network.OutputSize);
    }

    /// <summary>A benchmark workload: its id, layer widths for the log, batch, full step count and how to build its network.</summary>
    /// <param name="Optimizer">The optimizer as in the CPU suite (W2: Adam lr 1e-2, W5: Adam lr 1e-3), or null for SGD lr 0.01.</param>
    private sealed record Workload(string Id, string Shape, int Batch, int Steps, bool RunsUnderQuick, Func<Device, INetwork> Create, Func<Optimizer>? Optimizer = null);

    /// <summary>One configuration's timings: steady-state microseconds per step and the cold start in milliseconds.</summary>
    private sealed record Measurement(
        double StepMicroseconds,
        double[] Blocks,
        int StepsPerBlock,
        int WarmupSteps,
        double DeviceMilliseconds,
        double NetworkMilliseconds,
        double DataMilliseconds,
        double FirstStepMilliseconds,
        float FirstLoss,
        float LastLoss)
    {
        /// <summary>
        /// Network creation (where most kernels compile: generated networks load their launchers in the
        /// constructor) plus the first training step (where the GEMM kernels compile, on first use): the
        /// result line's first_step_ms.
        /// </summary>
        public double KernelsAndFirstStepMilliseconds => NetworkMilliseconds + FirstStepMilliseconds;

        /// <summary>From asking for the device to the end of the first training step.</summary>
        public double ColdStartMilliseconds => DeviceMilliseconds + NetworkMilliseconds + DataMilliseconds + FirstStepMilliseconds;
    }
}
