namespace Dsl.Analyzers.Tests;

/// <summary>
/// Valid C# that a network declaration may take, as the compiler runs the generator and the analyzer over it. For
/// each: no exception, no error or warning inside a generated file, and either a model that compiles or the DSL
/// diagnostic that names the rule (and then a fallback part, so the user's files have no unimplemented member).
/// </summary>
public sealed class CSharpShapesTests
{
    private const string Header = "#nullable enable\nusing Dsl;\nnamespace Demo;\n";
    private const string Layers = "{ [Dense(10)] public partial Layer Logits { get; } }";

    public static TheoryData<string, string, string> Declarations { get; } = new()
    {
        // name, expected ("model" or the DSL ID), source
        { "a layer without an access modifier", "model", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] partial Layer Logits { get; } }" },
        { "a nullable layer", "model", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer? Logits { get; } }" },
        { "virtual, new and override layers", "model", Header + "public class Base { public virtual Layer? A => null; public Layer? B => null; }\n[Network(Input = [40])]\npublic partial class Mlp : Base { [Dense(8)] public override partial Layer? A { get; } [Dense(8)] public new partial Layer B { get; } [Dense(10)] public virtual partial Layer C { get; } }" },
        { "a namespace named nameof", "model", "using Dsl;\nnamespace nameof;\n[Network(Input = [40])]\npublic partial class Mlp " + Layers },
        { "a member named nameof", "model", Header + "[Network(Input = [40])]\npublic partial class Mlp { public static int nameof(int x) => x; [Dense(10)] public partial Layer Logits { get; } }" },
        { "an extension method AsSpan in the network's namespace", "model", Header + "public static class Extensions { public static System.Span<float> AsSpan(this float[] a, int s, int l) => throw new System.InvalidOperationException(); }\n[Network(Input = [40])]\npublic partial class Mlp " + Layers },
        { "a type named var in the network's namespace", "model", Header + "public class var { }\n[Network(Input = [40])]\npublic partial class Mlp " + Layers },
        { "a base class with a parameterless constructor", "model", Header + "public abstract class Base { protected Base() { } }\n[Network(Input = [40])]\npublic partial class Mlp : Base " + Layers },
        { "a primary constructor", "DSL0010", Header + "[Network(Input = [40])]\npublic partial class Mlp() " + Layers },
        { "a base class without a parameterless constructor", "DSL0010", Header + "public class Base { public Base(int x) { } }\n[Network(Input = [40])]\npublic partial class Mlp : Base " + Layers },
        { "a base class with a member named like a generated one", "DSL0009", Header + "public class Base { public int Predict() => 0; }\n[Network(Input = [40])]\npublic partial class Mlp : Base " + Layers },
        { "a class named Predict", "DSL0009", Header + "[Network(Input = [40])]\npublic partial class Predict " + Layers },
        { "a class named Device", "DSL0009", Header + "[Network(Input = [40])]\npublic partial class Device " + Layers },
        { "a class named GpuWidths", "DSL0009", Header + "[Network(Input = [40])]\npublic partial class GpuWidths " + Layers },
        { "a class named System in the global namespace", "DSL0012", "public class System { }\nnamespace Demo { [Dsl.Network(Input = [40])] public partial class Mlp { [Dsl.Dense(10)] public partial Dsl.Layer Logits { get; } } }" },
        { "a class named ILGPU in the global namespace", "DSL0012", "public class ILGPU { }\nnamespace Demo { [Dsl.Network(Input = [40])] public partial class Mlp { [Dsl.Dense(10)] public partial Dsl.Layer Logits { get; } } }" },
        { "a user type Dsl.Layer", "DSL0012", "namespace Dsl { public sealed class Layer { } }\nnamespace Demo { [Dsl.Network(Input = [40])] public partial class Mlp { [Dsl.Dense(10)] public partial Dsl.Layer Logits { get; } } }" },
        { "a user type Dsl.Ops", "DSL0012", "namespace Dsl { public static class Ops { } }\nnamespace Demo { [Dsl.Network(Input = [40])] public partial class Mlp { [Dsl.Dense(10)] public partial Dsl.Layer Logits { get; } } }" },
        { "a network class named Layer in namespace Dsl", "DSL0012", "namespace Dsl { [Network(Input = [40])] public partial class Layer { [Dense(10)] public partial Dsl.Layer Logits { get; } } }" },
        { "a non-nullable field without an initializer", "DSL0011", Header + "[Network(Input = [40])]\npublic partial class Mlp { private string _name; public string Name => _name; [Dense(10)] public partial Layer Logits { get; } }" },
        { "a generic network", "DSL0001", Header + "[Network(Input = [40])]\npublic partial class Mlp<T> " + Layers },
        { "a network nested in a partial class", "DSL0001", Header + "public partial class Outer { [Network(Input = [40])] public partial class Mlp " + Layers + " }" },
        { "a record network", "DSL0001", Header + "[Network(Input = [40])]\npublic partial record Mlp " + Layers },
        { "a static network", "DSL0001", Header + "[Network(Input = [40])]\npublic static partial class Mlp { [Dense(10)] public static partial Layer Logits { get; } }" },
    };

    [Theory]
    [MemberData(nameof(Declarations))]
    public void Each_shape_gets_a_compiling_model_or_the_diagnostic_of_its_rule(string name, string expected, string source)
    {
        Assert.NotNull(name);
        AssertOutcome(DeclarationRun.Run(source), expected);
    }

    [Fact]
    public void Networks_whose_names_differ_in_case_each_get_a_model_in_their_own_file()
    {
        DeclarationRun run = DeclarationRun.Run(
            Header + "[Network(Input = [40])]\npublic partial class Mlp " + Layers,
            Header + "[Network(Input = [40])]\npublic partial class MLP " + Layers,
            Header + "public partial class Outer { [Network(Input = [40])] public partial class mlp " + Layers + " }");
        run.AssertNoCrash();
        Assert.Equal(2, run.Models.Count());
        Assert.Equal(["Demo.MLP.Dsl.g.cs", "Demo.Mlp.2.Dsl.g.cs", "Demo.Outer.mlp.Dsl.g.cs"], run.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.Empty(run.GeneratedFileDiagnostics);
    }

    [Fact]
    public void Network_written_on_two_parts_of_one_class_is_generated_once()
    {
        DeclarationRun run = DeclarationRun.Run(
            Header + "[Network(Input = [40])]\npublic partial class Mlp " + Layers,
            Header + "[Network(Input = [40])]\npublic partial class Mlp { }");
        run.AssertNoCrash();
        Assert.Single(run.GeneratedSources);
        Assert.Contains(run.UserFileDiagnostics, d => d.Id == "CS0579"); // the compiler's: a duplicate attribute
        Assert.Empty(run.GeneratedFileDiagnostics);
    }

    [Theory]
    [InlineData("// <auto-generated/>\n", "Net.cs")]
    [InlineData("", "Net.g.cs")]
    [InlineData("", "Net.designer.cs")]
    [InlineData("", "Net.Dsl.g.cs")]
    public void An_invalid_network_in_a_file_Roslyn_treats_as_generated_still_gets_its_diagnostic(string prefix, string fileName)
    {
        DeclarationRun run = DeclarationRun.Run([new UserFile(fileName, prefix + Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(0)] public partial Layer Logits { get; } }")]);
        AssertOutcome(run, "DSL0003");
    }

    [Fact]
    public void An_implementation_of_a_layer_in_a_user_file_named_like_a_generated_one_is_the_user_s()
    {
        DeclarationRun run = DeclarationRun.Run(
            [
                new UserFile("Mlp.cs", Header + "[Network(Input = [40])]\npublic partial class Mlp " + Layers),
                new UserFile("Mlp.Dsl.g.cs", Header + "public partial class Mlp { public partial Layer Logits => null!; }"),
            ]);
        AssertOutcome(run, "DSL0007");
    }

    private static void AssertOutcome(DeclarationRun run, string expected)
    {
        run.AssertNoCrash();
        Assert.Empty(run.GeneratedFileDiagnostics.Where(d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning));
        if (expected == "model")
        {
            Assert.Empty(run.DslDiagnostics);
            Assert.NotEmpty(run.Models);
            Assert.Empty(run.Errors);
        }
        else
        {
            Assert.Contains(run.DslDiagnostics, d => d.Id == expected);
            if (run.UserFileDiagnostics.Any(d => d.Id is "CS9248" or "CS0751"))
            {
                // No part could join the class (here: System itself is hidden): the generator reports the diagnostic,
                // since the compiler's errors keep a build from reporting the analyzer's.
                Assert.Contains(run.GeneratorDiagnostics, d => d.Id == expected);
            }
        }
    }
}
