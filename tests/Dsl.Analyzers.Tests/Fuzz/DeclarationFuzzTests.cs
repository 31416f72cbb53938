extern alias Generators;

using System.Diagnostics;
using System.Globalization;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit.Abstractions;
using PartialProperties = Generators::Dsl.Generators.Parsing.PartialProperties;

namespace Dsl.Analyzers.Tests.Fuzz;

/// <summary>
/// Mutated declarations (<see cref="DeclarationMutations"/>) run through the generator and the analyzer as the
/// compiler runs them. For every case:
/// <list type="number">
/// <item>the generator throws nothing and no analyzer throws (no CS8784/CS8785, no AD0001);</item>
/// <item>when the user's files have no compiler error, no generated file has one, and when they have no warning,
/// no generated file has one (a warning there would be an error under TreatWarningsAsErrors);</item>
/// <item>when the user's files have no compiler error of their own, every [Network] class that gets no model
/// has a DSL diagnostic inside its declaration;</item>
/// <item>a layer property left unimplemented (CS9248, CS0751: no generated part could join its class) comes with a
/// DSL diagnostic reported by the generator itself, since those compiler errors keep a build from reporting the
/// analyzer's.</item>
/// </list>
/// The cases are a fixed sequence (case i is drawn from seed DSL_FUZZ_SEED + i), so every run checks the same ones;
/// a failing case is printed with its CsCheck seed, then shrunk by CsCheck to a smaller failing case.
/// DSL_FUZZ_CASES sets the count (default 10,000), DSL_FUZZ_SEED the first seed.
/// </summary>
public sealed class DeclarationFuzzTests(ITestOutputHelper output)
{
    private const int DefaultCases = 10_000;
    private const ulong DefaultSeed = 20_261_201;

    /// <summary>The last run's summary line, written beside the test assembly.</summary>
    public const string SummaryFile = "fuzz-summary.txt";

    [Fact]
    public void Mutated_declarations_never_break_the_generator_the_analyzer_or_the_build()
    {
        int cases = EnvironmentInt("DSL_FUZZ_CASES") ?? DefaultCases;
        ulong firstSeed = (ulong?)EnvironmentInt("DSL_FUZZ_SEED") ?? DefaultSeed;
        var stopwatch = Stopwatch.StartNew();
        var counts = new CaseCounts();
        (int Index, string Seed, string Problem)? firstFailure = null;
        Parallel.For(0, cases, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, (i, loop) =>
        {
            var pcg = new PCG(1, firstSeed + (ulong)i);
            string seed = pcg.ToString(pcg.State);
            DeclarationCase fuzzCase = DeclarationMutations.Cases.Generate(pcg, null, out _);
            string? problem = Check(fuzzCase, counts);
            if (problem is not null)
            {
                lock (counts)
                {
                    if (firstFailure is null || i < firstFailure.Value.Index)
                    {
                        firstFailure = (i, seed, problem);
                    }
                }

                loop.Stop();
            }
        });

        // Also beside the test assembly, where .ci/run prints it (a passing test's output is not shown by the runner).
        string summary = string.Format(CultureInfo.InvariantCulture, "{0:#,0} cases from seed {1} in {2:0.0} s: {3}", cases, firstSeed, stopwatch.Elapsed.TotalSeconds, counts);
        output.WriteLine(summary);
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, SummaryFile), summary + "\n");
        if (firstFailure is { } failure)
        {
            // CsCheck replays the failing seed first, then shrinks: its exception carries the smallest case found and its seed.
            string shrunk;
            try
            {
                DeclarationMutations.Cases.Sample(c => Assert.Null(Check(c, new CaseCounts())), seed: failure.Seed, iter: 400, threads: 1, print: c => c.ToString());
                shrunk = "(CsCheck did not reproduce it)";
            }
            catch (CsCheckException shrinking)
            {
                shrunk = shrinking.Message;
            }

            Assert.Fail($"Case {failure.Index} (CsCheck seed \"{failure.Seed}\") failed: {failure.Problem}\nShrunk by CsCheck:\n{shrunk}");
        }

        Assert.Equal(cases, counts.Total);
    }

    /// <summary>The first broken invariant of one case, or null.</summary>
    private static string? Check(DeclarationCase fuzzCase, CaseCounts counts)
    {
        IReadOnlyList<UserFile> files = fuzzCase.Files();
        DeclarationRun run = DeclarationRun.Run(files);

        foreach (GeneratorRunResult result in run.GeneratorResult.Results)
        {
            if (result.Exception is not null)
            {
                return "the generator threw: " + result.Exception + "\n" + fuzzCase;
            }
        }

        if (run.AnalyzerExceptions.Count > 0)
        {
            return "the analyzer threw: " + run.AnalyzerExceptions[0] + "\n" + fuzzCase;
        }

        if (run.AnalyzerDiagnostics.Concat(run.GeneratorDiagnostics).FirstOrDefault(d => d.Id is "AD0001" or "CS8784" or "CS8785") is { } crash)
        {
            return crash + "\n" + fuzzCase;
        }

        // Errors that mean a layer property stayed unimplemented, as opposed to the user's own mistakes.
        Compilation compilation = run.OutputCompilation;
        var unimplemented = new List<(Diagnostic Error, INamedTypeSymbol Network)>();
        var ownErrors = new List<Diagnostic>();
        foreach (Diagnostic error in run.UserFileDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error))
        {
            if (error.Id is "CS9248" or "CS0751" && OwnedPropertyAt(compilation, error) is { } property && IsNetwork(property.ContainingType))
            {
                unimplemented.Add((error, property.ContainingType));
            }
            else
            {
                ownErrors.Add(error);
            }
        }

        List<INamedTypeSymbol> networks = Networks(compilation);
        counts.Add(networks.Count, run.Models.Count(), run.Fallbacks.Count(), ownErrors.Count > 0, run.DslDiagnostics.Any() || run.GeneratorDiagnostics.Any(IsDsl));
        if (ownErrors.Count > 0)
        {
            return null; // what the user sees first is their own error; the rest is checked on code that compiles
        }

        bool userWarnings = run.UserFileDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Warning);
        Diagnostic? generatedProblem = run.GeneratedFileDiagnostics.FirstOrDefault(d =>
            d.Severity == DiagnosticSeverity.Error || (d.Severity == DiagnosticSeverity.Warning && !userWarnings));
        if (generatedProblem is not null)
        {
            return $"the generated code has {generatedProblem} while the user's files have none:\n{fuzzCase}\n{GeneratedText(run, generatedProblem)}";
        }

        foreach ((Diagnostic error, INamedTypeSymbol network) in unimplemented)
        {
            if (!run.GeneratorDiagnostics.Any(d => IsDsl(d) && Inside(d, network)))
            {
                return $"{error} is the only error a build shows for network '{network.Name}': the generator reported no DSL diagnostic for it\n{fuzzCase}";
            }
        }

        foreach (INamedTypeSymbol network in networks)
        {
            bool hasModel = network.DeclaringSyntaxReferences.Any(r => !IsUserTree(r.SyntaxTree) && run.Models.Any(m => r.SyntaxTree.FilePath.EndsWith(m.HintName, StringComparison.Ordinal)));
            bool reported = run.AnalyzerDiagnostics.Concat(run.GeneratorDiagnostics).Any(d => IsDsl(d) && d.Severity == DiagnosticSeverity.Error && Inside(d, network));
            if (!hasModel && !reported)
            {
                return $"network '{network.Name}' got no model and no DSL error\n{fuzzCase}";
            }
        }

        return null;
    }

    private static bool IsDsl(Diagnostic diagnostic) => diagnostic.Id.StartsWith("DSL", StringComparison.Ordinal);

    private static bool IsUserTree(SyntaxTree tree) => tree.FilePath.StartsWith("/0/", StringComparison.Ordinal);

    private static string GeneratedText(DeclarationRun run, Diagnostic problem)
        => string.Join("\n", run.GeneratedSources.Where(s => problem.Location.SourceTree!.FilePath.EndsWith(s.HintName, StringComparison.Ordinal)).Select(s => s.SourceText.ToString()));

    /// <summary>Whether a diagnostic (in source, or a generator's by path) lies inside one of the type's declarations in the user's files.</summary>
    private static bool Inside(Diagnostic diagnostic, INamedTypeSymbol type)
    {
        FileLinePositionSpan at = diagnostic.Location.GetLineSpan();
        return type.DeclaringSyntaxReferences.Any(r => IsUserTree(r.SyntaxTree) && r.SyntaxTree.FilePath == at.Path && r.Span.Contains(diagnostic.Location.SourceSpan.Start));
    }

    private static IPropertySymbol? OwnedPropertyAt(Compilation compilation, Diagnostic error)
    {
        SyntaxTree tree = error.Location.SourceTree!;
        SyntaxNode? node = tree.GetRoot().FindNode(error.Location.SourceSpan);
        BasePropertyDeclarationSyntax? declaration = node.FirstAncestorOrSelf<BasePropertyDeclarationSyntax>();
        return declaration is not null
            && compilation.GetSemanticModel(tree).GetDeclaredSymbol(declaration) is IPropertySymbol property
            && PartialProperties.IsOwnedByGenerator(property)
            ? property
            : null;
    }

    private static bool IsNetwork(INamedTypeSymbol? type)
        => type is not null && type.GetAttributes().Any(a => a.AttributeClass is { Name: "NetworkAttribute", ContainingNamespace: { Name: "Dsl", ContainingNamespace.IsGlobalNamespace: true } });

    /// <summary>The classes of the user's files that carry the runtime's [Network].</summary>
    private static List<INamedTypeSymbol> Networks(Compilation compilation)
    {
        var networks = new List<INamedTypeSymbol>();
        foreach (SyntaxTree tree in compilation.SyntaxTrees.Where(IsUserTree))
        {
            SemanticModel model = compilation.GetSemanticModel(tree);
            foreach (ClassDeclarationSyntax declaration in tree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>())
            {
                if (model.GetDeclaredSymbol(declaration) is INamedTypeSymbol type && IsNetwork(type) && !networks.Contains(type, SymbolEqualityComparer.Default))
                {
                    networks.Add(type);
                }
            }
        }

        return networks;
    }

    private static int? EnvironmentInt(string name)
        => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : null;

    /// <summary>What the cases covered, so a run shows it exercised more than declarations that do not compile.</summary>
    private sealed class CaseCounts
    {
        private int _total, _networks, _models, _fallbacks, _userErrors, _dslReported;

        public int Total => _total;

        public void Add(int networks, int models, int fallbacks, bool userErrors, bool dslReported)
        {
            Interlocked.Increment(ref _total);
            Interlocked.Add(ref _networks, networks);
            Interlocked.Add(ref _models, models);
            Interlocked.Add(ref _fallbacks, fallbacks);
            if (userErrors)
            {
                Interlocked.Increment(ref _userErrors);
            }

            if (dslReported)
            {
                Interlocked.Increment(ref _dslReported);
            }
        }

        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture,
            "{0:#,0} [Network] classes, {1:#,0} models and {2:#,0} fallback parts generated; {3:#,0} cases with compiler errors of the user's own, {4:#,0} with a DSL diagnostic",
            _networks, _models, _fallbacks, _userErrors, _dslReported);
    }
}
