using System.Globalization;

namespace Mnist1dTraining;

/// <summary>Command-line options of the main job; every value is checked with a message that names it.</summary>
internal sealed record Options
{
    public const string Usage = """
        usage: Mnist1d [--steps N] [--batch N] [--lr X] [--seed N] [--device auto|cpu|cpu:N|cuda[:N]|opencl[:N]|gpu-sim] [--threads N] [--eval-every N] [--plot FILE | --no-plot] [--no-progress] [--sampling replacement|epoch|sequential] [--save FILE]
               Mnist1d evaluate --load FILE [--device ...] [--threads N]
               Mnist1d dataset --out FILE
        """;

    public int Steps { get; private init; } = 8000;

    public int Batch { get; private init; } = 100;

    public float LearningRate { get; private init; } = 1e-2f;

    public ulong Seed { get; private init; }

    /// <summary>
    /// CPU threads. One by default: the 15k-parameter MLP is as fast on one as on two here, and a
    /// one-thread run computes the same bits, so prints the same accuracy, on every AVX2+FMA machine.
    /// </summary>
    public int Threads { get; private init; } = 1;

    /// <summary>
    /// Where to train: "auto" (the default) takes DSL_DEVICE when set, else the first CUDA or OpenCL GPU when
    /// one is present, else the CPU backend with <see cref="Threads"/> threads; any other value is a device
    /// name for Dsl.Device.Parse.
    /// </summary>
    public string Device { get; private init; } = "auto";

    public int EvalEvery { get; private init; } = 250;

    public string? Plot { get; private init; } = "mnist1d_training.png";

    public bool Progress { get; private init; } = true;

    /// <summary>How batches are drawn: "replacement" (uniform indices, as the reference PyTorch script) or "epoch" (a fresh shuffle per pass).</summary>
    public Dsl.Data.BatchSampling Sampling { get; private init; } = Dsl.Data.BatchSampling.WithReplacement;

    public string? Out { get; private init; }

    /// <summary>Where to write the trained parameters (Dsl.IO.ParameterFile), or null.</summary>
    public string? Save { get; private init; }

    /// <summary>The parameter file the evaluate command loads.</summary>
    public string? Load { get; private init; }

    /// <summary>The options each command accepts; any other is refused rather than silently ignored.</summary>
    private static readonly Dictionary<string, string[]> Accepted = new()
    {
        ["train"] = ["--steps", "--batch", "--lr", "--seed", "--threads", "--device", "--eval-every", "--plot", "--no-plot", "--no-progress", "--sampling", "--save"],
        ["evaluate"] = ["--load", "--device", "--threads"],
        ["dataset"] = ["--out"],
    };

    /// <summary>Parses the options of <paramref name="command"/> ("train", "evaluate" or "dataset") from args[start..].</summary>
    public static Options Parse(string[] args, int start = 0, string command = "train")
    {
        var options = new Options();
        for (int i = start; i < args.Length; i++)
        {
            string name = args[i];
            if (name.StartsWith("--", StringComparison.Ordinal) && !Accepted[command].Contains(name) && Accepted.Values.Any(names => names.Contains(name)))
            {
                throw new ArgumentException($"{name} does not apply to {(command == "train" ? "training" : $"the {command} command")}");
            }

            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            options = name switch
            {
                "--steps" => options with { Steps = PositiveInt(name, Value()) },
                "--batch" => options with { Batch = PositiveInt(name, Value()) },
                "--lr" => options with { LearningRate = PositiveFloat(name, Value()) },
                "--seed" => options with { Seed = ulong.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed) ? seed : throw new ArgumentException($"{name} must be a non-negative integer") },
                "--threads" => options with { Threads = PositiveInt(name, Value()) },
                "--device" => options with { Device = Value() },
                "--eval-every" => options with { EvalEvery = PositiveInt(name, Value()) },
                "--plot" => options with { Plot = Value() },
                "--no-plot" => options with { Plot = null },
                "--no-progress" => options with { Progress = false },
                "--sampling" => options with
                {
                    Sampling = Value() switch
                    {
                        "replacement" => Dsl.Data.BatchSampling.WithReplacement,
                        "epoch" => Dsl.Data.BatchSampling.EpochShuffle,
                        "sequential" => Dsl.Data.BatchSampling.Sequential,
                        string other => throw new ArgumentException($"--sampling must be 'replacement', 'epoch' or 'sequential', got '{other}'"),
                    },
                },
                "--out" => options with { Out = Value() },
                "--save" => options with { Save = Value() },
                "--load" => options with { Load = Value() },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }

        return options;
    }

    private static int PositiveInt(string name, string text)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"{name} must be a positive integer, got '{text}'");

    private static float PositiveFloat(string name, string text)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value > 0 && float.IsFinite(value)
            ? value
            : throw new ArgumentException($"{name} must be a positive number, got '{text}'");
}
