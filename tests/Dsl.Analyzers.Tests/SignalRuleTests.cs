using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// The signal rules (DSL0101 to DSL0109), each at the attribute it names, with its numbers; a network with none of the
/// problems gets none; the thresholds come from .editorconfig; and, over the signal corpus of tests/Dsl.Tests, the
/// analyzers' verdicts agree with the verdicts the runtime measures there.
/// </summary>
public sealed partial class SignalRuleTests
{
    [Fact]
    public Task AHeInitialisedReluNetworkHasNoSignalDiagnostic() => AnalyzerVerifier.VerifyAsync(signal: true, """
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100, Init = Init.He), Relu] public partial Layer Hidden1 { get; }
            [Dense(100, Init = Init.He), Relu] public partial Layer Hidden2 { get; }
            [Dense(10, Init = Init.He)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public async Task PyTorchsDefaultOnADeepReluStackVanishesAndHeIsTheFix()
    {
        DeclarationRun run = DeclarationRun.Run("""
            using Dsl;
            namespace Demo;
            [Block]
            public sealed partial class Hidden
            {
                [Dense(256), Relu] public partial Layer Dense { get; }
            }

            [Network(Input = [256])]
            public sealed partial class Deep
            {
                [Repeat(10)] public partial Repeated<Hidden> Stack { get; }
                [Dense(10)] public partial Layer Head { get; }
            }
            """);
        Diagnostic forward = Assert.Single(run.SignalDiagnostics, d => d.Id == "DSL0101");
        Diagnostic backward = Assert.Single(run.SignalDiagnostics, d => d.Id == "DSL0102");
        Assert.Equal(2, run.SignalDiagnostics.Count());
        string forwardMessage = forward.GetMessage();
        Assert.Contains("forward signal's second moment shrinks by", forwardMessage, StringComparison.Ordinal);
        Assert.Contains("over network 'Deep' (11 layers)", forwardMessage, StringComparison.Ordinal);
        Assert.Contains("Init = Init.He on every layer would keep it at 2", forwardMessage, StringComparison.Ordinal);
        // With PyTorch's default and no bias the factor is 1/6 per square ReLU layer; its bias lifts the floor.
        Assert.Contains("gradient's squared norm shrinks by 5.", backward.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("e-9 over network 'Deep'", backward.GetMessage(), StringComparison.Ordinal);
        // Both at the network's property that repeats the block, naming the layer inside it where the signal leaves the band;
        // the fix's additional locations are every layer the initialiser changes.
        Assert.All(run.SignalDiagnostics, d => Assert.Equal("Repeat(10)", Text(d)));
        Assert.Contains("from 'Stack[1].Dense' on", forwardMessage, StringComparison.Ordinal);
        Assert.Equal(["Dense(10)", "Dense(256)"], forward.AdditionalLocations.Select(l => l.SourceTree!.GetText().ToString(l.SourceSpan)).Order().ToArray());
        await Task.CompletedTask;
    }

    [Fact]
    public Task ASigmoidStackGetsTheGradientWarningAndNoInitialiserFixesIt() => AnalyzerVerifier.VerifyAsync(signal: true, """
        using Dsl;
        namespace Demo;
        [Network(Input = [64])]
        public sealed partial class Sigmoids
        {
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer A { get; }
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer B { get; }
            [{|DSL0102:Dense(128, Init = Init.Xavier)|}, Sigmoid] public partial Layer C { get; }
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer D { get; }
            [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public void AnUnnormalisedReluResidualStackGrowsExponentiallyAndTheScaleThatKeepsItIsNamed()
    {
        DeclarationRun run = DeclarationRun.Run("""
            using Dsl;
            namespace Demo;
            [Block]
            public sealed partial class Branch
            {
                [Dense(256, Init = Init.He), Relu] public partial Layer Up { get; }
                [Dense(256, Init = Init.He)] public partial Layer Down { get; }
            }

            [Network(Input = [64])]
            public sealed partial class Stack
            {
                [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
                [Repeat(8), Residual] public partial Repeated<Branch> Blocks { get; }
                [Dense(10, Init = Init.He)] public partial Layer Head { get; }
            }
            """);
        Diagnostic growth = Assert.Single(run.SignalDiagnostics, d => d.Id == "DSL0103");
        // The branch's gain is 2 (He Dense-ReLU-Dense on an un-rectified stream): the stream triples per block, 3^8.
        Assert.Equal(
            "The residual stream of 'Blocks' in network 'Stack' grows by 6.56e+3 over 8 blocks at initialisation: each branch adds 2 times the stream's second moment, with no normalisation in it; scale each branch by 0.2 or less ([Residual(Scale = 0.2)]), zero-initialise the branch's last layer (Init = Init.Zero), or start the branch with a LayerNorm",
            growth.GetMessage());
        Assert.Equal("Residual", Text(growth));
        Assert.Contains(run.SignalDiagnostics, d => d.Id == "DSL0101" && d.GetMessage().Contains("DSL0103 names the cause and its fix at 'Blocks'", StringComparison.Ordinal));
    }

    [Fact]
    public void TheSuggestedScaleKeepsTheStreamInTheBand()
    {
        DeclarationRun run = DeclarationRun.Run("""
            using Dsl;
            namespace Demo;
            [Block]
            public sealed partial class Branch
            {
                [Dense(256, Init = Init.He), Relu] public partial Layer Up { get; }
                [Dense(256, Init = Init.He)] public partial Layer Down { get; }
            }

            [Network(Input = [64])]
            public sealed partial class Stack
            {
                [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
                [Repeat(8), Residual(Scale = 0.2)] public partial Repeated<Branch> Blocks { get; }
                [Dense(10, Init = Init.He)] public partial Layer Head { get; }
            }
            """);
        Assert.Empty(run.SignalDiagnostics);
    }

    [Fact]
    public Task APreNormStackWithoutAFinalNormIsReportedAtItsProperty() => AnalyzerVerifier.VerifyAsync(signal: true, """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class PreNorm
        {
            [LayerNorm] public partial Layer Norm { get; }
            [Dense(128)] public partial Layer Up { get; }
            [Gelu] public partial Layer Act { get; }
            [Dense(128)] public partial Layer Down { get; }
        }

        [Network(Input = [128])]
        public sealed partial class Encoder
        {
            [Repeat(4), {|DSL0105:Residual|}] public partial Repeated<PreNorm> Blocks { get; }
            [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public Task AFinalNormClearsIt() => AnalyzerVerifier.VerifyAsync(signal: true, """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class PreNorm
        {
            [LayerNorm] public partial Layer Norm { get; }
            [Dense(128)] public partial Layer Up { get; }
            [Gelu] public partial Layer Act { get; }
            [Dense(128)] public partial Layer Down { get; }
        }

        [Network(Input = [128])]
        public sealed partial class Encoder
        {
            [Repeat(4), Residual] public partial Repeated<PreNorm> Blocks { get; }
            [LayerNorm] public partial Layer FinalNorm { get; }
            [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public Task ABiasBeforeBatchNormIsRedundantAndBeforeLayerNormOnlyItsMeanIs() => AnalyzerVerifier.VerifyAsync(signal: true, """
        using Dsl;
        namespace Demo;
        [Network(Input = [64])]
        public sealed partial class Norms
        {
            [{|DSL0106:Dense(64, Init = Init.He)|}] public partial Layer A { get; }
            [BatchNorm] public partial Layer NormA { get; }
            [Relu] public partial Layer ActA { get; }
            [{|DSL0107:Dense(64, Init = Init.He)|}] public partial Layer B { get; }
            [LayerNorm] public partial Layer NormB { get; }
            [Dense(64, Init = Init.He, Bias = false)] public partial Layer C { get; }
            [BatchNorm] public partial Layer NormC { get; }
            [Dense(10, Init = Init.He)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public Task BatchNormAfterAResidualAddIsOnTheSkipPath() => AnalyzerVerifier.VerifyAsync(signal: true, """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Branch
        {
            [Dense(64, Init = Init.He), Relu] public partial Layer Up { get; }
            [Dense(64, Init = Init.Zero)] public partial Layer Down { get; }
        }

        [Network(Input = [64])]
        public sealed partial class Net
        {
            [Residual] public partial Branch Body { get; }
            [{|DSL0108:BatchNorm|}] public partial Layer Norm { get; }
            [Dense(10, Init = Init.He)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public Task DropoutThatReachesABatchNormIsReportedAtTheDropout() => AnalyzerVerifier.VerifyAsync(signal: true, """
        using Dsl;
        namespace Demo;
        [Network(Input = [64])]
        public sealed partial class Net
        {
            [Dense(64, Init = Init.He), Relu] public partial Layer A { get; }
            [{|DSL0109:Dropout(0.5)|}] public partial Layer Drop { get; }
            [Dense(64, Init = Init.He, Bias = false)] public partial Layer B { get; }
            [BatchNorm] public partial Layer Norm { get; }
            [Dense(10, Init = Init.He)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public void ADeepBatchNormStackWithoutSkipsIsReportedAtTheNetworkWithYangsRate()
    {
        DeclarationRun run = DeclarationRun.Run("""
            using Dsl;
            namespace Demo;
            [Block]
            public sealed partial class Layer3
            {
                [Dense(256, Init = Init.He, Bias = false)] public partial Layer Dense { get; }
                [BatchNorm] public partial Layer Norm { get; }
                [Relu] public partial Layer Act { get; }
            }

            [Network(Input = [64])]
            public sealed partial class Deep
            {
                [Repeat(12)] public partial Repeated<Layer3> Hidden { get; }
                [Dense(10, Init = Init.He)] public partial Layer Head { get; }
            }
            """);
        Diagnostic deep = Assert.Single(run.SignalDiagnostics, d => d.Id == "DSL0104");
        Assert.StartsWith("Network 'Deep' stacks 12 BatchNorm layers with no residual connection: at initialisation (batch 128) its gradient grows by 74.", deep.GetMessage(), StringComparison.Ordinal);
        Assert.Equal("Network(Input = [64])", Text(deep));
        Assert.Contains(run.SignalDiagnostics, d => d.Id == "DSL0102" && d.GetMessage().Contains("DSL0104 names the cause and its fix", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheBandComesFromEditorConfig()
    {
        // A 3-layer network with PyTorch's default initialisation: forward 0.0134, backward 0.00926; a band of 1e-3 to 1e3 keeps both.
        const string source = """
            using Dsl;
            namespace Demo;
            [Network(Input = [40])]
            public sealed partial class Mlp
            {
                [Dense(100), Relu] public partial Layer Hidden1 { get; }
                [Dense(100), Relu] public partial Layer Hidden2 { get; }
                [Dense(10)] public partial Layer Logits { get; }
            }
            """;
        await AnalyzerVerifier.VerifyWithEditorConfigAsync(source, "dsl.signal.lower_bound = 1e-3\ndsl.signal.upper_bound = 1e3\n");
        DeclarationRun defaults = DeclarationRun.Run(source);
        Assert.Equal(["DSL0101", "DSL0102"], defaults.SignalDiagnostics.Select(d => d.Id).Order().ToArray());
    }

    [Fact]
    public void TheAnalyzersVerdictsOnTheCorpusAreTheMeasuredOnes()
    {
        string corpus = File.ReadAllText(Path.Combine(DiagnosticCatalogTests.RepositoryRoot(), "tests", "Dsl.Tests", "Signal", "SignalCorpus.cs"));
        DeclarationRun run = DeclarationRun.Run(corpus);
        run.AssertNoCrash();
        Assert.Empty(run.DslDiagnostics);
        var expected = new Dictionary<string, (string Forward, string Backward)>();
        foreach (Match match in ExpectedVerdict().Matches(corpus))
        {
            expected.Add(match.Groups["name"].Value, (match.Groups["forward"].Value, match.Groups["backward"].Value));
        }

        Assert.True(expected.Count >= 60, $"{expected.Count} networks");
        var mismatches = new List<string>();
        foreach ((string name, (string forward, string backward)) in expected)
        {
            string actualForward = Verdict(run, "DSL0101", name), actualBackward = Verdict(run, "DSL0102", name);
            if (actualForward != forward || actualBackward != backward)
            {
                mismatches.Add($"{name}: expected {forward}/{backward}, the analyzers say {actualForward}/{actualBackward}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    /// <summary>Explode, Vanish or Healthy, by whether the analyzer reported <paramref name="id"/> for the network and which way.</summary>
    private static string Verdict(DeclarationRun run, string id, string network)
    {
        Diagnostic? found = run.SignalDiagnostics.SingleOrDefault(d => d.Id == id && d.GetMessage().Contains($"over network '{network}' (", StringComparison.Ordinal));
        return found is null ? "Healthy" : found.GetMessage().Contains(" grows by ", StringComparison.Ordinal) ? "Explode" : "Vanish";
    }

    private static string Text(Diagnostic diagnostic) => diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan);

    [GeneratedRegex(@"\[Expect\(Verdict\.(?<forward>\w+), Verdict\.(?<backward>\w+)[^\]]*\]\s*\[Network\([^\]]*\]\)\]\s*public sealed partial class (?<name>\w+)")]
    private static partial Regex ExpectedVerdict();
}
