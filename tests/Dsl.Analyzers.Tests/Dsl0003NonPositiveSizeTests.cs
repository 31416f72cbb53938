namespace Dsl.Analyzers.Tests;

/// <summary>
/// DSL0003: a width (at the Dense attribute), an input dimension (at the Network attribute) or an
/// Init.Normal standard deviation (at the Dense attribute) is zero or negative.
/// </summary>
public sealed class Dsl0003NonPositiveSizeTests
{
    [Fact]
    public Task ZeroWidth() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [{|DSL0003:Dense(0)|}, Relu] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task NegativeWidth() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), Relu] public partial Layer Hidden { get; }
            [{|DSL0003:Dense(-10, Bias = false)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task ZeroInputDimension() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [{|DSL0003:Network(Input = [0])|}]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task EachNonPositiveInputDimensionIsReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [{|DSL0003:{|DSL0003:Network(Input = [-1, 28, 0], Loss = Loss.MeanSquaredError)|}|}]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer Output { get; }
        }
        """);

    [Fact]
    public Task NormalInitWithZeroStd() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [{|DSL0003:Dense(10, Init = Init.Normal, InitStd = 0)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task NormalInitWithNegativeStd() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [{|DSL0003:Dense(10, InitStd = -0.5, Init = Init.Normal)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task ZeroStdIsIgnoredByOtherInitialisers() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10, Init = Init.Xavier, InitStd = 0)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task PositiveSizesAreValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1])]
        public sealed partial class Tiny
        {
            [Dense(1, Init = Init.Normal, InitStd = 1e-6), Tanh] public partial Layer Hidden { get; }
            [Dense(2, Bias = false)] public partial Layer Logits { get; }
        }
        """);
}
