namespace Dsl.Analyzers.Tests;

/// <summary>DSL0005, at the property identifier of each layer outside the part that holds the first layer.</summary>
public sealed class Dsl0005LayersSplitAcrossPartsTests
{
    [Fact]
    public Task LayersInTwoPartsOfOneFile() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), Relu] public partial Layer Hidden { get; }
        }

        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer {|DSL0005:Logits|} { get; }
        }
        """);

    [Fact]
    public Task LayersInTwoFiles() => AnalyzerVerifier.VerifyAsync(
        """
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), Relu] public partial Layer Hidden1 { get; }
        }
        """,
        """
        using Dsl;
        namespace Demo;
        public sealed partial class Mlp
        {
            [Dense(100), Relu] public partial Layer {|DSL0005:Hidden2|} { get; }
            [Dense(10)] public partial Layer {|DSL0005:Logits|} { get; }
        }
        """);

    [Fact]
    public Task OtherMembersInAnotherPartAreValid() => AnalyzerVerifier.VerifyValidAsync(
        """
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), Relu] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """,
        """
        namespace Demo;
        public sealed partial class Mlp
        {
            public int Classes => 10;
        }
        """);
}
