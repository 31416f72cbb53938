namespace Dsl.Analyzers.Tests;

/// <summary>
/// Blocks, residuals, repeats, norms and dropout: shape errors found in the lowered graph are reported at the attribute
/// that causes them, inside a block when that is where it is; a block's own problems are reported at the block.
/// </summary>
public sealed class GraphDeclarationTests
{
    [Fact]
    public Task AValidGraphNetworkHasNoDiagnostic() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class PreNorm
        {
            [LayerNorm] public partial Layer Norm { get; }
            [Dense(64)] public partial Layer Up { get; }
            [Gelu] public partial Layer Act { get; }
            [Dropout(0.1)] public partial Layer Drop { get; }
            [Dense(32)] public partial Layer Down { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Deep
        {
            [Dense(32)] public partial Layer Embed { get; }
            [Repeat(4), Residual(Scale = 0.5)] public partial Repeated<PreNorm> Blocks { get; }
            [BatchNorm(Momentum = 0.01, Affine = false)] public partial Layer Batch { get; }
            [RmsNorm] public partial Layer FinalNorm { get; }
            [Dense(10)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public Task AResidualBranchThatChangesTheWidthIsReportedAtResidual() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Wide
        {
            [Dense(256), Relu] public partial Layer Up { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Net
        {
            [Dense(100), Relu] public partial Layer Hidden { get; }
            [{|DSL0006:Residual|}] public partial Wide Body { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task AShapeErrorInsideANestedBlockIsReportedInTheBlock() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Narrow
        {
            [Dense(8)] public partial Layer Down { get; }
        }

        [Block]
        public sealed partial class Outer
        {
            [LayerNorm] public partial Layer Norm { get; }
            [{|DSL0006:Residual|}] public partial Narrow Inner { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Net
        {
            [Dense(16)] public partial Layer Hidden { get; }
            [{|DSL0006:Repeat(3)|}] public partial Repeated<Outer> Blocks { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task ARepeatedPropertyWithoutRepeatIsReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Branch
        {
            [Dense(10)] public partial Layer Up { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Net
        {
            [Dense(10)] public partial Layer Hidden { get; }
            public partial Repeated<Branch> {|DSL0007:Blocks|} { get; }
        }
        """);

    [Fact]
    public Task ABlockThatContainsItselfIsReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Loop
        {
            [Dense(10)] public partial Layer Up { get; }
            public partial Loop {|DSL0007:Again|} { get; }
        }
        """);

    [Fact]
    public Task ABlockThatIsNotPartialIsReportedAtTheBlock() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed class {|DSL0001:Branch|}
        {
            [Dense(10)] public Layer {|DSL0007:Up|} => throw null!;
        }
        """);

    [Fact]
    public Task ADropoutProbabilityOutsideItsRangeIsReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Net
        {
            [Dense(10)] public partial Layer Hidden { get; }
            [{|DSL0008:Dropout(1.0)|}] public partial Layer Drop { get; }
        }
        """);

    [Fact]
    public Task AScaleWithANonFiniteFactorIsReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Net
        {
            [Dense(10)] public partial Layer Hidden { get; }
            [{|DSL0008:Scale(double.PositiveInfinity)|}] public partial Layer Grow { get; }
            [Scale(-0.5)] public partial Layer Shrink { get; }
        }
        """);

    [Fact]
    public Task ARepeatTooLargeToLayOutIsReportedAtTheNetwork() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Branch
        {
            [Dense(10)] public partial Layer Up { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Net
        {
            [Dense(10)] public partial Layer Hidden { get; }
            [{|DSL0008:Repeat(int.MaxValue)|}] public partial Repeated<Branch> Blocks { get; }
        }
        """);

    [Fact]
    public Task ABatchNormMomentumOutsideItsRangeIsReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Net
        {
            [Dense(10)] public partial Layer Hidden { get; }
            [{|DSL0008:BatchNorm(Momentum = 1.5)|}] public partial Layer Norm { get; }
        }
        """);

    [Fact]
    public Task ANonPositiveRepeatCountIsReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Branch
        {
            [Dense(10)] public partial Layer Up { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Net
        {
            [Dense(10)] public partial Layer Hidden { get; }
            [{|DSL0003:Repeat(0)|}] public partial Repeated<Branch> Blocks { get; }
        }
        """);
}
