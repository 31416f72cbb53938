using Dsl;

namespace Mnist1dTraining;

/// <summary>Loss and accuracy over training, saved as a PNG with ScottPlot.</summary>
internal sealed class TrainingCurve
{
    public readonly record struct Point(int Step, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy);

    public List<Point> Points { get; } = [];

    /// <summary>The weight average's test accuracy and the step it was taken at, when the run averages.</summary>
    public (int Step, double TestAccuracy)? Average { get; set; }

    /// <param name="runningLoss">Mean training-batch loss since the previous point.</param>
    public void Add(int step, double runningLoss, Evaluation train, Evaluation test)
        => Points.Add(new Point(step, runningLoss, train.Accuracy, test.Loss, test.Accuracy));

    /// <summary>One chart: losses on the left axis, accuracies on the right, against the step.</summary>
    public void SavePng(string path)
    {
        var plot = new ScottPlot.Plot();
        double[] steps = Points.Select(p => (double)p.Step).ToArray();
        plot.Add.Scatter(steps, Points.Select(p => p.TrainLoss).ToArray()).LegendText = "train loss (batch mean)";
        plot.Add.Scatter(steps, Points.Select(p => p.TestLoss).ToArray()).LegendText = "test loss";
        ScottPlot.Plottables.Scatter trainAccuracy = plot.Add.Scatter(steps, Points.Select(p => p.TrainAccuracy).ToArray());
        trainAccuracy.LegendText = "train accuracy";
        trainAccuracy.Axes.YAxis = plot.Axes.Right;
        ScottPlot.Plottables.Scatter testAccuracy = plot.Add.Scatter(steps, Points.Select(p => p.TestAccuracy).ToArray());
        testAccuracy.LegendText = "test accuracy";
        testAccuracy.Axes.YAxis = plot.Axes.Right;
        if (Average is (int averageStep, double averageAccuracy))
        {
            ScottPlot.Plottables.Marker marker = plot.Add.Marker(averageStep, averageAccuracy, ScottPlot.MarkerShape.FilledDiamond, 12);
            marker.LegendText = "test accuracy of the weight average";
            marker.Axes.YAxis = plot.Axes.Right;
        }
        plot.Title("MNIST-1D MLP (Dsl, CPU)");
        plot.XLabel("step");
        plot.YLabel("cross-entropy loss");
        plot.Axes.Right.Label.Text = "accuracy";
        plot.Axes.SetLimitsY(0, 1, plot.Axes.Right);
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        plot.SavePng(path, 900, 600);
    }
}
