using System.Collections.Immutable;
using Dsl.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Dsl.Generators.Tests;

/// <summary>Compiles user sources against the running .NET and the Dsl runtime, and runs the generator over them.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ImmutableArray<MetadataReference> References = LoadReferences();

    public static CSharpCompilation Compile(params string[] sources)
        => CSharpCompilation.Create(
            "UserAssembly",
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"User{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(bool trackSteps = false)
        => CSharpGeneratorDriver.Create(
            [new NetworkGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator once; returns its result and the compilation with the generated files added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(params string[] sources)
    {
        CSharpCompilation compilation = Compile(sources);
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>Errors of the final compilation (user code plus generated code).</summary>
    public static IReadOnlyList<Diagnostic> Errors(Compilation compilation)
        => compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string platform = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        return platform.Split(Path.PathSeparator)
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) is "netstandard.dll" or "mscorlib.dll")
            .Append(typeof(Dsl.NetworkAttribute).Assembly.Location)
            .Append(typeof(ILGPU.Context).Assembly.Location) // generated GPU paths name ILGPU types
            .Distinct()
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }
}
