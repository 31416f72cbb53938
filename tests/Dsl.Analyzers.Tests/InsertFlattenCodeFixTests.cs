using Dsl.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// <see cref="InsertFlattenCodeFix"/>: a layer that reads features after a convolution (or on a multi-dimensional
/// input) gets a flatten layer declared before it, laid out like its neighbours, with a name no member of the class has.
/// Each fixed source is verified to have no DSL diagnostic left and to compile; the fix-all of a document is verified
/// against the same result. DSL0006 mismatches that a flatten does not fix get no fix.
/// </summary>
public sealed class InsertFlattenCodeFixTests
{
    private static Task VerifyFixAsync(string source, string fixedSource, params string[] otherSources)
        => VerifyFixAsync(CodeFixTestBehaviors.None, source, fixedSource, otherSources);

    /// <summary>
    /// A network reports a shape error inside a block at the block's attribute, outside the network's own declaration:
    /// a diagnostic the testing library calls non-local, which <see cref="CodeFixTestBehaviors.SkipLocalDiagnosticCheck"/>
    /// lets it fix.
    /// </summary>
    private static Task VerifyBlockFixAsync(string source, string fixedSource)
        => VerifyFixAsync(CodeFixTestBehaviors.SkipLocalDiagnosticCheck, source, fixedSource);

    private static Task VerifyFixAsync(CodeFixTestBehaviors behaviors, string source, string fixedSource, params string[] otherSources)
    {
        var test = new Test { TestCode = source, FixedCode = fixedSource, CodeFixTestBehaviors = behaviors };
        foreach (string other in otherSources)
        {
            test.TestState.Sources.Add(other);
            test.FixedState.Sources.Add(other);
        }

        return test.RunAsync(CancellationToken.None);
    }

    [Fact]
    public Task A_dense_layer_after_a_convolution_gets_a_flatten_layer_before_it() => VerifyFixAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public partial class Cnn
        {
            [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
            [{|DSL0006:Dense(10)|}] public partial Layer Output { get; }
        }
        """, """
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public partial class Cnn
        {
            [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
            [Flatten] public partial Layer Flatten { get; }
            [Dense(10)] public partial Layer Output { get; }
        }
        """);

    [Fact]
    public Task The_fix_is_titled_with_the_layer_it_precedes()
    {
        var test = new Test
        {
            TestCode = """
                using Dsl;
                [Network(Input = [1, 40])]
                public partial class Cnn
                {
                    [Conv1d(8, 5)] public partial Layer Conv1 { get; }
                    [{|DSL0006:Dense(10)|}] public partial Layer Output { get; }
                }
                """,
            FixedCode = """
                using Dsl;
                [Network(Input = [1, 40])]
                public partial class Cnn
                {
                    [Conv1d(8, 5)] public partial Layer Conv1 { get; }
                    [Flatten] public partial Layer Flatten { get; }
                    [Dense(10)] public partial Layer Output { get; }
                }
                """,
            CodeActionVerifier = (action, verifier) => verifier.Equal("Insert a flatten layer before 'Output'", action.Title),
        };
        return test.RunAsync(CancellationToken.None);
    }

    [Fact]
    public Task A_dense_layer_on_a_two_dimensional_input_gets_a_flatten_layer_before_it() => VerifyFixAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Mlp
        {
            [{|DSL0006:Dense(100)|}, Relu] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """, """
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Mlp
        {
            [Flatten] public partial Layer Flatten { get; }
            [Dense(100), Relu] public partial Layer Hidden { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task A_norm_after_a_convolution_gets_a_flatten_layer_before_it() => VerifyFixAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [{|DSL0006:LayerNorm|}] public partial Layer Norm { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """, """
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [Flatten] public partial Layer Flatten { get; }
            [LayerNorm] public partial Layer Norm { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task The_name_skips_those_members_of_the_class_in_any_part_already_have() => VerifyFixAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [{|DSL0006:Dense(10)|}] public partial Layer Logits { get; }
            public int Flatten() => 1;
        }
        """, """
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [Flatten] public partial Layer Flatten3 { get; }
            [Dense(10)] public partial Layer Logits { get; }
            public int Flatten() => 1;
        }
        """, """
        namespace Demo;
        public sealed partial class Cnn
        {
            public string Flatten2 { get; } = "taken";
        }
        """);

    [Fact]
    public Task The_name_skips_an_inherited_member_and_the_class_s_own_name()
    {
        const string Base = """
            namespace Demo;
            public class Model
            {
                public int Flatten2 => 2;
            }
            """;
        return VerifyFixAsync("""
            using Dsl;
            namespace Demo;
            [Network(Input = [1, 40])]
            public sealed partial class Flatten : Model
            {
                [Conv1d(8, 5)] public partial Layer Conv1 { get; }
                [{|DSL0006:Dense(10)|}] public partial Layer Logits { get; }
            }
            """, """
            using Dsl;
            namespace Demo;
            [Network(Input = [1, 40])]
            public sealed partial class Flatten : Model
            {
                [Conv1d(8, 5)] public partial Layer Conv1 { get; }
                [Flatten] public partial Layer Flatten3 { get; }
                [Dense(10)] public partial Layer Logits { get; }
            }
            """, Base);
    }

    [Fact]
    public Task The_inserted_layer_takes_the_following_one_s_indentation_blank_lines_and_attribute_line_and_leaves_its_comments_with_it() => VerifyFixAsync("""
        using Dsl;
        namespace Demo
        {
            [Network(Input = [1, 40])]
            public sealed partial class Cnn
            {
                [Conv1d(8, 5)]
                public partial Layer Conv1 { get; }

                /// <summary>The class scores.</summary>
                // ten classes
                [{|DSL0006:Dense(10)|}]
                public partial Layer Logits { get; } // the output
            }
        }
        """, """
        using Dsl;
        namespace Demo
        {
            [Network(Input = [1, 40])]
            public sealed partial class Cnn
            {
                [Conv1d(8, 5)]
                public partial Layer Conv1 { get; }

                [Flatten]
                public partial Layer Flatten { get; }

                /// <summary>The class scores.</summary>
                // ten classes
                [Dense(10)]
                public partial Layer Logits { get; } // the output
            }
        }
        """);

    [Fact]
    public Task Without_using_Dsl_the_attribute_and_type_are_qualified_and_the_accessibility_follows() => VerifyFixAsync("""
        namespace Demo;
        [Dsl.Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Dsl.Conv1d(8, 5)] internal partial Dsl.Layer Conv1 { get; }
            [{|DSL0006:Dsl.Dense(10)|}] internal partial Dsl.Layer Logits { get; }
        }
        """, """
        namespace Demo;
        [Dsl.Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Dsl.Conv1d(8, 5)] internal partial Dsl.Layer Conv1 { get; }
            [Dsl.Flatten] internal partial Dsl.Layer Flatten { get; }
            [Dsl.Dense(10)] internal partial Dsl.Layer Logits { get; }
        }
        """);

    [Fact]
    public Task A_user_attribute_named_Flatten_keeps_the_attribute_qualified() => VerifyFixAsync("""
        using Dsl;
        namespace Demo;
        public sealed class FlattenAttribute : System.Attribute { }
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [{|DSL0006:Dense(10)|}] public partial Layer Logits { get; }
        }
        """, """
        using Dsl;
        namespace Demo;
        public sealed class FlattenAttribute : System.Attribute { }
        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [Dsl.Flatten] public partial Layer Flatten { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task A_dense_layer_after_a_convolution_inside_a_block_gets_its_flatten_in_the_block() => VerifyBlockFixAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class ConvHead
        {
            [Conv1d(8, 5), Relu] public partial Layer Conv { get; }
            [{|DSL0006:Dense(10)|}] public partial Layer Scores { get; }
        }

        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            public partial ConvHead {|DSL0006:Head|} { get; }
        }
        """, """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class ConvHead
        {
            [Conv1d(8, 5), Relu] public partial Layer Conv { get; }
            [Flatten] public partial Layer Flatten { get; }
            [Dense(10)] public partial Layer Scores { get; }
        }

        [Network(Input = [1, 40])]
        public sealed partial class Cnn
        {
            public partial ConvHead Head { get; }
        }
        """);

    [Fact]
    public Task A_block_reported_by_two_networks_gets_one_flatten() => VerifyBlockFixAsync("""
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class ConvHead
        {
            [Conv1d(8, 5), Relu] public partial Layer Conv { get; }
            [{|DSL0006:{|DSL0006:Dense(10)|}|}] public partial Layer Scores { get; }
        }

        [Network(Input = [1, 40])]
        public sealed partial class Small
        {
            public partial ConvHead {|DSL0006:Head|} { get; }
        }

        [Network(Input = [1, 60])]
        public sealed partial class Large
        {
            public partial ConvHead {|DSL0006:Head|} { get; }
        }
        """, """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class ConvHead
        {
            [Conv1d(8, 5), Relu] public partial Layer Conv { get; }
            [Flatten] public partial Layer Flatten { get; }
            [Dense(10)] public partial Layer Scores { get; }
        }

        [Network(Input = [1, 40])]
        public sealed partial class Small
        {
            public partial ConvHead Head { get; }
        }

        [Network(Input = [1, 60])]
        public sealed partial class Large
        {
            public partial ConvHead Head { get; }
        }
        """);

    [Fact]
    public Task Fixing_all_gives_each_network_its_flatten() => VerifyFixAsync("""
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class First
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [{|DSL0006:Dense(10)|}] public partial Layer Logits { get; }
        }

        [Network(Input = [2, 40])]
        public sealed partial class Second
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [{|DSL0006:RmsNorm|}] public partial Layer Norm { get; }
            [Dense(10)] public partial Layer Logits { get; }
            public int Flatten => 1;
        }
        """, """
        using Dsl;
        namespace Demo;
        [Network(Input = [1, 40])]
        public sealed partial class First
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [Flatten] public partial Layer Flatten { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }

        [Network(Input = [2, 40])]
        public sealed partial class Second
        {
            [Conv1d(8, 5)] public partial Layer Conv1 { get; }
            [Flatten] public partial Layer Flatten2 { get; }
            [RmsNorm] public partial Layer Norm { get; }
            [Dense(10)] public partial Layer Logits { get; }
            public int Flatten => 1;
        }
        """);

    [Fact]
    public Task A_residual_shape_mismatch_gets_no_fix()
    {
        const string Source = """
            using Dsl;
            namespace Demo;
            [Block]
            public sealed partial class ConvBlock
            {
                [Conv1d(8, 3), Relu] public partial Layer Conv { get; }
            }

            [Network(Input = [8, 40])]
            public sealed partial class Cnn
            {
                [{|DSL0006:Residual|}] public partial ConvBlock Block { get; }
                [Flatten] public partial Layer Flat { get; }
                [Dense(10)] public partial Layer Logits { get; }
            }
            """;
        return VerifyFixAsync(Source, Source);
    }

    [Fact]
    public Task A_convolution_whose_output_length_is_below_one_gets_no_fix()
    {
        const string Source = """
            using Dsl;
            namespace Demo;
            [Network(Input = [1, 40])]
            public sealed partial class Cnn
            {
                [Conv1d(8, 5, Stride = 4)] public partial Layer Conv1 { get; }
                [Conv1d(8, 5, Stride = 4)] public partial Layer Conv2 { get; }
                [{|DSL0006:Conv1d(8, 5, Dilation = 2)|}] public partial Layer Conv3 { get; }
                [Flatten] public partial Layer Flat { get; }
                [Dense(10)] public partial Layer Logits { get; }
            }
            """;
        return VerifyFixAsync(Source, Source);
    }

    [Fact]
    public Task A_convolution_output_into_softmax_cross_entropy_gets_no_fix()
    {
        const string Source = """
            using Dsl;
            namespace Demo;
            [Network(Input = [1, 40])]
            public sealed partial class Cnn
            {
                [{|DSL0006:Conv1d(10, 40)|}] public partial Layer Logits { get; }
            }
            """;
        return VerifyFixAsync(Source, Source);
    }

    private sealed class Test : CSharpCodeFixTest<NetworkDeclarationAnalyzer, InsertFlattenCodeFix, DefaultVerifier>
    {
        public Test()
        {
            DisabledDiagnostics.AddRange(AnalyzerVerifier.SignalIds);
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(HostReferences.All);
            FixedState.AdditionalReferences.AddRange(HostReferences.All);
            // The fixed code must compile: errors count, except CS9248 (a partial property without its implementation:
            // the generator, which does not run here, writes it).
            CompilerDiagnostics = CompilerDiagnostics.Errors;
        }

        protected override bool IsCompilerDiagnosticIncluded(Diagnostic diagnostic, CompilerDiagnostics compilerDiagnostics)
            => diagnostic.Id is not "CS9248" && base.IsCompilerDiagnosticIncluded(diagnostic, compilerDiagnostics);

        protected override ParseOptions CreateParseOptions()
            => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(HostReferences.ParseOptions.LanguageVersion);
    }
}
