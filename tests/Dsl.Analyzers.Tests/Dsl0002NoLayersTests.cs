namespace Dsl.Analyzers.Tests;

/// <summary>DSL0002, at the class identifier: a network declares no layer.</summary>
public sealed class Dsl0002NoLayersTests
{
    [Fact]
    public Task EmptyClass() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class {|DSL0002:Empty|}
        {
        }
        """);

    [Fact]
    public Task PropertiesWithoutLayerAttributes() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class {|DSL0002:Mlp|}
        {
            public Layer? First => null;
            public int Width => 10;
        }
        """);

    [Fact]
    public Task LayerAttributeOnAMethodIsNotALayer() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class {|DSL0002:Mlp|}
        {
            [Dense(10)] public void Logits() { }
        }
        """);

    [Fact]
    public Task UnreadableWidthIsNotReportedAsNoLayers() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense("ten")] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task OneLayerIsValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Linear
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);
}
