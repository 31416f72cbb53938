using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Dsl.Generators.Tests;

/// <summary>
/// The generated source of each declaration must equal its committed baseline
/// Snapshots/NAME.verified.cs. On a mismatch the new output is written beside it as
/// NAME.received.cs (git-ignored): review the difference, then rename it to accept.
/// </summary>
public sealed class SnapshotTests
{
    [Theory]
    [MemberData(nameof(Declarations.All), MemberType = typeof(Declarations))]
    public void Generated_source_matches_the_verified_snapshot(string name, string source)
    {
        (GeneratorDriverRunResult result, _) = GeneratorHarness.Run(source);
        GeneratedSourceResult generated = Assert.Single(result.Results.Single().GeneratedSources);
        AssertMatchesSnapshot(name, generated.SourceText.ToString());
    }

    [Theory]
    [MemberData(nameof(Declarations.Invalid), MemberType = typeof(Declarations))]
    public void An_invalid_declaration_gets_a_part_that_throws_and_compiles_cleanly(string name, string source)
    {
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Null(result.Results.Single().Exception);
        GeneratedSourceResult generated = Assert.Single(result.Results.Single().GeneratedSources);
        AssertMatchesSnapshot(name, generated.SourceText.ToString());

        // Not an error nor a warning anywhere: the user's files declare nothing wrong in C#, only in Dsl.
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    internal static void AssertMatchesSnapshot(string name, string actual)
    {
        string verifiedPath = Path.Combine(SnapshotDirectory(), name + ".verified.cs");
        string receivedPath = Path.Combine(SnapshotDirectory(), name + ".received.cs");
        string? expected = File.Exists(verifiedPath) ? File.ReadAllText(verifiedPath) : null;
        if (expected != actual)
        {
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"Generated source for {name} differs from {verifiedPath}; the new output is in {receivedPath}.");
        }

        File.Delete(receivedPath);
    }

    [Theory]
    [MemberData(nameof(Declarations.All), MemberType = typeof(Declarations))]
    public void Generated_source_compiles_without_errors(string name, string source)
    {
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(source);
        Assert.Empty(result.Diagnostics);
        Assert.Null(result.Results.Single().Exception);
        IReadOnlyList<Diagnostic> errors = GeneratorHarness.Errors(output);
        Assert.True(errors.Count == 0, name + ":\n" + string.Join("\n", errors));
    }

    [Fact]
    public void Layers_of_equal_widths_share_one_constant_widths_struct()
    {
        const string repeated = """
            using Dsl;
            [Network(Input = [16])]
            public partial class Repeated
            {
                [Dense(16), Relu] public partial Layer A { get; }
                [Dense(16), Relu] public partial Layer B { get; }
                [Dense(16), Tanh] public partial Layer C { get; }
                [Dense(3)] public partial Layer Logits { get; }
            }
            """;
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(repeated);
        Assert.Empty(GeneratorHarness.Errors(output));
        string generated = result.Results.Single().GeneratedSources.Single().SourceText.ToString();

        Assert.Single(Occurrences(generated, "internal readonly struct W16x16 : global::Dsl.Gpu.IDenseWidths"));
        Assert.Single(Occurrences(generated, "internal readonly struct W16x3 : global::Dsl.Gpu.IDenseWidths"));
        Assert.Equal(3, Occurrences(generated, ", GpuWidths.W16x16>(").Count);
        Assert.Single(Occurrences(generated, ", GpuWidths.W16x3>(\"Logits\""));
        Assert.Contains("public int FanIn => 16;", generated, StringComparison.Ordinal);
    }

    private static List<int> Occurrences(string text, string value)
    {
        var found = new List<int>();
        for (int at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + 1, StringComparison.Ordinal))
        {
            found.Add(at);
        }

        return found;
    }

    [Fact]
    public void Hint_name_includes_the_namespace_and_the_generated_suffix()
    {
        (GeneratorDriverRunResult result, _) = GeneratorHarness.Run(Declarations.Mnist1dMlp);
        Assert.Equal("Examples.Mnist1dMlp.Dsl.g.cs", result.Results.Single().GeneratedSources.Single().HintName);
    }

    [Fact]
    public void Every_generated_member_name_is_reserved_against_collisions()
    {
        // The parser reports DSL0009 for user members named like generated ones; its list must cover what the emitter writes.
        (_, Compilation output) = GeneratorHarness.Run(Declarations.GeluSiluNoBias);
        INamedTypeSymbol network = output.GetTypeByMetadataName("Fixtures.Nets.GeluSiluNet")!;
        string[] layers = ["Up", "Middle", "Head"];
        string[] generated = network.GetMembers()
            .Where(m => !m.IsImplicitlyDeclared && m is not IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor or MethodKind.PropertyGet })
            .Select(m => m.Name)
            .Where(name => !layers.Contains(name))
            .Distinct()
            .ToArray();
        Assert.NotEmpty(generated);
        Assert.All(generated, name => Assert.True(Dsl.Generators.Parsing.GeneratedMembers.IsReserved(name), $"generated member '{name}' is not in GeneratedMembers"));
    }

    private static string SnapshotDirectory([CallerFilePath] string thisFile = "")
        => Path.Combine(Path.GetDirectoryName(thisFile)!, "Snapshots");
}
