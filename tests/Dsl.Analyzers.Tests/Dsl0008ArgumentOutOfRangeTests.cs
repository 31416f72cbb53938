namespace Dsl.Analyzers.Tests;

/// <summary>DSL0008, at the attribute whose argument cannot be generated.</summary>
public sealed class Dsl0008ArgumentOutOfRangeTests
{
    [Fact]
    public Task UndefinedLoss() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [{|DSL0008:Network(Input = [40], Loss = (Loss)7)|}]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task UndefinedInitAndFan() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [{|DSL0008:Dense(100, Init = (Init)99)|}, Relu] public partial Layer Hidden { get; }
            [{|DSL0008:Dense(10, Init = Init.He, Fan = (Fan)5)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task NonFiniteInitStd() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [{|DSL0008:Dense(100, Init = Init.Normal, InitStd = double.NaN)|}, Relu] public partial Layer Hidden { get; }
            [{|DSL0008:Dense(10, Init = Init.Normal, InitStd = double.PositiveInfinity)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task BadLeakyReluSlopes() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), {|DSL0008:LeakyRelu(double.NaN)|}] public partial Layer A { get; }
            [Dense(100), {|DSL0008:LeakyRelu(-0.1)|}] public partial Layer B { get; }
            [Dense(100), {|DSL0008:LeakyRelu(1e300)|}] public partial Layer C { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task ParameterCountBeyondOneBuffer() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [46341])]
        public sealed partial class Mlp
        {
            [{|DSL0008:Dense(46341, Bias = false)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task InputBeyondOneBuffer() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [{|DSL0008:Network(Input = [65536, 65536])|}]
        public sealed partial class Mlp
        {
            [{|DSL0006:Dense(10)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task LargeButRepresentableSizesAreValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [46340], Loss = Loss.MeanSquaredError)]
        public sealed partial class Wide
        {
            [Dense(46340, Bias = false), LeakyRelu(0)] public partial Layer Logits { get; }
        }
        """);
}
