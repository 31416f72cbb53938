namespace Dsl.Analyzers.Tests;

/// <summary>DSL0007, at the property identifier: the generator cannot implement the layer property.</summary>
public sealed class Dsl0007InvalidLayerPropertyTests
{
    [Fact]
    public Task NonPartialProperty() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] public Layer {|DSL0007:Logits|} { get; }
        }
        """);

    [Fact]
    public Task WrongPropertyType() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), Relu] public partial object {|DSL0007:Hidden|} { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task PropertyReturnedByReference() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial ref Layer {|DSL0007:Logits|} { get; }
        }
        """);

    [Fact]
    public Task ModifiersTheDefinitionHasAreRepeatedByTheGeneratedPart() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        public class Model
        {
            public virtual Layer? Logits => null;
            public Layer? Hidden => null;
        }

        [Network(Input = [40])]
        public partial class Mlp : Model
        {
            [Dense(20), Relu] public new partial Layer Hidden { get; }
            [Dense(20), Relu] partial Layer Private { get; }
            [Dense(20), Relu] protected internal virtual partial Layer? Open { get; }
            [Dense(10)] public sealed override partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task PropertyWithSetter() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer {|DSL0007:Logits|} { get; set; }
        }
        """);

    [Fact]
    public Task StaticProperty() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] public static partial Layer {|DSL0007:Logits|} { get; }
        }
        """);

    [Fact]
    public Task UserImplementation() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer {|DSL0007:Logits|} { get; }
            public partial Layer Logits => null!;
        }
        """);

    [Fact]
    public Task NullableAnnotatedLayerIsValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer? Logits { get; }
        }
        """);

    [Fact]
    public Task InternalGetOnlyPartialLayerIsValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        internal sealed partial class Mlp
        {
            [Dense(100), Relu] internal partial Layer Hidden { get; }
            [Dense(10)] private partial Layer Logits { get; }
        }
        """);
}
