using System.Globalization;
using Dsl;
using Spectre.Console;

namespace Mnist1dTraining;

/// <summary>
/// <c>signal --model NAME</c>: what the analyzers predict for a freshly initialised network beside what the runtime
/// measures. For each value in run order, the second moment E[v^2] of the forward signal and the squared norm of the
/// gradient relative to the output's, for standardised Gaussian inputs and a unit Gaussian gradient at the output, in
/// training mode; measured over <c>--seeds</c> initialisations (geometric means), predicted from the declaration. Prints
/// a table and writes the two curves as a PNG (a signal propagation plot, log scale).
/// </summary>
internal static class SignalCommand
{
    public static int Run(Options options)
    {
        using var device = Device.Cpu(options.Threads);
        using IClassifierNetwork model = Models.Create(options.Model, device, options.Seed);
        int batch = Math.Max(options.Batch, 4);
        SignalReport predicted = model.PredictSignal(batch);
        int values = predicted.Values.Count;
        var forward = new double[values];
        var backward = new double[values];
        var random = new Random(unchecked((int)options.Seed) ^ 0x5157);
        for (int s = 0; s < options.Seeds; s++)
        {
            model.ResetParameters(options.Seed + (ulong)s);
            SignalReport measured = model.MeasureSignal(Normal(random, batch * model.InputSize), Normal(random, batch * model.OutputSize));
            double output = measured.Values[^1].GradientNorm;
            for (int v = 0; v < values; v++)
            {
                forward[v] += Math.Log(measured.Values[v].Forward) / options.Seeds;
                backward[v] += Math.Log(measured.Values[v].GradientNorm / output) / options.Seeds;
            }
        }

        var table = new Table().AddColumns("value", "width", "E[[v^2]] predicted", "E[[v^2]] measured", "|g|^2 / |g_out|^2 predicted", "|g|^2 / |g_out|^2 measured");
        table.Columns[0].NoWrap = true;
        double predictedOutput = predicted.Values[^1].GradientNorm;
        for (int v = 0; v < values; v++)
        {
            SignalMoment p = predicted.Values[v];
            table.AddRow(
                p.Path.Length == 0 ? "input" : Markup.Escape(p.Path), p.Width.ToString(CultureInfo.InvariantCulture),
                Number(p.Forward), Number(Math.Exp(forward[v])), Number(p.GradientNorm / predictedOutput), Number(Math.Exp(backward[v])));
        }

        AnsiConsole.Write(table);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{options.Model}: forward gain predicted {Number(predicted.ForwardGain)}, measured {Number(Math.Exp(forward[^1] - forward[0]))}; backward gain predicted {Number(predicted.BackwardGain)}, measured {Number(Math.Exp(backward[0]))} (batch {batch}, {options.Seeds} seed{(options.Seeds == 1 ? "" : "s")} from {options.Seed})"));
        string? plot = options.Plot == Options.TrainingPlot ? $"signal_{options.Model}.png" : options.Plot;
        if (plot is not null)
        {
            SavePng(plot, options.Model, predicted, forward, backward);
            Console.WriteLine($"wrote {plot}");
        }

        return 0;
    }

    /// <summary>log10 of each curve against the value's index: predictions as lines, measurements as markers.</summary>
    private static void SavePng(string path, string model, SignalReport predicted, double[] logForward, double[] logBackward)
    {
        var plot = new ScottPlot.Plot();
        double[] index = Enumerable.Range(0, predicted.Values.Count).Select(i => (double)i).ToArray();
        double output = predicted.Values[^1].GradientNorm;
        ScottPlot.Plottables.Scatter forward = plot.Add.Scatter(index, predicted.Values.Select(v => Math.Log10(v.Forward)).ToArray());
        forward.LegendText = "E[v^2], predicted";
        forward.MarkerSize = 0;
        ScottPlot.Plottables.Scatter forwardMeasured = plot.Add.Scatter(index, logForward.Select(l => l / Math.Log(10)).ToArray());
        forwardMeasured.LegendText = "E[v^2], measured";
        forwardMeasured.LineWidth = 0;
        forwardMeasured.MarkerSize = 7;
        ScottPlot.Plottables.Scatter backward = plot.Add.Scatter(index, predicted.Values.Select(v => Math.Log10(v.GradientNorm / output)).ToArray());
        backward.LegendText = "|g|^2 / |g_out|^2, predicted";
        backward.MarkerSize = 0;
        ScottPlot.Plottables.Scatter backwardMeasured = plot.Add.Scatter(index, logBackward.Select(l => l / Math.Log(10)).ToArray());
        backwardMeasured.LegendText = "|g|^2 / |g_out|^2, measured";
        backwardMeasured.LineWidth = 0;
        backwardMeasured.MarkerSize = 7;
        plot.Title($"Signal propagation at initialisation: {model}");
        plot.XLabel("value (0: the input; in the order the layers run)");
        plot.YLabel("log10");
        plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
        plot.SavePng(path, 900, 600);
    }

    private static float[] Normal(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u = 1.0 - random.NextDouble(), v = random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }

        return values;
    }

    private static string Number(double value) => value.ToString("G3", CultureInfo.InvariantCulture);
}
