using System.Diagnostics;
using System.Globalization;
using Dsl;
using Dsl.Data;
using Dsl.Training;
using Mnist1dTraining;
using Spectre.Console;

// The main job: train the MNIST-1D MLP on the generated data set and report test accuracy.
//   dotnet run --project examples/Mnist1d -c Release [-- --steps 8000 --batch 100 --lr 0.01 --seed 0 --threads 1 --plot FILE]
//   dotnet run --project examples/Mnist1d -c Release -- crossval [--weight-decay X --average-last N ...]
//   dotnet run --project examples/Mnist1d -c Release -- evaluate --load mnist1d.params
//   dotnet run --project examples/Mnist1d -c Release -- dataset --out mnist1d.csv
//   dotnet run --project examples/Mnist1d -c Release -- signal --model deep-residual [--seeds 4 --batch 100 --plot FILE]
try
{
    if (args.Length > 0 && args[0] == "dataset")
    {
        return WriteDataset(Options.Parse(args, start: 1, command: "dataset"));
    }

    if (args.Length > 0 && args[0] == "crossval")
    {
        return CrossValidation.Run(Options.Parse(args, start: 1, command: "crossval"));
    }

    if (args.Length > 0 && args[0] == "signal")
    {
        return SignalCommand.Run(Options.Parse(args, start: 1, command: "signal"));
    }

    if (args.Length > 0 && args[0] == "evaluate")
    {
        return EvaluateSaved(Options.Parse(args, start: 1, command: "evaluate"));
    }

    return Train(Options.Parse(args));
}
catch (UsageException error)
{
    Console.Error.WriteLine("error: " + error.Message);
    Console.Error.WriteLine(Options.Usage);
    return 2;
}
catch (ArgumentException error)
{
    // From the library during a run, e.g. a diverged run's NaN weights offered to the average.
    Console.Error.WriteLine("error: " + error.Message);
    return 1;
}
catch (AggregateException errors) when (errors.InnerExceptions.All(e => e is ArgumentException or InvalidOperationException))
{
    // crossval's parallel runs.
    foreach (Exception error in errors.InnerExceptions)
    {
        Console.Error.WriteLine("error: " + error.Message);
    }

    return 1;
}
catch (DeviceUnavailableException error)
{
    Console.Error.WriteLine("error: " + error.Message);
    return 2;
}
catch (Exception error) when (error is IOException or UnauthorizedAccessException)
{
    // A parameter file that is missing, truncated, damaged or another network's; a --save path not writable.
    Console.Error.WriteLine("error: " + error.Message);
    return 2;
}

// Loads trained parameters (from --save) into a fresh network and reports its test accuracy: what an app
// shipping the model does.
static int EvaluateSaved(Options options)
{
    string path = options.Load ?? throw new UsageException("evaluate needs --load FILE");
    Mnist1dDataset data = Mnist1d.Generate();
    using Device device = ChooseDevice(options);
    using IClassifierNetwork model = Models.Create(options.Model, device, seed: 0);
    Dsl.IO.ParameterFile.Load(model, path);
    Evaluation test = model.Evaluate(data.TestX, data.TestY);
    Console.WriteLine($"loaded {path} into {model.ParameterCount} parameters on {device}");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test loss: {test.Loss:F4}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {test.Accuracy:F4}"));
    return 0;
}

static int WriteDataset(Options options)
{
    string path = options.Out ?? throw new UsageException("dataset needs --out FILE");
    Mnist1dDataset data = Mnist1d.Generate();
    using (var writer = new StreamWriter(path))
    {
        Mnist1d.WriteCsv(data, writer);
    }

    Console.WriteLine($"wrote {data.Count} samples ({data.TrainCount} train, then {data.TestCount} test) to {path}");
    return 0;
}

// "auto": DSL_DEVICE when set, else a GPU when one is present, else the CPU backend with --threads threads.
static Device ChooseDevice(Options options)
{
    if (options.Device != "auto")
    {
        return Device.Parse(options.Device);
    }

    if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Device.EnvironmentVariable)))
    {
        return Device.Best();
    }

    (int cuda, int openCL) = Dsl.Gpu.GpuAccelerator.CountGpus();
    return cuda + openCL > 0 ? Device.Best() : Device.Cpu(options.Threads);
}

static int Train(Options options)
{
    if (options.Save is not null)
    {
        CheckWritable(options.Save);
    }

    var total = Stopwatch.StartNew();
    Mnist1dDataset data = Mnist1d.Generate();
    using Device device = ChooseDevice(options);
    using IClassifierNetwork model = Models.Create(options.Model, device, options.Seed);
    var optimizer = new Adam(options.LearningRate, weightDecay: options.WeightDecay);
    AveragingWindow window = options.Averaging;
    ParameterAverage? average = window.SnapshotCount > 0 ? new ParameterAverage(model) : null;
    var batcher = new Batcher(data.TrainX, data.TrainY, data.Length, options.Batch, options.Seed, options.Sampling);
    var x = new float[options.Batch * data.Length];
    var y = new int[options.Batch];

    Console.WriteLine($"MNIST-1D: {data.TrainCount} train / {data.TestCount} test samples of length {data.Length}; model {options.Model}, {model.ParameterCount} parameters on {device}");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Adam lr {options.LearningRate}, weight decay {options.WeightDecay}, batch {options.Batch}, {options.Steps} steps, seed {options.Seed}"));
    Console.WriteLine(average is null
        ? "reported weights: the last step's"
        : $"reported weights: the mean of the weights every {window.Every} steps over the last {window.LastSteps} steps ({window.SnapshotCount} snapshot{(window.SnapshotCount == 1 ? "" : "s")})");

    var curve = new TrainingCurve();
    double runningLoss = 0;
    int runningCount = 0;
    var training = new Stopwatch();

    void RunSteps(Action<int, double>? report)
    {
        for (int step = 1; step <= options.Steps; step++)
        {
            batcher.Next(x, y);
            training.Start();
            float loss = model.TrainStep(x, y, optimizer);
            training.Stop();
            runningLoss += loss;
            runningCount++;
            if (average is not null && window.Contains(step))
            {
                average.Add(model);
            }

            if (step % options.EvalEvery == 0 || step == options.Steps)
            {
                Evaluation train = model.Evaluate(data.TrainX, data.TrainY);
                Evaluation test = model.Evaluate(data.TestX, data.TestY);
                curve.Add(step, runningLoss / runningCount, train, test);
                report?.Invoke(step, runningLoss / runningCount);
                runningLoss = 0;
                runningCount = 0;
            }
        }
    }

    if (options.Progress && AnsiConsole.Profile.Capabilities.Interactive)
    {
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask("training", maxValue: options.Steps);
                RunSteps((step, loss) =>
                {
                    task.Description = $"step {step}, loss {loss:F4}";
                    task.Value = step;
                });
            });
    }
    else
    {
        RunSteps((step, loss) =>
        {
            TrainingCurve.Point last = curve.Points[^1];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step,5}  loss {loss:F4}  train acc {last.TrainAccuracy:F4}  test acc {last.TestAccuracy:F4}"));
        });
    }

    // The weights the run reports, saves and ships: the average when there is one, else the last step's. The curves
    // follow the training weights; the average's test accuracy is one more marker at the last step.
    Evaluation lastStep = model.Evaluate(data.TestX, data.TestY);
    Evaluation final = lastStep;
    if (average is not null)
    {
        average.CopyMeanTo(model);
        final = model.Evaluate(data.TestX, data.TestY);
        curve.Average = (options.Steps, final.Accuracy);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"last step's weights: test loss {lastStep.Loss:F4}, test accuracy {lastStep.Accuracy:F4}; the mean of {average.Count} snapshot{(average.Count == 1 ? "" : "s")} is reported below"));
    }

    if (options.Plot is not null)
    {
        curve.SavePng(options.Plot);
        Console.WriteLine($"training curves: {options.Plot}");
    }

    // Saved before the results are printed, which stay last; a failure to save is reported after them, so it
    // cannot lose them.
    Exception? saveError = null;
    if (options.Save is not null)
    {
        try
        {
            Dsl.IO.ParameterFile.Save(model, options.Save);
            Console.WriteLine($"parameters: {options.Save}");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            saveError = error;
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"training steps: {training.Elapsed.TotalSeconds:F2} s ({training.Elapsed.TotalMicroseconds / options.Steps:F1} us/step); whole run including data generation and evaluation: {total.Elapsed.TotalSeconds:F2} s"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test loss: {final.Loss:F4}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {final.Accuracy:F4}"));
    if (saveError is not null)
    {
        Console.Error.WriteLine($"error: the parameters were not saved to {options.Save}: {saveError.Message}");
        return 2;
    }

    return 0;
}

// Checked before training, so a mistyped or unwritable --save path does not cost the run: the path must not be a
// directory, and a scratch file must be creatable beside it.
static void CheckWritable(string path)
{
    string full = Path.GetFullPath(path);
    if (Directory.Exists(full))
    {
        throw new UsageException($"--save: '{full}' is a directory; give a file name");
    }

    string directory = Path.GetDirectoryName(full)!;
    if (!Directory.Exists(directory))
    {
        throw new UsageException($"--save: the directory '{directory}' does not exist");
    }

    string probe = Path.Combine(directory, $".dsl-write-check-{Guid.NewGuid():N}");
    using (File.Create(probe, 1, FileOptions.DeleteOnClose))
    {
    }
}
