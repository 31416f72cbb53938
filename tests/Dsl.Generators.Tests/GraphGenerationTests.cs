using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Dsl.Generators.Tests;

/// <summary>Graph networks and [Block] classes: their generated parts, their size against depth, and incrementality.</summary>
public sealed class GraphGenerationTests
{
    private const string PreNormBlock = """
        using Dsl;
        namespace Examples;
        [Block]
        public sealed partial class PreNormBlock
        {
            [LayerNorm] public partial Layer Norm { get; }
            [Dense(256)] public partial Layer Up { get; }
            [Gelu] public partial Layer Act { get; }
            [Dropout(0.1)] public partial Layer Drop { get; }
            [Dense(256)] public partial Layer Down { get; }
        }
        """;

    private static string DeepResidual(int repeat) => $$"""
        using Dsl;
        namespace Examples;
        [Network(Input = [40])]
        public sealed partial class DeepResidual
        {
            [Dense(256)] public partial Layer Embed { get; }
            [Repeat({{repeat}}), Residual] public partial Repeated<PreNormBlock> Blocks { get; }
            [RmsNorm] public partial Layer FinalNorm { get; }
            [Dense(10)] public partial Layer Head { get; }
        }
        """;

    private const string ResidualMlp = """
        using Dsl;
        namespace Examples;
        [Block]
        public sealed partial class Branch
        {
            [Dense(100), Relu] public partial Layer Linear { get; }
        }

        [Network(Input = [40])]
        public sealed partial class ResidualMlp
        {
            [Dense(100), Relu] public partial Layer Hidden1 { get; }
            [Residual(Scale = 0.5)] public partial Branch Hidden2 { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """;

    [Fact]
    public void A_graph_network_and_its_block_match_their_snapshots_and_compile()
    {
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(PreNormBlock, DeepResidual(8));
        Assert.Empty(result.Diagnostics);
        Assert.Null(result.Results.Single().Exception);
        Assert.Empty(GeneratorHarness.Errors(output));
        Dictionary<string, string> sources = result.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());
        Assert.Equal(["Examples.DeepResidual.Dsl.g.cs", "Examples.PreNormBlock.Dsl.g.cs"], sources.Keys.Order(StringComparer.Ordinal));
        SnapshotTests.AssertMatchesSnapshot("DeepResidual", sources["Examples.DeepResidual.Dsl.g.cs"]);
        SnapshotTests.AssertMatchesSnapshot("PreNormBlock", sources["Examples.PreNormBlock.Dsl.g.cs"]);
    }

    [Fact]
    public void A_residual_mlp_compiles_and_names_its_parameter_count()
    {
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(ResidualMlp);
        Assert.Empty(GeneratorHarness.Errors(output));
        string network = result.Results.Single().GeneratedSources.Single(s => s.HintName == "Examples.ResidualMlp.Dsl.g.cs").SourceText.ToString();

        // 40*100 + 100 + 100*100 + 100 + 100*10 + 10.
        Assert.Contains("private const int ParameterTotal = 15210;", network, StringComparison.Ordinal);
        Assert.Contains("builder.EndResidual(0.5f);", network, StringComparison.Ordinal);
    }

    [Fact]
    public void The_generated_file_does_not_grow_with_the_repeat_count()
    {
        string two = NetworkSource(GeneratorHarness.Run(PreNormBlock, DeepResidual(2)).Result);
        string many = NetworkSource(GeneratorHarness.Run(PreNormBlock, DeepResidual(64)).Result);

        // The two files differ in the count and the parameter total (and the layer count in the summary) alone.
        Assert.True(many.Length - two.Length <= 16, $"Repeat(2): {two.Length} chars, Repeat(64): {many.Length} chars");
        Assert.Equal(two.Split('\n').Length, many.Split('\n').Length);
    }

    [Fact]
    public void A_dense_chain_generates_a_file_that_follows_its_declaration()
    {
        // The MNIST-1D MLP at most 300 lines; a 200-layer declaration under 100 KB, and it compiles.
        string mlp = GeneratorHarness.Run(Declarations.Mnist1dMlp).Result.Results.Single().GeneratedSources.Single().SourceText.ToString();
        Assert.True(mlp.Split('\n').Length <= 300, $"the MNIST-1D MLP's file has {mlp.Split('\n').Length} lines");

        string layers = string.Concat(Enumerable.Range(0, 199).Select(i => $"    [Dense(100), Relu] public partial Layer Hidden{i} {{ get; }}\n"));
        string deep = "using Dsl;\nnamespace Examples;\n[Network(Input = [40])]\npublic sealed partial class Deep\n{\n" + layers + "    [Dense(10)] public partial Layer Logits { get; }\n}\n";
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(deep);
        Assert.Empty(GeneratorHarness.Errors(output));
        string source = result.Results.Single().GeneratedSources.Single().SourceText.ToString();
        Assert.True(source.Length < 100_000, $"the 200-layer declaration's file has {source.Length} chars");
    }

    [Fact]
    public void Editing_a_block_re_emits_the_networks_that_use_it_and_no_other()
    {
        CSharpCompilation first = GeneratorHarness.Compile(PreNormBlock, DeepResidual(2), Declarations.Mnist1dMlp);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(first);
        SyntaxTree block = first.SyntaxTrees.First();
        string wider = PreNormBlock.Replace("[Dense(256)] public partial Layer Up", "[Dense(512)] public partial Layer Up", StringComparison.Ordinal);
        CSharpCompilation second = first.ReplaceSyntaxTree(block, CSharpSyntaxTree.ParseText(wider, GeneratorHarness.ParseOptions, path: block.FilePath));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        IncrementalStepRunReason[] networks = [.. rerun.TrackedSteps[TrackingNames.Networks].SelectMany(s => s.Outputs).Select(o => o.Reason)];
        Assert.Equal(2, networks.Length);
        Assert.Single(networks, reason => reason == IncrementalStepRunReason.Modified);   // DeepResidual: its parameter count changed
        Assert.Single(networks, reason => reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged); // Mnist1dMlp
        Assert.Equal(IncrementalStepRunReason.Modified, rerun.TrackedSteps[TrackingNames.Blocks].Single().Outputs.Single().Reason);
    }

    private static string NetworkSource(GeneratorDriverRunResult result)
        => result.Results.Single().GeneratedSources.Single(s => s.HintName == "Examples.DeepResidual.Dsl.g.cs").SourceText.ToString();
}
