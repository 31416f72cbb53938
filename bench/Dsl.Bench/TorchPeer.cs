using System.Diagnostics;
using System.Globalization;

namespace Dsl.Bench;

/// <summary>
/// bench/torch_cpu_peer.py, kept running under /usr/bin/python3 for the whole suite and asked for one
/// block of PyTorch training steps at a time, so the suite can alternate the peer's blocks with ours.
/// </summary>
internal sealed class TorchPeer : IDisposable
{
    private const string Python = "/usr/bin/python3";

    private readonly Process _process;
    private readonly System.Text.StringBuilder _errors; // the peer's stderr, drained as it comes

    private TorchPeer(Process process, System.Text.StringBuilder errors, string version)
    {
        _process = process;
        _errors = errors;
        Version = version;
    }

    /// <summary>torch's version as the peer reports it.</summary>
    public string Version { get; }

    /// <summary>The running peer, or null (with the reason on stderr) when python3, torch or the script is missing.</summary>
    public static TorchPeer? Start()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "torch_cpu_peer.py");
        if (!File.Exists(Python) || !File.Exists(script))
        {
            Console.Error.WriteLine("# peer skipped: /usr/bin/python3 or the peer script is missing");
            return null;
        }

        var start = new ProcessStartInfo(Python, [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        // Drained as it comes, so a chatty stderr can never block the peer.
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.StandardInput.WriteLine("version");
        string? version = process.StandardOutput.ReadLine();
        if (version is null || version.StartsWith("error", StringComparison.Ordinal))
        {
            if (!process.HasExited)
            {
                process.Kill(); // it answered but cannot serve; it would wait for more requests
            }

            process.WaitForExit();
            lock (errors)
            {
                Console.Error.WriteLine($"# peer skipped: the PyTorch peer did not start ({version ?? $"exit code {process.ExitCode}"}): {errors.ToString().Trim()}");
            }
            process.Dispose();
            return null;
        }

        return new TorchPeer(process, errors, version.Trim());
    }

    /// <summary>Microseconds per SGD step of <paramref name="workload"/> over <paramref name="steps"/> steps on <paramref name="threads"/> threads.</summary>
    public double StepMicroseconds(string workload, int threads, int steps)
        => Ask(string.Create(CultureInfo.InvariantCulture, $"step {workload} {threads} {steps}"));

    /// <summary>torch.mm (OpenBLAS's sgemm) of two <paramref name="n"/> x <paramref name="n"/> matrices in GFLOP/s on <paramref name="threads"/> threads.</summary>
    public double SgemmGflops(int threads, int n = 2048) => Ask(string.Create(CultureInfo.InvariantCulture, $"sgemm {threads} {n}"));

    /// <summary>The instruction sets PyTorch uses: its CPU capability and the OpenBLAS kernels it loaded.</summary>
    public string InstructionSets()
    {
        _process.StandardInput.WriteLine("isa");
        return _process.StandardOutput.ReadLine() ?? "unknown (the peer exited)";
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.WriteLine("quit");
            _process.StandardInput.Close();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private double Ask(string request)
    {
        _process.StandardInput.WriteLine(request);
        string? answer = _process.StandardOutput.ReadLine();
        if (answer is not null && double.TryParse(answer, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            return value;
        }

        if (answer is null)
        {
            _process.WaitForExit(); // its stderr is then complete
        }

        string errors;
        lock (_errors)
        {
            errors = _errors.ToString().Trim();
        }

        throw new InvalidOperationException($"The PyTorch peer answered '{answer ?? "nothing (it exited)"}' to '{request}'. Its stderr: {(errors.Length == 0 ? "(empty)" : errors)}");
    }
}
