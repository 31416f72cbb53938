namespace Dsl.Analyzers.Tests;

/// <summary>DSL0009, at the member whose name the generator also writes.</summary>
public sealed class Dsl0009NameCollisionTests
{
    [Fact]
    public Task LayersNamedLikeGeneratedMembers() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(100), Relu] public partial Layer {|DSL0009:Parameters|} { get; }
            [Dense(100), Relu] public partial Layer {|DSL0009:_graph|} { get; }
            [Dense(10)] public partial Layer {|DSL0009:Predict|} { get; }
        }
        """);

    [Fact]
    public Task OtherMembersNamedLikeGeneratedOnes() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            private int {|DSL0009:_blocks|};
            public void {|DSL0009:GpuWidths|}() { }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task NetworkClassNamedLikeAGeneratedMember() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class {|DSL0009:Predict|}
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task MemberInheritedFromABaseClass() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        public class Model
        {
            public virtual void Dispose() { }
        }

        [Network(Input = [40])]
        public sealed partial class {|DSL0009:Mlp|} : Model
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task PrivateMembersOfABaseClassAreValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        public class Model
        {
            private int _parameters;
            public int Count => _parameters;
        }

        [Network(Input = [40])]
        public sealed partial class Mlp : Model
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task ConstructorWithTheGeneratedSignature() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            public {|DSL0009:Mlp|}(Device device, ulong seed = 0) { }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task OtherMembersAndConstructorsAreFine() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            private int _parameterBudget;
            public Mlp(Device device, int width) : this(device) { _parameterBudget = width; }
            public int Budget => _parameterBudget;
            [Dense(100), Relu] public partial Layer hidden { get; }
            [Dense(100), Relu] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);
}
