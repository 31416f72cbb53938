namespace Dsl.Analyzers.Tests;

/// <summary>
/// DSL0012, at every network's class name: a type (or namespace) of the project with the full name of a referenced
/// type or namespace under System, ILGPU or Dsl, which generated code names from global::.
/// </summary>
public sealed class Dsl0012NameHiddenTests
{
    [Fact]
    public Task TypeNamedLikeARuntimeType() => AnalyzerVerifier.VerifyAsync("""
        namespace Dsl
        {
            public sealed class Device { }
        }

        namespace Demo
        {
            [Dsl.Network(Input = [40])]
            public sealed partial class {|DSL0012:Mlp|}
            {
                [Dsl.Dense(10)] public partial Dsl.Layer Logits { get; }
            }
        }
        """);

    [Fact]
    public Task TypeNamedLikeARuntimeNamespace() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace Dsl { public static class Ops { } }
        namespace Demo
        {
            [Network(Input = [40])]
            public sealed partial class {|DSL0012:First|}
            {
                [Dense(10)] public partial Layer Logits { get; }
            }

            [Network(Input = [40])]
            public sealed partial class {|DSL0012:Second|}
            {
                [Dense(10)] public partial Layer Logits { get; }
            }
        }
        """);

    [Fact]
    public Task TypeNamedLikeASystemType() => AnalyzerVerifier.VerifyAsync("""
        using Dsl;
        namespace System { public static class Math { } }
        namespace Demo
        {
            [Network(Input = [40])]
            public sealed partial class {|DSL0012:Mlp|}
            {
                [Dense(10)] public partial Layer Logits { get; }
            }
        }
        """);

    [Fact]
    public Task GlobalTypeNamedLikeARoot() => AnalyzerVerifier.VerifyAsync("""
        public sealed class ILGPU { }
        namespace Demo
        {
            [Dsl.Network(Input = [40])]
            public sealed partial class {|DSL0012:Mlp|}
            {
                [Dsl.Dense(10)] public partial Dsl.Layer Logits { get; }
            }
        }
        """);

    [Fact]
    public Task TypesOfTheProjectInThoseNamespacesWithNewNamesAreValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Dsl.Extensions { public static class Helpers { } }
        namespace System.Text.MyCodecs { public sealed class Rot13 { } }
        namespace Demo
        {
            [Network(Input = [40])]
            public sealed partial class Mlp
            {
                [Dense(10)] public partial Layer Logits { get; }
            }
        }
        """);
}
