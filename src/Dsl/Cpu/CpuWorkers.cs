using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.Intrinsics.X86;

namespace Dsl.Cpu;

/// <summary>
/// One fork-join job: <see cref="Execute"/> is called exactly once for every index in
/// [0, taskCount), on any of the pool's threads (the caller's included), possibly concurrently.
/// Tasks are structs so <see cref="CpuWorkers.Run{TTask}"/> specialises and allocates nothing.
/// </summary>
public interface ICpuTask
{
    void Execute(int index);
}

/// <summary>
/// A small persistent thread pool for fork-join over tiles with low latency. <see cref="ThreadCount"/>
/// counts the calling thread, which always takes part; the other ThreadCount - 1 threads spin for a
/// millisecond after each job (so back-to-back jobs start within a microsecond) and then block until
/// the next one.
/// Indices are handed out dynamically, so a worker that wakes late only takes what is left.
/// A <see cref="Run{TTask}"/> that finds the pool busy (nested or concurrent) runs its job inline.
/// </summary>
public sealed unsafe class CpuWorkers : IDisposable
{
    private static readonly Lazy<CpuWorkers> DefaultWorkers =
        new(() => new CpuWorkers(Environment.ProcessorCount), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// How long an idle worker spins for the next job before it blocks (1 ms): waking a blocked worker
    /// costs the caller about 10 us in a VM, more than the jobs between a training step's GEMMs last.
    /// </summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;

    private readonly Thread[] _threads;
    private readonly object _sleepGate = new();

    // The published job. Written by the running caller before it publishes _generation; read by
    // workers only after they have claimed an index of that generation (see Participate).
    private void* _task;
    private delegate*<void*, int, void> _invoke;
    private int _taskCount;

    // (generation << 32) | next unclaimed index. Claims are CAS'd against it, so a worker still
    // holding an older generation can never claim an index of a newer job.
    private long _ticket;
    private int _remaining;
    private int _generation;
    private int _sleepers;
    private int _busy;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _failure;

    /// <param name="threadCount">Threads that execute a job, the caller included (at least 1).</param>
    public CpuWorkers(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop)
            {
                IsBackground = true,
                Name = $"Dsl.CpuWorkers #{i + 1}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>A process-wide pool of <see cref="Environment.ProcessorCount"/> threads, created on first use.</summary>
    public static CpuWorkers Default => DefaultWorkers.Value;

    /// <summary>Threads that execute a job, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Calls <c>task.Execute(i)</c> once for each i in [0, <paramref name="taskCount"/>) across the
    /// pool and returns when all have finished. The task is copied once; every thread works on that
    /// copy, so state the tasks share must live behind references or pointers. The first exception
    /// a task throws is rethrown here after all tasks have finished.
    /// </summary>
    public void Run<TTask>(int taskCount, TTask task) where TTask : struct, ICpuTask
    {
        ArgumentOutOfRangeException.ThrowIfNegative(taskCount);
        if (taskCount == 0)
        {
            return;
        }
        if (taskCount == 1 || _threads.Length == 0 || _disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int i = 0; i < taskCount; i++)
            {
                task.Execute(i);
            }
            return;
        }

        try
        {
            int generation = _generation + 1;
            // Invalidate the previous job's ticket before the new job's fields change.
            Interlocked.Exchange(ref _ticket, (long)generation << 32);
            // `task` is a parameter of this frame: its address is stable until Run returns.
            _task = Unsafe.AsPointer(ref task);
            _invoke = &Invoke<TTask>;
            _taskCount = taskCount;
            _remaining = taskCount;
            _failure = null;
            // Full fence: publishes the fields above, and orders against the sleepers' check.
            Interlocked.Exchange(ref _generation, generation);
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (_sleepGate)
                {
                    Monitor.PulseAll(_sleepGate);
                }
            }

            Participate(generation);
            // The last tasks are running on workers: spin on the pause instruction (tasks are short),
            // yielding the core only if they take long.
            long spinStart = Stopwatch.GetTimestamp();
            for (int spin = 1; Volatile.Read(ref _remaining) != 0; spin++)
            {
                Pause();
                if ((spin & 63) == 0 && Stopwatch.GetTimestamp() - spinStart > SpinTicks)
                {
                    Thread.Yield();
                }
            }
            _failure?.Throw();
        }
        finally
        {
            _task = null;
            _invoke = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Interlocked.Increment(ref _generation);
        lock (_sleepGate)
        {
            Monitor.PulseAll(_sleepGate);
        }
        foreach (var thread in _threads)
        {
            thread.Join();
        }
    }

    private static void Invoke<TTask>(void* task, int index) where TTask : struct, ICpuTask
        => Unsafe.AsRef<TTask>(task).Execute(index);

    /// <summary>Claims and executes indices of <paramref name="generation"/>'s job until none are left.</summary>
    private void Participate(int generation)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            if ((int)(ticket >> 32) != generation || (int)ticket >= Volatile.Read(ref _taskCount))
            {
                return;
            }
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket)
            {
                continue;
            }
            // The claim succeeded, so this generation's job cannot finish (nor its fields change)
            // before the decrement below.
            try
            {
                _invoke(_task, (int)ticket);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(exception), null);
            }
            Interlocked.Decrement(ref _remaining);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pause()
    {
        if (X86Base.IsSupported)
        {
            X86Base.Pause();
        }
        else
        {
            Thread.SpinWait(1);
        }
    }

    private void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            seen = WaitForNextGeneration(seen);
            if (_disposed)
            {
                return;
            }
            Participate(seen);
        }
    }

    private int WaitForNextGeneration(int seen)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        while (true)
        {
            for (int spin = 0; spin < 64; spin++)
            {
                int generation = Volatile.Read(ref _generation);
                if (generation != seen)
                {
                    return generation;
                }
                Pause();
            }
            if (Stopwatch.GetTimestamp() > deadline)
            {
                break;
            }
        }

        lock (_sleepGate)
        {
            // Full fence before re-reading _generation; Run publishes with a full fence before it
            // reads _sleepers, so one of the two sides always sees the other.
            Interlocked.Increment(ref _sleepers);
            int generation;
            while ((generation = Volatile.Read(ref _generation)) == seen)
            {
                Monitor.Wait(_sleepGate);
            }
            Interlocked.Decrement(ref _sleepers);
            return generation;
        }
    }
}
