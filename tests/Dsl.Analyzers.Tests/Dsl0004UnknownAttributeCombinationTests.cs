namespace Dsl.Analyzers.Tests;

/// <summary>
/// DSL0004: the attributes on a property do not make one layer. Reported at the attribute that
/// breaks it: the second layer attribute, or the extra (last) activation, or an activation beside a layer other than Dense.
/// </summary>
public sealed class Dsl0004UnknownAttributeCombinationTests
{
    [Fact]
    public Task TwoActivations() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), Relu, {|DSL0004:Tanh|}] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task TwoActivationsInSeparateAttributeLists() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Gelu]
            [Dense(100)]
            [{|DSL0004:LeakyRelu(0.2)|}]
            public partial Layer Hidden { get; }

            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task StandaloneActivationIsALayer() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100)] public partial Layer Hidden { get; }
            [Relu] public partial Layer Activation { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task ActivationBesideANormIsReported() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [LayerNorm, {|DSL0004:Sigmoid|}] public partial Layer Norm { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task TwoDenseOnOneProperty() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), {|DSL0004:Dense(10)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task ActivationTheGeneratorDoesNotImplement() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        public sealed class SoftplusAttribute : ActivationAttribute;

        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), {|DSL0004:Softplus|}] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task PartialLayerPropertyWithoutAnAttribute() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            public partial Layer {|DSL0004:Hidden|} { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task EveryActivationWithOneDenseIsValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [8])]
        public sealed partial class Activations
        {
            [Dense(8), Relu] public partial Layer A { get; }
            [Dense(8), LeakyRelu(0.1)] public partial Layer B { get; }
            [Dense(8), LeakyRelu] public partial Layer C { get; }
            [Gelu, Dense(8)] public partial Layer D { get; }
            [Dense(8), Silu] public partial Layer E { get; }
            [Dense(8), Tanh] public partial Layer F { get; }
            [Dense(8), Sigmoid] public partial Layer G { get; }
            [Dense(3)] public partial Layer Logits { get; }
        }
        """);
}
