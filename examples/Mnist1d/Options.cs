using System.Globalization;

namespace Mnist1dTraining;

/// <summary>Command-line options of the main job; every value is checked with a message that names it.</summary>
internal sealed record Options
{
    public const string Usage = """
        usage: Mnist1d [--model mlp|residual-mlp|deep-residual|cnn] [--steps N] [--batch N] [--lr X] [--weight-decay X] [--average-last N] [--seed N] [--device auto|cpu|cpu:N|cuda[:N]|opencl[:N]|gpu-sim] [--threads N] [--eval-every N] [--plot FILE | --no-plot] [--no-progress] [--sampling replacement|epoch|sequential] [--save FILE]
               Mnist1d crossval [--model NAME] [--folds K] [--seeds N] [--parallel N] [--steps N] [--batch N] [--lr X] [--weight-decay X] [--average-last N] [--sampling ...]
               Mnist1d evaluate --load FILE [--model NAME] [--device ...] [--threads N]
               Mnist1d dataset --out FILE
               Mnist1d signal [--model NAME] [--seed N] [--seeds N] [--batch N] [--threads N] [--plot FILE | --no-plot]
        """;

    /// <summary>Which network to train: mlp (the default), residual-mlp, deep-residual or cnn (see <see cref="Models"/>).</summary>
    public string Model { get; private init; } = "mlp";

    public int Steps { get; private init; } = 8000;

    public int Batch { get; private init; } = 100;

    public float LearningRate { get; private init; } = 1e-2f;

    /// <summary>
    /// Adam's L2 penalty (torch.optim.Adam's weight_decay). 1e-3 by default: with the weight average below it scored
    /// highest of the settings compared on held-out folds of the training rows, tied with 3e-4 (docs/performance.md);
    /// 0 gives the reference script's plain Adam.
    /// </summary>
    public float WeightDecay { get; private init; } = 1e-3f;

    /// <summary>
    /// The reported (and saved) weights are the mean of snapshots taken every <see cref="AverageEvery"/> steps
    /// over the last this-many steps, counting back from the last step; null means a quarter of
    /// <see cref="Steps"/>, and 0 reports the last step's weights.
    /// </summary>
    public int? AverageLast { get; private init; }

    /// <summary>Steps between two snapshots of the weight average: enough for the snapshots to differ.</summary>
    public const int AverageEvery = 10;

    /// <summary>The steps whose weights are averaged, with the default resolved.</summary>
    public int AverageSteps => AverageLast ?? Steps / 4;

    /// <summary>The steps whose weights join the average (every <see cref="AverageEvery"/>-th, counted back from the last).</summary>
    public Dsl.Training.AveragingWindow Averaging => new(Steps, AverageSteps, AverageEvery);

    /// <summary>Cross-validation: folds of the training rows, and training seeds (0..Seeds-1) per fold.</summary>
    public int Folds { get; private init; } = 5;

    public int Seeds { get; private init; } = 4;

    /// <summary>Cross-validation runs trained at once, each on one thread.</summary>
    public int ParallelRuns { get; private init; } = Environment.ProcessorCount;

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

    public string? Plot { get; private init; } = TrainingPlot;

    /// <summary>Training's default plot file; the signal command writes signal_MODEL.png unless --plot names another.</summary>
    public const string TrainingPlot = "mnist1d_training.png";

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
        ["train"] = ["--model", "--steps", "--batch", "--lr", "--weight-decay", "--average-last", "--seed", "--threads", "--device", "--eval-every", "--plot", "--no-plot", "--no-progress", "--sampling", "--save"],
        ["crossval"] = ["--model", "--folds", "--seeds", "--parallel", "--steps", "--batch", "--lr", "--weight-decay", "--average-last", "--sampling"],
        ["evaluate"] = ["--model", "--load", "--device", "--threads"],
        ["dataset"] = ["--out"],
        ["signal"] = ["--model", "--seed", "--seeds", "--batch", "--threads", "--plot", "--no-plot"],
    };

    /// <summary>Parses the options of <paramref name="command"/> ("train", "crossval", "evaluate", "dataset" or "signal") from args[start..].</summary>
    public static Options Parse(string[] args, int start = 0, string command = "train")
    {
        var options = new Options();
        for (int i = start; i < args.Length; i++)
        {
            string name = args[i];
            if (name.StartsWith("--", StringComparison.Ordinal) && !Accepted[command].Contains(name) && Accepted.Values.Any(names => names.Contains(name)))
            {
                throw new UsageException($"{name} does not apply to {(command == "train" ? "training" : $"the {command} command")}");
            }

            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{name} needs a value");
            options = name switch
            {
                "--model" => options with { Model = Models.Check(Value()) },
                "--steps" => options with { Steps = PositiveInt(name, Value()) },
                "--batch" => options with { Batch = PositiveInt(name, Value()) },
                "--lr" => options with { LearningRate = PositiveFloat(name, Value()) },
                "--weight-decay" => options with { WeightDecay = NonNegativeFloat(name, Value()) },
                "--average-last" => options with { AverageLast = NonNegativeInt(name, Value()) },
                "--seed" => options with { Seed = ulong.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed) ? seed : throw new UsageException($"{name} must be a non-negative integer") },
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
                        string other => throw new UsageException($"--sampling must be 'replacement', 'epoch' or 'sequential', got '{other}'"),
                    },
                },
                "--folds" => options with { Folds = PositiveInt(name, Value()) },
                "--seeds" => options with { Seeds = PositiveInt(name, Value()) },
                "--parallel" => options with { ParallelRuns = PositiveInt(name, Value()) },
                "--out" => options with { Out = Value() },
                "--save" => options with { Save = Value() },
                "--load" => options with { Load = Value() },
                _ => throw new UsageException($"unknown option '{name}'"),
            };
        }

        if (options.AverageSteps > options.Steps)
        {
            throw new UsageException($"--average-last ({options.AverageSteps}) must be at most --steps ({options.Steps})");
        }

        // Only an explicit value is refused: the default (a quarter of --steps) may be short for a short run.
        if (options.AverageLast is > 0 and < AverageEvery)
        {
            throw new UsageException($"--average-last must be 0 (no average) or at least {AverageEvery} (a snapshot every {AverageEvery} steps), got {options.AverageLast}");
        }

        return options;
    }

    private static int NonNegativeInt(string name, string text)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new UsageException($"{name} must be a non-negative integer, got '{text}'");

    private static float NonNegativeFloat(string name, string text)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value >= 0 && float.IsFinite(value)
            ? value
            : throw new UsageException($"{name} must be a non-negative number, got '{text}'");

    private static int PositiveInt(string name, string text)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new UsageException($"{name} must be a positive integer, got '{text}'");

    private static float PositiveFloat(string name, string text)
        => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && value > 0 && float.IsFinite(value)
            ? value
            : throw new UsageException($"{name} must be a positive number, got '{text}'");
}

/// <summary>A command line the main job cannot run: the message names the option; the usage text follows it.</summary>
internal sealed class UsageException(string message) : ArgumentException(message);
