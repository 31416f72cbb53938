using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Dsl.Build.Tests;

/// <summary>
/// The Dsl package packed once into a folder feed, with a version of its own (so no package cache holds an older
/// one), and a scratch folder holding a copy of Consumers/ whose projects restore from that feed. Restores put the
/// Dsl package into a packages folder inside the scratch folder and take its dependencies (ILGPU, ...) from the
/// machine's package cache, so nothing is left behind.
/// </summary>
public sealed class LocalPackage : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    public LocalPackage()
    {
        Root = Path.Combine(Path.GetTempPath(), "dsl-build-tests-" + Guid.NewGuid().ToString("N"));
        Feed = Path.Combine(Root, "feed");
        Packages = Path.Combine(Root, "packages");
        Consumers = Path.Combine(Root, "consumers");
        Version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        Directory.CreateDirectory(Feed);
        CopyDirectory(Path.Combine(AppContext.BaseDirectory, "Consumers"), Consumers);
        File.WriteAllText(Path.Combine(Consumers, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="dsl-under-test" value="{Feed}" />
              </packageSources>
            </configuration>
            """);

        // What this test project's build built (its ProjectReference builds src/Dsl and the Roslyn components).
        Pack = Dotnet(Root, "pack", Metadata("DslProject"), "-c", Configuration, "--no-build", "-o", Feed, "-p:Version=" + Version);
        if (Pack.ExitCode != 0)
        {
            throw new InvalidOperationException("dotnet pack failed:\n" + Pack.Output);
        }

        Package = Path.Combine(Feed, "Dsl." + Version + ".nupkg");
        SymbolPackage = Path.Combine(Feed, "Dsl." + Version + ".snupkg");
    }

    public string Root { get; }

    /// <summary>The configuration this test project was built in; the package is packed from that build.</summary>
    public string Configuration => Metadata("Configuration");

    /// <summary>The repository's Dsl.sln.</summary>
    public string Solution => Metadata("DslSolution");

    public string Feed { get; }

    /// <summary>The restores' packages folder (the Dsl package under test lands here, and nowhere else).</summary>
    public string Packages { get; }

    /// <summary>The copy of Consumers/, with a nuget.config that adds the feed.</summary>
    public string Consumers { get; }

    public string Version { get; }

    public CommandResult Pack { get; }

    public string Package { get; }

    public string SymbolPackage { get; }

    /// <summary>A fresh copy of the consumer project Consumers/<paramref name="name"/>, so no test sees another's build outputs.</summary>
    public string Consumer(string name)
    {
        string copy = Path.Combine(Consumers, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        CopyDirectory(Path.Combine(Consumers, name), copy);
        return copy;
    }

    /// <summary>Runs <c>dotnet</c> in <paramref name="directory"/> (a consumer's folder, say) against the package under test.</summary>
    public CommandResult Dotnet(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetPath())
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (arguments[0] is "build" or "run" or "restore")
        {
            start.ArgumentList.Add("-p:DslVersion=" + Version);
            start.ArgumentList.Add("-p:RestoreAdditionalProjectFallbackFolders=" + MachinePackageCache());
            start.ArgumentList.Add("--disable-build-servers");
        }

        // A clean environment for the child: none of this test host's MSBuild settings, and no first-run banners.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["NUGET_PACKAGES"] = Packages;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        var stopwatch = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} ran past {CommandTimeout}:\n{output}");
        }

        process.WaitForExit();
        return new CommandResult(process.ExitCode, output.ToString(), stopwatch.Elapsed);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A process still holding a file: the folder is under the temp path and will go with it.
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    /// <summary>The dotnet that runs this test host (it runs as 'dotnet testhost.dll'), else the one on PATH.</summary>
    private static string DotnetPath()
        => Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    private static string MachinePackageCache()
        => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string Metadata(string key)
        => typeof(LocalPackage).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
            ?? throw new InvalidOperationException("No assembly metadata " + key);

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (string directory in Directory.GetDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }
}

/// <summary>What a dotnet command did: its exit code, everything it printed, and how long it took.</summary>
public sealed partial record CommandResult(int ExitCode, string Output, TimeSpan Elapsed)
{
    /// <summary>Each distinct diagnostic line of the build output (MSBuild prints them twice: as they come, and in the summary).</summary>
    public IReadOnlyList<BuildDiagnostic> Diagnostics()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var diagnostics = new List<BuildDiagnostic>();
        foreach (string line in Output.Split('\n'))
        {
            Match match = DiagnosticLine().Match(line.TrimEnd('\r'));
            if (match.Success && seen.Add(match.Value))
            {
                diagnostics.Add(new BuildDiagnostic(
                    Path.GetFileName(match.Groups["file"].Value),
                    int.Parse(match.Groups["line"].Value, CultureInfo.InvariantCulture),
                    int.Parse(match.Groups["column"].Value, CultureInfo.InvariantCulture),
                    match.Groups["severity"].Value,
                    match.Groups["id"].Value,
                    match.Groups["message"].Value));
            }
        }

        return diagnostics;
    }

    // "/path/Program.cs(8,6): error DSL0006: Shape mismatch: ... [/path/Consumer.csproj]"
    [GeneratedRegex(@"^\s*(?<file>[^\s(][^(]*)\((?<line>\d+),(?<column>\d+)\): (?<severity>error|warning) (?<id>[A-Z]+\d+): (?<message>.*?)( \[[^\]]*\])?$")]
    private static partial Regex DiagnosticLine();
}

/// <summary>One diagnostic of a build: file name, 1-based line and column, severity, ID and message.</summary>
public sealed record BuildDiagnostic(string File, int Line, int Column, string Severity, string Id, string Message)
{
    public override string ToString() => $"{File}({Line},{Column}): {Severity} {Id}: {Message}";
}

[CollectionDefinition(Name)]
public sealed class PackageCollection : ICollectionFixture<LocalPackage>
{
    /// <summary>Every test that builds a consumer shares one packed package and runs one at a time.</summary>
    public const string Name = "The Dsl package";
}
