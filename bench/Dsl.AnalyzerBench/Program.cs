extern alias Generators;

using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Dsl.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Diagnostics.Telemetry;
using NetworkGenerator = Generators::Dsl.Generators.NetworkGenerator;

// How long the analyzers take on large declarations, warm (the median of 21 runs after 5 unmeasured ones), three ways:
// the analyzer's action on the network's type in a compilation already bound (what the analyzer itself costs); Roslyn's
// measure of the analyzer's execution time in a full analysis pass, which runs over a fresh copy of the compilation and
// so also pays for binding the attributes the analyzer reads; and that pass's wall time (the generated files included,
// as the IDE analyzes them).
//   dotnet run -c Release --project bench/Dsl.AnalyzerBench
const int Warmup = 5;
const int Runs = 21;

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"analyzers: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}"));
foreach ((string name, string source) in Declarations())
{
    CSharpCompilation compilation = Compile(source);
    var analyzer = new NetworkDeclarationAnalyzer();
    INamedTypeSymbol network = compilation.GetSymbolsWithName(_ => true, SymbolFilter.Type).OfType<INamedTypeSymbol>()
        .Single(t => t.GetAttributes().Any(a => a.AttributeClass?.Name == "NetworkAttribute"));
    var actions = new List<double>();
    for (int run = 0; run < Warmup + Runs; run++)
    {
        var clock = Stopwatch.StartNew();
        NetworkDeclarationAnalyzer.Analyze(network, compilation, _ => { }, CancellationToken.None);
        if (run >= Warmup)
        {
            actions.Add(clock.Elapsed.TotalMilliseconds);
        }
    }

    var executions = new List<double>();
    var walls = new List<double>();
    int diagnostics = 0;
    for (int run = 0; run < Warmup + Runs; run++)
    {
        var withAnalyzers = compilation.WithAnalyzers(
            [analyzer], new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), null, concurrentAnalysis: false, logAnalyzerExecutionTime: true, reportSuppressedDiagnostics: false));
        var clock = Stopwatch.StartNew();
        ImmutableArray<Diagnostic> found = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        clock.Stop();
        AnalyzerTelemetryInfo telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None);
        if (run >= Warmup)
        {
            executions.Add(telemetry.ExecutionTime.TotalMilliseconds);
            walls.Add(clock.Elapsed.TotalMilliseconds);
        }

        diagnostics = found.Length;
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}: analyzer action median {Median(actions):F2} ms (min {actions.Min():F2}); in a full pass, analyzer execution median {Median(executions):F2} ms (min {executions.Min():F2}) and pass wall median {Median(walls):F2} ms; {diagnostics} diagnostics"));
}

static double Median(List<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted[sorted.Length / 2];
}

// A 200-layer dense chain (PyTorch's default: the two band warnings), a Repeat(64) pre-norm residual stack, and a
// Repeat(200) of a one-layer tanh block (the repeated block expanded to 200 nodes).
static IEnumerable<(string Name, string Source)> Declarations()
{
    string layers = string.Concat(Enumerable.Range(0, 199).Select(i => $"    [Dense(100), Relu] public partial Layer Hidden{i} {{ get; }}\n"));
    yield return ("200 dense layers", "using Dsl;\nnamespace Bench;\n[Network(Input = [40])]\npublic sealed partial class Deep\n{\n" + layers + "    [Dense(10)] public partial Layer Logits { get; }\n}\n");
    yield return ("Repeat(64) pre-norm blocks (257 nodes)", """
        using Dsl;
        namespace Bench;
        [Block]
        public sealed partial class PreNorm
        {
            [LayerNorm] public partial Layer Norm { get; }
            [Dense(256)] public partial Layer Up { get; }
            [Gelu] public partial Layer Act { get; }
            [Dense(256)] public partial Layer Down { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Encoder
        {
            [Dense(256)] public partial Layer Embed { get; }
            [Repeat(64), Residual] public partial Repeated<PreNorm> Blocks { get; }
            [LayerNorm] public partial Layer FinalNorm { get; }
            [Dense(10)] public partial Layer Head { get; }
        }
        """);
    yield return ("Repeat(200) tanh layers", """
        using Dsl;
        namespace Bench;
        [Block]
        public sealed partial class TanhLayer
        {
            [Dense(128, Init = Init.Xavier), Tanh] public partial Layer Dense { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Tanhs
        {
            [Repeat(200)] public partial Repeated<TanhLayer> Hidden { get; }
            [Dense(10)] public partial Layer Head { get; }
        }
        """);
}

// The user's file and what the generator makes of it, bound once: the analysis pass then finds the semantic models built.
static CSharpCompilation Compile(string source)
{
    var parse = new CSharpParseOptions(LanguageVersion.Preview);
    string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
    MetadataReference[] references =
    [
        .. Directory.GetFiles(runtime, "*.dll").Where(IsManagedAssembly).Select(path => MetadataReference.CreateFromFile(path)),
        MetadataReference.CreateFromFile(typeof(Dsl.NetworkAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(ILGPU.Context).Assembly.Location),
    ];
    var compilation = CSharpCompilation.Create(
        "Bench", [CSharpSyntaxTree.ParseText(source, parse)], references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
    GeneratorDriver driver = CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: parse);
    driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
    _ = output.GetDiagnostics();
    return (CSharpCompilation)output;
}

static bool IsManagedAssembly(string path)
{
    try
    {
        System.Reflection.AssemblyName.GetAssemblyName(path);
        return true;
    }
    catch (BadImageFormatException)
    {
        return false;
    }
}
