using Dsl.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// DSL0110: a deep post-norm residual stack without a declared warm-up, at the first post-norm norm; none with [Warmup],
/// none for a pre-norm stack (whose branch norms read the adds too) or a shallow one; the depth from .editorconfig; and
/// the fix that declares [Warmup(1000)], before and after. Also the training attributes' own argument checks.
/// </summary>
public sealed class PostNormWarmupTests
{
    private const string Blocks = """
        [Block]
        public sealed partial class PostNorm
        {
            [Dense(64, Init = Init.He), Relu] public partial Layer Up { get; }
            [Dense(64, Init = Init.He)] public partial Layer Down { get; }
        }

        [Block]
        public sealed partial class PostNormLayer
        {
            [Residual] public partial PostNorm Branch { get; }
            [LayerNorm] public partial Layer Norm { get; }
        }

        """;

    private static string PostNormNetwork(int depth, string classAttributes = "") => "using Dsl;\nnamespace Demo;\n" + Blocks + $$"""
        [Network(Input = [64])]{{classAttributes}}
        public sealed partial class Net
        {
            [Repeat({{depth}})] public partial Repeated<PostNormLayer> Stack { get; }
            [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
        }
        """;

    [Fact]
    public void ADeepPostNormStackWithoutWarmupIsReportedAtItsFirstNorm()
    {
        DeclarationRun run = DeclarationRun.Run(PostNormNetwork(8));
        Diagnostic warmup = Assert.Single(run.SignalDiagnostics, d => d.Id == "DSL0110");
        Assert.Equal(DiagnosticSeverity.Warning, warmup.Severity);
        Assert.Equal("Repeat(8)", warmup.Location.SourceTree!.GetText().ToString(warmup.Location.SourceSpan));
        string message = warmup.GetMessage();
        Assert.Contains("Network 'Net' normalises after 8 residual adds (post-norm, from 'Stack[0].Norm' on)", message, StringComparison.Ordinal);
        Assert.Contains("add [Warmup(1000)] to the network class", message, StringComparison.Ordinal);
        Assert.Equal("1000", warmup.Properties["DslFixValue"]);
    }

    [Theory]
    [InlineData(8, "\n[Warmup(200)]")]
    [InlineData(8, "\n[Warmup(200), CosineDecay(5000)]")]
    [InlineData(5, "")]
    public void AWarmupOrAShallowStackIsNotReported(int depth, string attributes)
    {
        DeclarationRun run = DeclarationRun.Run(PostNormNetwork(depth, attributes));
        run.AssertNoCrash();
        Assert.NotEmpty(run.Models);
        Assert.DoesNotContain(run.SignalDiagnostics, d => d.Id == "DSL0110");
    }

    [Fact]
    public void APreNormStackIsNotPostNorm()
    {
        DeclarationRun run = DeclarationRun.Run("""
            using Dsl;
            namespace Demo;
            [Block]
            public sealed partial class PreNorm
            {
                [LayerNorm] public partial Layer Norm { get; }
                [Dense(64, Init = Init.He), Relu] public partial Layer Up { get; }
                [Dense(64, Init = Init.He)] public partial Layer Down { get; }
            }

            [Network(Input = [64])]
            public sealed partial class Net
            {
                [Residual, Repeat(12)] public partial Repeated<PreNorm> Stack { get; }
                [LayerNorm] public partial Layer FinalNorm { get; }
                [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
            }
            """);
        run.AssertNoCrash();
        Assert.NotEmpty(run.Models);
        Assert.DoesNotContain(run.SignalDiagnostics, d => d.Id == "DSL0110");
    }

    [Fact]
    public Task TheDepthComesFromEditorConfig() => AnalyzerVerifier.VerifyWithEditorConfigAsync(
        "using Dsl;\nnamespace Demo;\n" + Blocks + """
        [Network(Input = [64])]
        public sealed partial class Net
        {
            [{|DSL0110:Repeat(3)|}] public partial Repeated<PostNormLayer> Stack { get; }
            [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
        }
        """,
        "dsl.signal.post_norm_depth = 3\n");

    [Fact]
    public Task TheFixDeclaresAWarmupAboveTheNetworkAttribute() => new FixTest
    {
        TestCode = "using Dsl;\nnamespace Demo;\n" + Blocks + """
            // The network.
            [Network(Input = [64])]
            public sealed partial class Net
            {
                [{|DSL0110:Repeat(8)|}] public partial Repeated<PostNormLayer> Stack { get; }
                [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
            }
            """,
        FixedCode = "using Dsl;\nnamespace Demo;\n" + Blocks + """
            // The network.
            [Warmup(1000)]
            [Network(Input = [64])]
            public sealed partial class Net
            {
                [Repeat(8)] public partial Repeated<PostNormLayer> Stack { get; }
                [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
            }
            """,
    }.RunAsync(CancellationToken.None);

    [Fact]
    public Task TheFixQualifiesTheAttributeWithoutAUsing() => new FixTest
    {
        TestCode = """
            namespace Demo
            {
                [Dsl.Block]
                public sealed partial class PostNorm
                {
                    [Dsl.Dense(64, Init = Dsl.Init.He), Dsl.Relu] public partial Dsl.Layer Up { get; }
                    [Dsl.Dense(64, Init = Dsl.Init.He)] public partial Dsl.Layer Down { get; }
                }

                [Dsl.Block]
                public sealed partial class PostNormLayer
                {
                    [Dsl.Residual] public partial PostNorm Branch { get; }
                    [Dsl.LayerNorm] public partial Dsl.Layer Norm { get; }
                }

                [Dsl.Network(Input = [64])]
                public sealed partial class Net
                {
                    [{|DSL0110:Dsl.Repeat(6)|}] public partial Dsl.Repeated<PostNormLayer> Stack { get; }
                    [Dsl.Dense(10, Init = Dsl.Init.Xavier)] public partial Dsl.Layer Head { get; }
                }
            }
            """,
        FixedCode = """
            namespace Demo
            {
                [Dsl.Block]
                public sealed partial class PostNorm
                {
                    [Dsl.Dense(64, Init = Dsl.Init.He), Dsl.Relu] public partial Dsl.Layer Up { get; }
                    [Dsl.Dense(64, Init = Dsl.Init.He)] public partial Dsl.Layer Down { get; }
                }

                [Dsl.Block]
                public sealed partial class PostNormLayer
                {
                    [Dsl.Residual] public partial PostNorm Branch { get; }
                    [Dsl.LayerNorm] public partial Dsl.Layer Norm { get; }
                }

                [Dsl.Warmup(1000)]
                [Dsl.Network(Input = [64])]
                public sealed partial class Net
                {
                    [Dsl.Repeat(6)] public partial Dsl.Repeated<PostNormLayer> Stack { get; }
                    [Dsl.Dense(10, Init = Dsl.Init.Xavier)] public partial Dsl.Layer Head { get; }
                }
            }
            """,
    }.RunAsync(CancellationToken.None);

    [Fact]
    public Task TrainingAttributesOutOfRangeAreErrorsAtTheirAttribute() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [8])]
        [{|DSL0008:Warmup(0)|}]
        [{|DSL0008:CosineDecay(100, FinalFactor = 1.5)|}]
        [{|DSL0008:ClipGradientNorm(-1)|}]
        public sealed partial class Net
        {
            [Dense(4)] public partial Layer Head { get; }
        }

        [Network(Input = [8])]
        [CosineDecay(100)]
        [{|DSL0004:StepDecay(10, 0.5)|}]
        public sealed partial class Both
        {
            [Dense(4)] public partial Layer Head { get; }
        }

        [Network(Input = [8])]
        [{|DSL0008:{|DSL0008:StepDecay(0, 2.0)|}|}]
        public sealed partial class BadStep
        {
            [Dense(4)] public partial Layer Head { get; }
        }
        """);

    private sealed class FixTest : CSharpCodeFixTest<NetworkDeclarationAnalyzer, AddWarmupCodeFix, DefaultVerifier>
    {
        public FixTest()
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(HostReferences.All);
            FixedState.AdditionalReferences.AddRange(HostReferences.All);
            CodeFixTestBehaviors = CodeFixTestBehaviors.SkipFixAllCheck;
            CompilerDiagnostics = CompilerDiagnostics.Errors;
        }

        protected override bool IsCompilerDiagnosticIncluded(Diagnostic diagnostic, CompilerDiagnostics compilerDiagnostics)
            => diagnostic.Id is not "CS9248" && base.IsCompilerDiagnosticIncluded(diagnostic, compilerDiagnostics);

        protected override ParseOptions CreateParseOptions()
            => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(HostReferences.ParseOptions.LanguageVersion);
    }
}
