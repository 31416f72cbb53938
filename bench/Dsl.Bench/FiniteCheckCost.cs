using System.Diagnostics;
using Dsl.Training;

namespace Dsl.Bench;

/// <summary>
/// What keeping NaN and infinity out of the parameters costs a W1 training step on the CPU: the checks a generated
/// step runs (its inputs before the forward pass, its loss before the backward pass, its gradients before the update),
/// timed on their own over the same batch and gradients in blocks of steps, median of the blocks.
/// </summary>
internal static class FiniteCheckCost
{
    public static double MicrosecondsPerStep(int blocks)
    {
        using Device device = Device.Cpu(1);
        using var model = new W1Mlp(device, 1);
        var random = new Random(0);
        float[] inputs = [.. Enumerable.Range(0, 100 * model.InputSize).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        int[] labels = [.. Enumerable.Range(0, 100).Select(_ => random.Next(model.OutputSize))];
        float loss = model.TrainStep(inputs, labels, new Sgd(0.01f));
        float[] gradients = model.Gradients.ToArray();

        const int Steps = 20_000;
        var times = new List<double>();
        for (int block = 0; block <= blocks; block++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int step = 0; step < Steps; step++)
            {
                FiniteChecks.Values(inputs, model.InputSize, "inputs");
                FiniteChecks.Loss(loss);
                FiniteChecks.Gradients(gradients, model.Layers);
            }

            if (block > 0)
            {
                times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / Steps);
            }
        }

        times.Sort();
        return times[times.Count / 2];
    }
}
