using System.Globalization;
using Dsl;
using Dsl.Data;
using Dsl.Training;

namespace Mnist1dTraining;

/// <summary>
/// K-fold cross-validation of the training recipe on the 4000 training rows alone: each fold holds out one
/// K-th of them (fold f: positions [f n / K, (f + 1) n / K) of a fixed permutation, so every row is held out
/// once), trains on the rest with the options' recipe and measures accuracy on the held-out rows, for
/// the last step's weights and for the weight average. The test rows are never read, so a recipe chosen with
/// this command (the main job's weight decay and average were) is not chosen on the test set.
/// </summary>
internal static class CrossValidation
{
    /// <summary>Seeds the fixed permutation that assigns the training rows to folds.</summary>
    private const ulong FoldSeed = 1234;

    /// <summary>One run's accuracy on its held-out rows; AverageAccuracy is NaN when the run does not average.</summary>
    private readonly record struct FoldRun(double LastStepAccuracy, double AverageAccuracy);

    public static int Run(Options options)
    {
        Mnist1dDataset data = Mnist1d.Generate();
        int rows = data.TrainCount;
        if (options.Folds < 2 || options.Folds > rows)
        {
            throw new UsageException($"--folds must be between 2 and the {rows} training rows, got {options.Folds}");
        }

        int[] order = FoldOrder(rows);
        int FoldStart(int fold) => (int)((long)fold * rows / options.Folds);
        int smallest = FoldStart(1), largest = rows - FoldStart(options.Folds - 1);
        string foldSizes = smallest == largest ? $"{smallest}" : $"{smallest}-{largest}";
        string seeds = options.Seeds == 1 ? "seed 0" : $"seeds 0-{options.Seeds - 1}";
        string average = options.AverageSteps > 0 ? $"weight average over the last {options.AverageSteps} steps" : "no weight average";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cross-validation on the {rows} training rows: {options.Folds} folds of {foldSizes} held-out rows, {seeds}; Adam lr {options.LearningRate}, weight decay {options.WeightDecay}, batch {options.Batch}, {options.Steps} steps, {average}"));

        // Runs are independent, each on one CPU thread: the same numbers however many run at once.
        var jobs = new List<(int Fold, ulong Seed)>();
        for (int fold = 0; fold < options.Folds; fold++)
        {
            for (ulong seed = 0; seed < (ulong)options.Seeds; seed++)
            {
                jobs.Add((fold, seed));
            }
        }

        var runs = new FoldRun[jobs.Count];
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = options.ParallelRuns }, j =>
        {
            (int fold, ulong seed) = jobs[j];
            int start = FoldStart(fold), end = FoldStart(fold + 1);
            int[] trainingRows = [.. order[..start], .. order[end..]];
            runs[j] = TrainAndValidate(options, data, trainingRows, order[start..end], seed);
            string averaged = options.AverageSteps > 0 ? string.Create(CultureInfo.InvariantCulture, $", weight average {runs[j].AverageAccuracy:F4}") : "";
            lock (runs)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"fold {fold} seed {seed}: held-out accuracy, last step {runs[j].LastStepAccuracy:F4}{averaged}"));
            }
        });

        Console.WriteLine(Summary("last step's weights", runs.Select(r => r.LastStepAccuracy).ToArray()));
        if (options.AverageSteps > 0)
        {
            Console.WriteLine(Summary("weight average", runs.Select(r => r.AverageAccuracy).ToArray()));
        }

        return 0;
    }

    private static FoldRun TrainAndValidate(Options options, Mnist1dDataset data, int[] trainingRows, int[] validationRows, ulong seed)
    {
        (float[] trainX, int[] trainY) = Rows(data, trainingRows);
        (float[] validationX, int[] validationY) = Rows(data, validationRows);
        using Device device = Device.Cpu(1);
        using IClassifierNetwork model = Models.Create(options.Model, device, seed);
        var optimizer = new Adam(options.LearningRate, weightDecay: options.WeightDecay);
        var batcher = new Batcher(trainX, trainY, data.Length, options.Batch, seed, options.Sampling);
        AveragingWindow window = options.Averaging;
        ParameterAverage? average = window.SnapshotCount > 0 ? new ParameterAverage(model) : null;
        var x = new float[options.Batch * data.Length];
        var y = new int[options.Batch];
        for (int step = 1; step <= options.Steps; step++)
        {
            batcher.Next(x, y);
            model.TrainStep(x, y, optimizer);
            if (average is not null && window.Contains(step))
            {
                average.Add(model);
            }
        }

        double lastStep = model.Evaluate(validationX, validationY).Accuracy;
        double averaged = double.NaN;
        if (average is not null)
        {
            average.CopyMeanTo(model);
            averaged = model.Evaluate(validationX, validationY).Accuracy;
        }

        return new FoldRun(lastStep, averaged);
    }

    /// <summary>A permutation of [0, count) from SplitMix64 (Fisher-Yates): the same folds on every machine.</summary>
    private static int[] FoldOrder(int count)
    {
        int[] order = Enumerable.Range(0, count).ToArray();
        var random = new SplitMix64(FoldSeed);
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }

    /// <summary>The given training rows as (rows, Length) features and (rows) labels.</summary>
    private static (float[] X, int[] Y) Rows(Mnist1dDataset data, int[] rows)
    {
        var x = new float[rows.Length * data.Length];
        var y = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            Array.Copy(data.TrainX, rows[i] * data.Length, x, i * data.Length, data.Length);
            y[i] = data.TrainY[rows[i]];
        }

        return (x, y);
    }

    private static string Summary(string what, double[] accuracies)
    {
        double mean = accuracies.Average();
        double sd = accuracies.Length > 1 ? Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / (accuracies.Length - 1)) : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"{what}: mean held-out accuracy {mean:F4}, standard deviation {sd:F4}, {accuracies.Length} runs, min {accuracies.Min():F4}, max {accuracies.Max():F4}");
    }
}
