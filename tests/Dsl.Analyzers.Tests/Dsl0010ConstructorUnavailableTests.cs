namespace Dsl.Analyzers.Tests;

/// <summary>
/// DSL0010: the generated constructor (Device, ulong) cannot be written. At a primary constructor's parameter
/// list, or at the class name when the base class has no accessible constructor without arguments.
/// </summary>
public sealed class Dsl0010ConstructorUnavailableTests
{
    [Fact]
    public Task PrimaryConstructor() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp{|DSL0010:(int width)|}
        {
            public int Width => width;
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task EmptyPrimaryConstructor() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp{|DSL0010:()|}
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task BaseClassWithoutAParameterlessConstructor() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        public abstract class Named
        {
            protected Named(string name) => Name = name;
            public string Name { get; }
        }

        [Network(Input = [40])]
        public sealed partial class {|DSL0010:Mlp|} : Named
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task BaseClassWhoseParameterlessConstructorIsPrivate() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Demo;
        public class Sealed
        {
            private Sealed() { }
            public static Sealed Create() => new();
        }

        [Network(Input = [40])]
        public sealed partial class {|DSL0010:Mlp|} : Sealed
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task BaseClassesWithAProtectedOptionalOrParamsConstructorAreValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        public abstract class Protected { protected Protected() { } }
        public abstract class Optional { protected Optional(int width = 3, params string[] tags) { } }

        [Network(Input = [40])]
        public sealed partial class First : Protected
        {
            [Dense(10)] public partial Layer Logits { get; }
        }

        [Network(Input = [40])]
        public sealed partial class Second : Optional
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);
}
