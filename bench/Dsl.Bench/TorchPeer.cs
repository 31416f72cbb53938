using System.Diagnostics;
using System.Globalization;

namespace Dsl.Bench;

/// <summary>Runs bench/torch_cpu_peer.py with /usr/bin/python3 when PyTorch imports there, and reads its "KEY VALUE" lines.</summary>
internal static class TorchPeer
{
    private const string Python = "/usr/bin/python3";

    public static Dictionary<string, double> Run(int threads)
    {
        var results = new Dictionary<string, double>();
        string script = Path.Combine(AppContext.BaseDirectory, "torch_cpu_peer.py");
        if (!File.Exists(Python) || !File.Exists(script))
        {
            Console.Error.WriteLine("# peer skipped: /usr/bin/python3 or the peer script is missing");
            return results;
        }

        var start = new ProcessStartInfo(Python, [script, threads.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"# peer skipped: PyTorch peer exited {process.ExitCode}: {errors.Trim()}");
            return results;
        }

        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Console.WriteLine("# peer: " + line);
            string[] parts = line.Split(' ');
            if (parts.Length >= 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                results[parts[0]] = value;
            }
        }

        return results;
    }
}
