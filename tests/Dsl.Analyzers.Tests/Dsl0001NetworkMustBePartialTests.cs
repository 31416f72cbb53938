namespace Dsl.Analyzers.Tests;

/// <summary>DSL0001, at the class identifier: a network must be a top-level, non-generic, non-static partial class.</summary>
public sealed class Dsl0001NetworkMustBePartialTests
{
    [Fact]
    public Task NonPartialClass() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed class {|DSL0001:Mlp|}
        {
            [Dense(100), Relu] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task OnePartOfTwoNotPartial() => AnalyzerVerifier.VerifyAsync(
        """
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class {|DSL0001:Mlp|}
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """,
        """
        namespace Demo;
        public sealed class Mlp
        {
        }
        """);

    [Fact]
    public Task NestedNetwork() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        public static partial class Models
        {
            [Network(Input = [40])]
            public sealed partial class {|DSL0001:Mlp|}
            {
                [Dense(10)] public partial Layer Logits { get; }
            }
        }
        """);

    [Fact]
    public Task GenericNetwork() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class {|DSL0001:Mlp|}<T>
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task StaticNetwork() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public static partial class {|DSL0001:Mlp|}
        {
            [Dense(10)] public static partial Layer {|DSL0007:Logits|} { get; }
        }
        """);

    [Fact]
    public Task TopLevelPartialClassIsValid() => AnalyzerVerifier.VerifyValidAsync(Declarations.Mlp);

    [Fact]
    public Task NetworkInTheGlobalNamespaceIsValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        [Network(Input = [4], Loss = Loss.MeanSquaredError)]
        internal partial class Regressor
        {
            [Dense(1)] public partial Layer Output { get; }
        }
        """);

    [Fact]
    public Task RecordNetwork() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial record {|DSL0001:Mlp|}
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task FileLocalNetwork() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        file sealed partial class {|DSL0001:Mlp|}
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);
}
