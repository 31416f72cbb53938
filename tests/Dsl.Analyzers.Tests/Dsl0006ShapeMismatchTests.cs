namespace Dsl.Analyzers.Tests;

/// <summary>
/// DSL0006: shape inference fails. At the Dense attribute of the layer where it fails, or at the
/// Network attribute when the input shape is missing.
/// </summary>
public sealed class Dsl0006ShapeMismatchTests
{
    [Fact]
    public Task DenseOnRankTwoInput() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Mlp
        {
            [{|DSL0006:Dense(100)|}, Relu] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task SoftmaxCrossEntropyWithOneOutput() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40], Loss = Loss.SoftmaxCrossEntropy)]
        public sealed partial class Mlp
        {
            [Dense(100), Relu] public partial Layer Hidden { get; }
            [{|DSL0006:Dense(1)|}] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task DefaultLossIsSoftmaxCrossEntropy() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [{|DSL0006:Dense(1)|}, Sigmoid] public partial Layer Logit { get; }
        }
        """);

    [Fact]
    public Task MissingInput() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [{|DSL0006:Network(Loss = Loss.MeanSquaredError)|}]
        public sealed partial class Mlp
        {
            [Dense(1)] public partial Layer Output { get; }
        }
        """);

    [Fact]
    public Task NetworkAttributeWithoutArguments() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [{|DSL0006:Network|}]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task EmptyInput() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [{|DSL0006:Network(Input = [])|}]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task MeanSquaredErrorWithOneOutputIsValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [13], Loss = Loss.MeanSquaredError)]
        public sealed partial class Regressor
        {
            [Dense(32), Silu] public partial Layer Hidden { get; }
            [Dense(1)] public partial Layer Price { get; }
        }
        """);

    [Fact]
    public Task TwoClassesAreValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Binary
        {
            [Dense(2)] public partial Layer Logits { get; }
        }
        """);
}
