extern alias Generators;

using System.Collections.Immutable;
using System.Text;
using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using NetworkGenerator = Generators::Dsl.Generators.NetworkGenerator;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// What the IDE does with user code: parse it, run <see cref="NetworkGenerator"/>, then run
/// <see cref="NetworkDeclarationAnalyzer"/> over the compilation that includes the generated files.
/// Records every exception the generator or the analyzer throws instead of letting it escape.
/// </summary>
internal sealed class DeclarationRun
{
    private DeclarationRun(
        GeneratorDriverRunResult generatorResult,
        Compilation outputCompilation,
        ImmutableArray<Diagnostic> generatorDiagnostics,
        ImmutableArray<Diagnostic> allDiagnostics,
        IReadOnlyList<string> analyzerExceptions)
    {
        GeneratorResult = generatorResult;
        OutputCompilation = outputCompilation;
        GeneratorDiagnostics = generatorDiagnostics;
        AllDiagnostics = allDiagnostics;
        AnalyzerExceptions = analyzerExceptions;
    }

    public GeneratorDriverRunResult GeneratorResult { get; }

    /// <summary>The user's trees plus the generated ones.</summary>
    public Compilation OutputCompilation { get; }

    /// <summary>What the driver reported (CS8784/CS8785 when a generator throws).</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

    /// <summary>Compiler and analyzer diagnostics of <see cref="OutputCompilation"/>.</summary>
    public ImmutableArray<Diagnostic> AllDiagnostics { get; }

    public IReadOnlyList<string> AnalyzerExceptions { get; }

    public IEnumerable<Diagnostic> Errors => AllDiagnostics.Concat(GeneratorDiagnostics).Where(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Errors located in the user's files (or nowhere), not in generated ones.</summary>
    public IEnumerable<Diagnostic> UserErrors => Errors.Where(d => !d.Location.IsInSource || !IsGenerated(d.Location.SourceTree!));

    /// <summary>Errors located in the generated files.</summary>
    public IEnumerable<Diagnostic> GeneratedErrors => Errors.Where(d => d.Location.IsInSource && IsGenerated(d.Location.SourceTree!));

    /// <summary>The user's files are /0/Test0.cs, /0/Test1.cs, ...; any other tree is the generator's.</summary>
    private static bool IsGenerated(SyntaxTree tree) => !tree.FilePath.StartsWith(UserFolder, StringComparison.Ordinal);

    private const string UserFolder = "/0/";

    /// <summary>The DSL diagnostics the analyzer reported.</summary>
    public IEnumerable<Diagnostic> DslDiagnostics => AllDiagnostics.Where(d => d.Id.StartsWith("DSL", StringComparison.Ordinal));

    /// <summary>The generated files' text, by hint name.</summary>
    public IEnumerable<GeneratedSourceResult> GeneratedSources => GeneratorResult.Results.SelectMany(r => r.GeneratedSources);

    /// <summary>The generated files that hold a network's model (the others are fallback parts whose members throw).</summary>
    public IEnumerable<GeneratedSourceResult> Models => GeneratedSources.Where(s => IsModel(s.SourceText.ToString()));

    /// <summary>The generated fallback parts: a declaration's partial members implemented by throwing.</summary>
    public IEnumerable<GeneratedSourceResult> Fallbacks => GeneratedSources.Where(s => !IsModel(s.SourceText.ToString()));

    private static bool IsModel(string source) => source.Contains(Generators::Dsl.Generators.Emit.NetworkEmitter.Banner, StringComparison.Ordinal);

    /// <summary>An empty compilation with every reference bound; each run adds its trees to it, so references bind once.</summary>
    private static readonly CSharpCompilation Empty = CSharpCompilation.Create(
        "UserCode",
        [],
        HostReferences.All,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>The user's files, each /0/{name}.</summary>
    public static CSharpCompilation Compile(IEnumerable<UserFile> files)
        => Empty.AddSyntaxTrees(files.Select(file => CSharpSyntaxTree.ParseText(
            file.Text, HostReferences.ParseOptions, path: UserFolder + file.Name, encoding: Encoding.UTF8)));

    /// <summary>Runs over the sources as /0/Test0.cs, /0/Test1.cs, ...</summary>
    public static Task<DeclarationRun> RunAsync(params string[] sources) => RunAsync(Files(sources));

    private static UserFile[] Files(string[] sources) => sources.Select((source, i) => new UserFile($"Test{i}.cs", source)).ToArray();

    public static async Task<DeclarationRun> RunAsync(IEnumerable<UserFile> files)
    {
        CSharpCompilation compilation = Compile(files);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new NetworkGenerator().AsSourceGenerator()],
            parseOptions: HostReferences.ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);

        var analyzerExceptions = new List<string>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: (exception, analyzer, _) =>
            {
                lock (analyzerExceptions)
                {
                    analyzerExceptions.Add(analyzer.GetType().Name + ": " + exception);
                }
            },
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false);
        ImmutableArray<Diagnostic> all = await output
            .WithAnalyzers([new NetworkDeclarationAnalyzer()], options)
            .GetAllDiagnosticsAsync(CancellationToken.None);

        return new DeclarationRun(driver.GetRunResult(), output, generatorDiagnostics, all, analyzerExceptions);
    }

    /// <summary>
    /// Calls both copies of <see cref="NetworkParser.Parse"/> (the analyzer's and the generator's) on every
    /// type that carries an attribute named Network; returns how many were parsed. Exceptions escape.
    /// </summary>
    public int ParseEveryNetwork()
    {
        int parsed = 0;
        foreach (SyntaxTree tree in OutputCompilation.SyntaxTrees)
        {
            SemanticModel model = OutputCompilation.GetSemanticModel(tree);
            foreach (BaseTypeDeclarationSyntax declaration in tree.GetRoot().DescendantNodes().OfType<BaseTypeDeclarationSyntax>())
            {
                if (model.GetDeclaredSymbol(declaration) is not INamedTypeSymbol type
                    || !type.GetAttributes().Any(a => a.AttributeClass?.Name is "NetworkAttribute" or "Network"))
                {
                    continue;
                }

                _ = NetworkParser.Parse(type, OutputCompilation, CancellationToken.None);
                _ = Generators::Dsl.Generators.Parsing.NetworkParser.Parse(type, OutputCompilation, CancellationToken.None);
                parsed++;
            }
        }

        return parsed;
    }

    /// <summary>No generator exception, no analyzer exception (AD0001), no 'generator failed' (CS8784/CS8785).</summary>
    public void AssertNoCrash()
    {
        foreach (GeneratorRunResult result in GeneratorResult.Results)
        {
            Assert.True(result.Exception is null, "The generator threw: " + result.Exception);
        }

        Assert.Empty(AnalyzerExceptions);
        Assert.DoesNotContain(AllDiagnostics, d => d.Id == "AD0001");
        Assert.DoesNotContain(GeneratorDiagnostics, d => d.Id is "CS8784" or "CS8785");
        Assert.DoesNotContain(AllDiagnostics, d => d.Id is "CS8784" or "CS8785");
    }
}

/// <summary>One user source file: its name (without folder) and text.</summary>
internal sealed record UserFile(string Name, string Text);
