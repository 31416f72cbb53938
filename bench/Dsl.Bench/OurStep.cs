using System.Diagnostics;
using Dsl.Training;

namespace Dsl.Bench;

/// <summary>
/// Our side of a CPU workload on one thread count: a network on its own CPU device, one fixed random
/// batch (seed 0) and its optimizer (SGD lr 0.01 unless the workload names another), warmed up and kept alive so the suite can time blocks of steps between the
/// peer's blocks.
/// </summary>
internal sealed class OurStep : IDisposable
{
    private readonly Device _device;
    private readonly Action _step;

    private OurStep(Device device, int threads, Action step)
    {
        _device = device;
        Threads = threads;
        _step = step;
    }

    public int Threads { get; }

    public static OurStep Prepare<TNetwork>(Func<Device, TNetwork> create, int batch, int threads, int warmupSteps, Func<Optimizer>? optimizerFactory = null)
        where TNetwork : IClassifierNetwork
    {
        Device device = Device.Cpu(threads);
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

        Optimizer optimizer = optimizerFactory?.Invoke() ?? new Sgd(0.01f);
        var step = new OurStep(device, threads, () => model.TrainStep(x, y, optimizer));
        for (int i = 0; i < warmupSteps; i++)
        {
            step._step();
        }

        return step;
    }

    /// <summary>Microseconds per step over <paramref name="steps"/> steps, after one untimed step.</summary>
    public double BlockMicroseconds(int steps)
    {
        _step();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++)
        {
            _step();
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / steps;
    }

    public void Dispose() => _device.Dispose();
}
