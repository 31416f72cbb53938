namespace Dsl.Build.Tests;

/// <summary>
/// Every DSL diagnostic through a real <c>dotnet build</c> of a project that references the package:
/// Consumers/Diagnostics holds one file per diagnostic (a signal problem may bring DSL0101 or DSL0102 along, each
/// pointing at the rule that names its cause) and one valid network. DSL0107 is information, which dotnet build does
/// not print.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class DiagnosticsBuildTests(LocalPackage package)
{
    /// <summary>Each file's diagnostic, and the text it starts at.</summary>
    private static readonly (string File, string Severity, string Id, string At)[] Expected =
    [
        ("Dsl0001.cs", "error", "DSL0001", "Generic"),
        ("Dsl0002.cs", "error", "DSL0002", "Empty"),
        ("Dsl0003.cs", "error", "DSL0003", "Dense(0)"),
        ("Dsl0004.cs", "error", "DSL0004", "Tanh"),
        ("Dsl0005.cs", "error", "DSL0005", "Second"),
        ("Dsl0006.cs", "error", "DSL0006", "Dense(100)"),
        ("Dsl0007.cs", "error", "DSL0007", "Logits"),
        ("Dsl0008.cs", "error", "DSL0008", "Dense(2, Init = (Init)99)"),
        ("Dsl0009.cs", "error", "DSL0009", "Predict"),
        ("Dsl0010.cs", "error", "DSL0010", "(int width)"),
        ("Dsl0011.cs", "warning", "DSL0011", "Label { get; set; }"),
        ("Dsl0101.cs", "warning", "DSL0101", "Repeat(10)"),
        ("Dsl0101.cs", "warning", "DSL0102", "Repeat(10)"),
        ("Dsl0102.cs", "warning", "DSL0102", "Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer C"),
        ("Dsl0103.cs", "warning", "DSL0103", "Residual]"),
        ("Dsl0103.cs", "warning", "DSL0101", "Residual]"),
        ("Dsl0103.cs", "warning", "DSL0102", "Residual]"),
        ("Dsl0104.cs", "warning", "DSL0104", "Network(Input = [64])]"),
        ("Dsl0104.cs", "warning", "DSL0102", "Repeat(12)"),
        ("Dsl0105.cs", "warning", "DSL0105", "Residual]"),
        ("Dsl0106.cs", "warning", "DSL0106", "Dense(64, Init = Init.He)] public partial Layer Hidden"),
        ("Dsl0108.cs", "warning", "DSL0108", "BatchNorm]"),
        ("Dsl0109.cs", "warning", "DSL0109", "Dropout(0.5)"),
        ("Dsl0110.cs", "warning", "DSL0110", "Repeat(8)"),
    ];


    [Fact]
    public void Each_diagnostic_appears_at_its_file_line_and_column_and_nothing_else_does()
    {
        string project = package.Consumer("Diagnostics");
        CommandResult build = package.Dotnet(project, "build", "-c", "Release", "-nologo", "-tl:off", "-v:q");
        Assert.NotEqual(0, build.ExitCode);
        string[] expected = Expected
            .Select(e => (e.File, Position: Find(Path.Combine(project, e.File), e.At), e.Severity, e.Id))
            .Select(e => $"{e.File}({e.Position.Line},{e.Position.Column}): {e.Severity} {e.Id}")
            .Order(StringComparer.Ordinal)
            .ToArray();
        string[] actual = build.Diagnostics()
            .Select(d => $"{d.File}({d.Line},{d.Column}): {d.Severity} {d.Id}")
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.True(expected.SequenceEqual(actual), "expected:\n" + string.Join("\n", expected) + "\nbuilt:\n" + build.Output);
        Assert.All(build.Diagnostics(), d => Assert.Contains("docs/diagnostics/" + d.Id + ".md", d.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void With_the_errors_made_warnings_the_project_builds_its_valid_network_trains_and_an_invalid_one_throws_naming_its_diagnostic()
    {
        CommandResult run = package.Dotnet(package.Consumer("Diagnostics"), "run", "-c", "Release", "-p:DslErrorsAsWarnings=true");
        Assert.True(run.ExitCode == 0, run.Output);
        string[] lines = run.Output.Split('\n').Select(l => l.Trim()).ToArray();
        string classifier = Assert.Single(lines, l => l.StartsWith("Classifier: first loss ", StringComparison.Ordinal));
        string[] losses = classifier.Replace("Classifier: first loss ", string.Empty, StringComparison.Ordinal).Split(", last loss ");
        Assert.True(double.Parse(losses[1], System.Globalization.CultureInfo.InvariantCulture) < double.Parse(losses[0], System.Globalization.CultureInfo.InvariantCulture) / 2, classifier);
        string thrown = Assert.Single(lines, l => l.StartsWith("ZeroWidth.Logits: ", StringComparison.Ordinal));
        Assert.Equal("ZeroWidth.Logits: Network 'ZeroWidth' was not generated: DSL0003: Dense layer 'Logits' has width 0; a width must be positive. Build the project to see every diagnostic.", thrown);
    }

    [Fact]
    public void A_type_that_hides_a_runtime_name_fails_dotnet_build_with_DSL0012_at_the_network()
    {
        string project = package.Consumer("HiddenName");
        CommandResult build = package.Dotnet(project, "build", "-c", "Release", "-nologo", "-tl:off", "-v:q");
        Assert.NotEqual(0, build.ExitCode);
        BuildDiagnostic error = Assert.Single(build.Diagnostics(), d => d.Severity == "error");
        (int line, int column) = Find(Path.Combine(project, "Program.cs"), "Hidden\n");
        Assert.Equal(("Program.cs", line, column, "DSL0012"), (error.File, error.Line, error.Column, error.Id));
        Assert.Contains("Type 'Dsl.Ops' declared in this project hides the referenced 'Dsl.Ops'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The 1-based line and column where <paramref name="text"/> first occurs in the file.</summary>
    private static (int Line, int Column) Find(string path, string text)
    {
        string source = File.ReadAllText(path).ReplaceLineEndings("\n");
        int at = source.IndexOf(text, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{text}' is not in {path}");
        int line = source.Take(at).Count(c => c == '\n') + 1;
        int column = at - (source.LastIndexOf('\n', Math.Max(at - 1, 0)) + 1) + 1;
        return (line, column);
    }
}
