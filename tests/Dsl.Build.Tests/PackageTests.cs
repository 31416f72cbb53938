using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Dsl.Build.Tests;

/// <summary>The Dsl package: what it holds, and that a project referencing it gets the generator and the analyzers.</summary>
[Collection(PackageCollection.Name)]
public sealed partial class PackageTests(LocalPackage package)
{
    [Fact]
    public void The_package_holds_the_runtime_in_lib_and_the_generator_analyzers_and_code_fixes_in_analyzers()
    {
        using ZipArchive archive = ZipFile.OpenRead(package.Package);
        string[] files = archive.Entries
            .Select(e => e.FullName)
            .Where(name => !name.StartsWith("_rels/", StringComparison.Ordinal) && !name.StartsWith("package/", StringComparison.Ordinal) && name != "[Content_Types].xml")
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(
            [
                "Dsl.nuspec",
                "README.md",
                "analyzers/dotnet/cs/Dsl.Analyzers.dll",
                "analyzers/dotnet/cs/Dsl.CodeFixes.dll",
                "analyzers/dotnet/cs/Dsl.Generators.dll",
                "lib/net10.0/Dsl.dll",
                "lib/net10.0/Dsl.xml",
            ],
            files);

        using ZipArchive symbols = ZipFile.OpenRead(package.SymbolPackage);
        Assert.Contains(symbols.Entries, e => e.FullName == "lib/net10.0/Dsl.pdb");
    }

    [Fact]
    public void The_package_says_what_it_is_and_depends_only_on_the_runtime_s_packages()
    {
        using ZipArchive archive = ZipFile.OpenRead(package.Package);
        using Stream stream = archive.GetEntry("Dsl.nuspec")!.Open();
        XElement metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Value(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;

        Assert.Equal("Dsl", Value("id"));
        Assert.Equal(package.Version, Value("version"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.StartsWith("Neural networks declared as attributed C# partial classes", Value("description"), StringComparison.Ordinal);
        Assert.DoesNotContain("Package Description", Value("description"), StringComparison.Ordinal);
        XElement repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal("git", repository.Attribute("type")!.Value);
        Assert.StartsWith("https://", repository.Attribute("url")!.Value, StringComparison.Ordinal);

        string[] dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["ILGPU", "System.IO.Hashing", "System.Numerics.Tensors"], dependencies);
    }

    [Fact]
    public void Packing_the_whole_solution_gives_the_Dsl_package_alone()
    {
        string output = Path.Combine(package.Root, "solution-pack");
        CommandResult pack = package.Dotnet(package.Root, "pack", package.Solution, "-c", package.Configuration, "--no-build", "-o", output, "-p:Version=" + package.Version);
        Assert.True(pack.ExitCode == 0, pack.Output);
        Assert.Equal(
            [$"Dsl.{package.Version}.nupkg", $"Dsl.{package.Version}.snupkg"],
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_project_that_references_the_package_declares_a_network_and_trains_it()
    {
        CommandResult run = package.Dotnet(package.Consumer("Training"), "run", "-c", "Release");
        Assert.True(run.ExitCode == 0, run.Output);
        Match result = TrainingLine().Match(run.Output);
        Assert.True(result.Success, run.Output);
        double first = double.Parse(result.Groups["first"].Value, CultureInfo.InvariantCulture);
        double last = double.Parse(result.Groups["last"].Value, CultureInfo.InvariantCulture);
        Assert.Equal("131", result.Groups["parameters"].Value); // 4*16 + 16 + 16*3 + 3
        Assert.True(last < first / 2, $"the loss went from {first} to {last}");
        Assert.True(double.Parse(result.Groups["accuracy"].Value, CultureInfo.InvariantCulture) >= 0.9, run.Output);
    }

    [Fact]
    public void A_shape_mistake_fails_dotnet_build_with_DSL0006_at_its_attribute_and_no_compiler_error()
    {
        CommandResult build = package.Dotnet(package.Consumer("ShapeMistake"), "build", "-c", "Release", "-nologo", "-tl:off", "-v:q");
        Assert.NotEqual(0, build.ExitCode);
        BuildDiagnostic only = Assert.Single(build.Diagnostics());
        Assert.Equal(("Program.cs", 8, 6, "error", "DSL0006"), (only.File, only.Line, only.Column, only.Severity, only.Id));
        Assert.Contains("expects one-dimensional input (features), but receives shape [1, 40]", only.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CS9248", build.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dense_layer_after_a_convolution_fails_dotnet_build_with_DSL0006_naming_the_flatten_fix()
    {
        CommandResult build = package.Dotnet(package.Consumer("ConvShapeMistake"), "build", "-c", "Release", "-nologo", "-tl:off", "-v:q");
        Assert.NotEqual(0, build.ExitCode);
        BuildDiagnostic only = Assert.Single(build.Diagnostics());
        Assert.Equal(("Program.cs", 9, 6, "error", "DSL0006"), (only.File, only.Line, only.Column, only.Severity, only.Id));
        Assert.Contains(
            "Dense layer 'Logits' of network 'ConvShapeMistake' reads one-dimensional input (features), but receives shape [25, 19]; insert [Flatten] public partial Layer Flatten { get; } before it to read the 475 floats as features",
            only.Message,
            StringComparison.Ordinal);
        Assert.Contains("docs/diagnostics/DSL0006.md", only.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CS9248", build.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_project_that_references_the_package_declares_a_residual_network_of_blocks_and_trains_it()
    {
        CommandResult run = package.Dotnet(package.Consumer("GraphTraining"), "run", "-c", "Release");
        Assert.True(run.ExitCode == 0, run.Output);
        Match result = TrainingLine().Match(run.Output);
        Assert.True(result.Success, run.Output);
        double first = double.Parse(result.Groups["first"].Value, CultureInfo.InvariantCulture);
        double last = double.Parse(result.Groups["last"].Value, CultureInfo.InvariantCulture);

        // Embed 4*8 + 8; per block LayerNorm 2*8, Up 8*16 + 16, Down 16*8 + 8; RmsNorm 8; Logits 8*3 + 3.
        Assert.Equal("667", result.Groups["parameters"].Value);
        Assert.True(last < first / 2, $"the loss went from {first} to {last}");
        Assert.True(double.Parse(result.Groups["accuracy"].Value, CultureInfo.InvariantCulture) >= 0.9, run.Output);

        // Embed, 2 x (Norm, Up, Act, Drop, Down and the residual add), FinalNorm and Logits.
        Assert.Contains("layers 15, Blocks[1].Up 128 weights", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shape_mistake_inside_a_repeated_block_fails_dotnet_build_at_the_block_s_attribute_and_at_its_use()
    {
        CommandResult build = package.Dotnet(package.Consumer("BlockShapeMistake"), "build", "-c", "Release", "-nologo", "-tl:off", "-v:q");
        Assert.NotEqual(0, build.ExitCode);
        IReadOnlyList<BuildDiagnostic> diagnostics = build.Diagnostics();
        Assert.Equal(
            [("Blocks.cs", 13, 6, "error", "DSL0006"), ("Program.cs", 9, 6, "error", "DSL0006")],
            diagnostics.Select(d => (d.File, d.Line, d.Column, d.Severity, d.Id)).Order());
        Assert.All(diagnostics, d => Assert.Contains("residual 'Blocks[0].Inner' of network 'BlockShapeMistake' adds its branch to its input, but block 'Narrow' maps 16 features to 8", d.Message, StringComparison.Ordinal));
        Assert.DoesNotContain("CS9248", build.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_network_class_that_is_not_partial_fails_dotnet_build_with_DSL0001_beside_the_compiler_s_errors()
    {
        // No generated part can join the class, so the compiler reports its partial layer as unimplemented; with
        // that error a build reports no analyzer diagnostic, and the generator reports DSL0001 itself.
        CommandResult build = package.Dotnet(package.Consumer("NotPartial"), "build", "-c", "Release", "-nologo", "-tl:off", "-v:q");
        Assert.NotEqual(0, build.ExitCode);
        IReadOnlyList<BuildDiagnostic> diagnostics = build.Diagnostics();
        Assert.Contains(diagnostics, d => (d.File, d.Line, d.Column, d.Severity, d.Id) == ("Program.cs", 6, 21, "error", "DSL0001"));
        Assert.All(diagnostics, d => Assert.Contains(d.Id, new[] { "DSL0001", "CS0751", "CS9248" }));
    }

    // "parameters 131, first loss 1.1085, last loss 0.1292, accuracy 1.0000"
    [GeneratedRegex(@"parameters (?<parameters>\d+), first loss (?<first>[0-9.]+), last loss (?<last>[0-9.]+), accuracy (?<accuracy>[0-9.]+)")]
    private static partial Regex TrainingLine();
}
