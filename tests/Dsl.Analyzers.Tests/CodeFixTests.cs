using Dsl.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// <see cref="MakePartialCodeFix"/>: each fix turns the marked declaration into one the analyzer accepts (the fixed
/// source is verified to have no DSL diagnostic left and to compile), keeps attributes, comments and layout, and
/// nothing is offered where the fix would be a guess or would not compile.
/// </summary>
public sealed class CodeFixTests
{
    private static Task VerifyFixAsync(string source, string fixedSource, params string[] otherSources)
    {
        var test = new Test { TestCode = source, FixedCode = fixedSource };
        foreach (string other in otherSources)
        {
            test.TestState.Sources.Add(other);
        }

        return test.RunAsync(CancellationToken.None);
    }

    [Fact]
    public Task A_class_that_is_not_partial_becomes_partial() => VerifyFixAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed class {|DSL0001:Mlp|}
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """, """
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task A_class_without_modifiers_gets_partial_before_class() => VerifyFixAsync("""
        using Dsl;
        [Network(Input = [40])]
        class {|DSL0001:Mlp|}
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """, """
        using Dsl;
        [Network(Input = [40])]
        partial class Mlp
        {
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task Every_part_of_the_class_that_lacks_partial_gets_it()
    {
        var test = new Test();
        test.TestState.Sources.Add("""
            using Dsl;
            namespace Demo;
            [Network(Input = [40])]
            public sealed partial class {|DSL0001:Mlp|}
            {
                [Dense(10)] public partial Layer Logits { get; }
            }
            """);
        test.TestState.Sources.Add("""
            namespace Demo;
            public sealed class Mlp
            {
                public int Extra => 1;
            }
            """);
        test.FixedState.Sources.Add("""
            using Dsl;
            namespace Demo;
            [Network(Input = [40])]
            public sealed partial class Mlp
            {
                [Dense(10)] public partial Layer Logits { get; }
            }
            """);
        test.FixedState.Sources.Add("""
            namespace Demo;
            public sealed partial class Mlp
            {
                public int Extra => 1;
            }
            """);
        return test.RunAsync(CancellationToken.None);
    }

    [Fact]
    public Task A_record_nested_in_a_class_does_not_make_the_outer_class_partial()
    {
        const string Source = """
            using Dsl;
            namespace Demo;
            public class Outer
            {
                [Network(Input = [40])]
                public sealed record {|DSL0001:Mlp|}
                {
                    [Dense(10)] public partial Layer Logits { get; }
                }
            }
            """;
        return VerifyFixAsync(Source, Source);
    }

    [Fact]
    public Task A_nested_class_gets_no_fix()
    {
        const string Source = """
            using Dsl;
            namespace Demo;
            public static partial class Models
            {
                [Network(Input = [40])]
                public sealed partial class {|DSL0001:Small|}
                {
                    [Dense(10)] public partial Layer Logits { get; }
                }
            }
            """;
        return VerifyFixAsync(Source, Source);
    }

    [Theory]
    [InlineData("public Layer {|DSL0007:Logits|} { get; }")]
    [InlineData("public partial Layer {|DSL0007:Logits|} { get; set; }")]
    [InlineData("public partial Layer {|DSL0007:Logits|} { get; init; }")]
    [InlineData("public static partial Layer {|DSL0007:Logits|} { get; }")]
    [InlineData("public Layer {|DSL0007:Logits|} => null!;")]
    [InlineData("public Layer {|DSL0007:Logits|} { get; } = null!;")]
    [InlineData("public Dsl.Layer {|DSL0007:Logits|} { get; set; }")]
    public Task A_layer_property_becomes_partial_and_get_only(string declaration) => VerifyFixAsync($$"""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] {{declaration}}
        }
        """, $$"""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] public partial {{(declaration.Contains("Dsl.Layer", StringComparison.Ordinal) ? "Dsl.Layer" : "Layer")}} Logits { get; }
        }
        """);

    [Theory]
    [InlineData("using Dsl;", "public required Layer {|DSL0007:Logits|} { get; set; }", "public partial Layer Logits { get; }")]
    [InlineData("using Dsl;", "public extern Layer {|DSL0007:Logits|} { get; }", "public partial Layer Logits { get; }")]
    [InlineData("using L = Dsl.Layer;", "public L {|DSL0007:Logits|} { get; set; }", "public partial L Logits { get; }")]
    [InlineData("using Dsl;", "public global::Dsl.Layer {|DSL0007:Logits|} { get; set; }", "public partial global::Dsl.Layer Logits { get; }")]
    [InlineData("using Dsl;", "Layer {|DSL0007:Logits|} { get; }", "partial Layer Logits { get; }")]
    [InlineData("using Dsl;", "public Layer {|DSL0007:Logits|} /* the output */ => null!;", "public partial Layer Logits /* the output */ { get; }")]
    public Task Modifiers_types_and_comments_come_out_right(string usings, string declaration, string fixedDeclaration) => VerifyFixAsync($$"""
        {{usings}}
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] {{declaration}}
        }
        """, $$"""
        {{usings}}
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)] {{fixedDeclaration}}
        }
        """);

    [Fact]
    public Task A_dropped_first_modifier_keeps_the_indentation_and_a_line_comment_moves_to_the_end() => VerifyFixAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)]
            static public Layer {|DSL0007:Logits|} // the output
            {
                get;
                set;
            }
        }
        """, """
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            [Dense(10)]
            public partial Layer Logits { get; } // the output
        }
        """);

    [Fact]
    public Task No_fix_for_a_user_type_named_Layer_an_explicit_interface_member_or_an_implementation_in_another_part()
    {
        const string Source = """
            using Dsl;
            namespace Demo;
            public interface IModel { Dsl.Layer Output { get; } }
            public sealed class Layer { }
            [Network(Input = [40])]
            public sealed partial class Mlp : IModel
            {
                [Dense(10)] public partial Layer {|DSL0007:Mine|} { get; }
                [Dense(10)] Dsl.Layer IModel.{|DSL0007:Output|} { get; }
                [Dense(10)] public partial Dsl.Layer {|DSL0007:Logits|} { get; }
            }
            public sealed partial class Mlp
            {
                public partial Dsl.Layer Logits => null!;
            }
            """;
        return VerifyFixAsync(Source, Source);
    }

    [Fact]
    public Task No_fix_where_another_part_makes_the_class_static()
    {
        const string Source = """
            using Dsl;
            namespace Demo;
            [Network(Input = [40])]
            public class {|DSL0001:Mlp|}
            {
                [Dense(10)] public partial Layer {|CS0708:Logits|} { get; }
            }
            public static partial class Mlp
            {
            }
            """;
        return VerifyFixAsync(Source, Source);
    }

    [Fact]
    public Task A_property_of_another_type_or_with_a_user_implementation_gets_no_fix()
    {
        const string Source = """
            using Dsl;
            namespace Demo;
            [Network(Input = [40])]
            public sealed partial class Mlp
            {
                [Dense(100), Relu] public partial object {|DSL0007:Hidden|} { get; }
                [Dense(10)] public partial Layer {|DSL0007:Logits|} { get; }
                public partial Layer Logits => null!;
            }
            """;
        return VerifyFixAsync(Source, Source);
    }

    private sealed class Test : CSharpCodeFixTest<NetworkDeclarationAnalyzer, MakePartialCodeFix, DefaultVerifier>
    {
        public Test()
        {
            DisabledDiagnostics.AddRange(AnalyzerVerifier.SignalIds);
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(HostReferences.All);
            FixedState.AdditionalReferences.AddRange(HostReferences.All);
            // The fixed code must compile: errors count, except CS9248 (a partial property without its implementation:
            // the generator, which does not run here, writes it) and the input's missing-partial errors (CS0260, CS0751).
            CompilerDiagnostics = CompilerDiagnostics.Errors;
        }

        protected override bool IsCompilerDiagnosticIncluded(Diagnostic diagnostic, CompilerDiagnostics compilerDiagnostics)
            => diagnostic.Id is not ("CS9248" or "CS0260" or "CS0751") && base.IsCompilerDiagnosticIncluded(diagnostic, compilerDiagnostics);

        protected override ParseOptions CreateParseOptions()
            => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(HostReferences.ParseOptions.LanguageVersion);
    }
}
