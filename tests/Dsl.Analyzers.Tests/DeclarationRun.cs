extern alias Generators;

using System.Collections.Immutable;
using System.Text;
using Dsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NetworkGenerator = Generators::Dsl.Generators.NetworkGenerator;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// What the compiler does with user code: parse it, run <see cref="NetworkGenerator"/>, then run
/// <see cref="NetworkDeclarationAnalyzer"/> over the compilation that includes the generated files.
/// Records every exception the generator or the analyzer throws instead of letting it escape.
/// </summary>
internal sealed class DeclarationRun
{
    private readonly Lazy<ImmutableArray<Diagnostic>> _generatedFileDiagnostics;

    private DeclarationRun(
        GeneratorDriverRunResult generatorResult,
        Compilation outputCompilation,
        ImmutableArray<Diagnostic> generatorDiagnostics,
        ImmutableArray<Diagnostic> userFileDiagnostics,
        ImmutableArray<Diagnostic> analyzerDiagnostics,
        IReadOnlyList<string> analyzerExceptions)
    {
        GeneratorResult = generatorResult;
        OutputCompilation = outputCompilation;
        GeneratorDiagnostics = generatorDiagnostics;
        UserFileDiagnostics = userFileDiagnostics;
        AnalyzerDiagnostics = analyzerDiagnostics;
        AnalyzerExceptions = analyzerExceptions;
        _generatedFileDiagnostics = new Lazy<ImmutableArray<Diagnostic>>(() => outputCompilation.SyntaxTrees
            .Where(IsGenerated)
            .SelectMany(tree => outputCompilation.GetSemanticModel(tree).GetDiagnostics())
            .ToImmutableArray());
    }

    public GeneratorDriverRunResult GeneratorResult { get; }

    /// <summary>The user's trees plus the generated ones.</summary>
    public Compilation OutputCompilation { get; }

    /// <summary>What the driver reported: CS8784/CS8785 when a generator throws, and the generator's own DSL diagnostics.</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

    /// <summary>The compiler's diagnostics located in the user's files (binds only those files' bodies).</summary>
    public ImmutableArray<Diagnostic> UserFileDiagnostics { get; }

    /// <summary>The compiler's diagnostics located in the generated files (computed when first read: binding them is most of a run's cost).</summary>
    public ImmutableArray<Diagnostic> GeneratedFileDiagnostics => _generatedFileDiagnostics.Value;

    /// <summary>What <see cref="NetworkDeclarationAnalyzer"/> reported.</summary>
    public ImmutableArray<Diagnostic> AnalyzerDiagnostics { get; }

    /// <summary>Compiler and analyzer diagnostics of <see cref="OutputCompilation"/>.</summary>
    public IEnumerable<Diagnostic> AllDiagnostics => UserFileDiagnostics.Concat(GeneratedFileDiagnostics).Concat(AnalyzerDiagnostics);

    public IReadOnlyList<string> AnalyzerExceptions { get; }

    public IEnumerable<Diagnostic> Errors => AllDiagnostics.Concat(GeneratorDiagnostics).Where(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Errors located in the user's files (or nowhere), not in generated ones.</summary>
    public IEnumerable<Diagnostic> UserErrors => Errors.Where(d => !d.Location.IsInSource || !IsGenerated(d.Location.SourceTree!));

    /// <summary>Errors located in the generated files.</summary>
    public IEnumerable<Diagnostic> GeneratedErrors => Errors.Where(d => d.Location.IsInSource && IsGenerated(d.Location.SourceTree!));

    /// <summary>The user's files are /0/{name}; any other tree is the generator's.</summary>
    private static bool IsGenerated(SyntaxTree tree) => !tree.FilePath.StartsWith(UserFolder, StringComparison.Ordinal);

    private const string UserFolder = "/0/";

    /// <summary>The declaration diagnostics the analyzer reported (DSL0001 to DSL0012, category Dsl.Declaration).</summary>
    public IEnumerable<Diagnostic> DslDiagnostics => AnalyzerDiagnostics.Where(d => d.Id.StartsWith("DSL", StringComparison.Ordinal) && d.Descriptor.Category == "Dsl.Declaration");

    /// <summary>What signal propagation and the ordering rules reported (DSL0101 on, category Dsl.Signal).</summary>
    public IEnumerable<Diagnostic> SignalDiagnostics => AnalyzerDiagnostics.Where(d => d.Descriptor.Category == "Dsl.Signal");

    /// <summary>The generated files' text, by hint name.</summary>
    public IEnumerable<GeneratedSourceResult> GeneratedSources => GeneratorResult.Results.SelectMany(r => r.GeneratedSources);

    /// <summary>The generated files that hold a network's model (the others are fallback parts whose members throw).</summary>
    public IEnumerable<GeneratedSourceResult> Models => GeneratedSources.Where(s => IsModel(s.SourceText.ToString()));

    /// <summary>The generated fallback parts: a declaration's partial members implemented by throwing (a valid block's file is neither).</summary>
    public IEnumerable<GeneratedSourceResult> Fallbacks => GeneratedSources.Where(s => s.SourceText.ToString().Contains(Generators::Dsl.Generators.Emit.FallbackEmitter.Banner, StringComparison.Ordinal));

    private static bool IsModel(string source) => source.Contains(Generators::Dsl.Generators.Emit.GraphEmitter.Banner, StringComparison.Ordinal);

    /// <summary>
    /// An empty compilation; each run adds its trees to it, so runs share the bound references. Single-threaded:
    /// the fuzz test runs cases in parallel, and on two cores a concurrent build of one compilation is slower.
    /// </summary>
    private static readonly CSharpCompilation Empty = CSharpCompilation.Create(
        "UserCode",
        [],
        HostReferences.All,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, concurrentBuild: false));

    /// <summary>The user's files, each /0/{name}.</summary>
    public static CSharpCompilation Compile(IEnumerable<UserFile> files)
        => Empty.AddSyntaxTrees(files.Select(file => CSharpSyntaxTree.ParseText(
            file.Text, HostReferences.ParseOptions, path: UserFolder + file.Name, encoding: Encoding.UTF8)));

    /// <summary>Runs over the sources as /0/Test0.cs, /0/Test1.cs, ...</summary>
    public static DeclarationRun Run(params string[] sources) => Run(Files(sources));

    private static UserFile[] Files(string[] sources) => sources.Select((source, i) => new UserFile($"Test{i}.cs", source)).ToArray();

    public static DeclarationRun Run(IEnumerable<UserFile> files)
    {
        CSharpCompilation compilation = Compile(files);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new NetworkGenerator().AsSourceGenerator()],
            parseOptions: HostReferences.ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);

        // The analyzer's one action, called for every type of every file, as the compiler calls it (a whole
        // CompilationWithAnalyzers would bind the generated files a second time); what it throws is recorded as
        // the compiler would record it (AD0001). The compiler's diagnostics of the user's files come next; those of
        // the generated files only when asked for.
        var analyzerExceptions = new List<string>();
        ImmutableArray<Diagnostic>.Builder analyzer = ImmutableArray.CreateBuilder<Diagnostic>();
        var analyzed = new HashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
        foreach (SyntaxTree tree in output.SyntaxTrees)
        {
            SemanticModel model = output.GetSemanticModel(tree);
            foreach (BaseTypeDeclarationSyntax declaration in tree.GetRoot().DescendantNodes().OfType<BaseTypeDeclarationSyntax>())
            {
                if (model.GetDeclaredSymbol(declaration) is INamedTypeSymbol type && analyzed.Add(type))
                {
                    try
                    {
                        NetworkDeclarationAnalyzer.Analyze(type, output, analyzer.Add, CancellationToken.None);
                    }
                    catch (Exception exception)
                    {
                        analyzerExceptions.Add(nameof(NetworkDeclarationAnalyzer) + " on " + type.Name + ": " + exception);
                    }
                }
            }
        }

        ImmutableArray<Diagnostic> user = output.SyntaxTrees
            .Where(t => !IsGenerated(t))
            .SelectMany(tree => output.GetSemanticModel(tree).GetDiagnostics())
            .ToImmutableArray();
        return new DeclarationRun(driver.GetRunResult(), output, generatorDiagnostics, user, analyzer.ToImmutable(), analyzerExceptions);
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
