using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Dsl.Generators.Tests;

/// <summary>
/// The pipeline must cache: a second run over an unchanged network (with an unrelated edit elsewhere)
/// reports every tracked step Cached or Unchanged, and no step output holds a symbol, syntax node,
/// location or compilation (which would defeat caching and keep compilations alive).
/// </summary>
public sealed class IncrementalityTests
{
    private static readonly string[] TrackedSteps = [TrackingNames.ParsedNetworks, TrackingNames.Networks, TrackingNames.HintCollisions];

    [Fact]
    public void Second_run_with_an_unrelated_edit_is_cached()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Declarations.Mnist1dMlp, "public class Unrelated { }");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(first);

        SyntaxTree unrelated = first.SyntaxTrees.Last();
        CSharpCompilation second = first.ReplaceSyntaxTree(
            unrelated,
            CSharpSyntaxTree.ParseText("public class Unrelated { public int Added => 1; }", GeneratorHarness.ParseOptions, path: unrelated.FilePath));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        foreach (string step in TrackedSteps)
        {
            IncrementalGeneratorRunStep[] runs = rerun.TrackedSteps[step].ToArray();
            Assert.NotEmpty(runs);
            foreach (IncrementalGeneratorRunStep run in runs)
            {
                foreach ((object _, IncrementalStepRunReason reason) in run.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {reason}");
                }
            }
        }

        Assert.All(rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), output =>
            Assert.True(output.Reason == IncrementalStepRunReason.Cached, $"output step: {output.Reason}"));
    }

    [Fact]
    public void Reformatting_the_network_reruns_the_parser_but_not_the_emitter()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Declarations.Mnist1dMlp);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(first);

        SyntaxTree tree = first.SyntaxTrees.Single();
        string reformatted = Declarations.Mnist1dMlp.Replace("public sealed partial class", "// a comment\npublic sealed partial class", StringComparison.Ordinal);
        CSharpCompilation second = first.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(reformatted, GeneratorHarness.ParseOptions, path: tree.FilePath));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        IncrementalGeneratorRunStep parsed = rerun.TrackedSteps[TrackingNames.ParsedNetworks].Single();
        Assert.Equal(IncrementalStepRunReason.Unchanged, parsed.Outputs.Single().Reason);
        Assert.All(rerun.TrackedSteps[TrackingNames.Networks].SelectMany(s => s.Outputs), o =>
            Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
    }

    [Fact]
    public void Changing_a_width_changes_the_model()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Declarations.Mnist1dMlp);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(first);
        SyntaxTree tree = first.SyntaxTrees.Single();
        string wider = Declarations.Mnist1dMlp.Replace("[Dense(100, Init = Init.He), Relu] public partial Layer Hidden2", "[Dense(128, Init = Init.He), Relu] public partial Layer Hidden2", StringComparison.Ordinal);
        CSharpCompilation second = first.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(wider, GeneratorHarness.ParseOptions, path: tree.FilePath));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();
        Assert.Equal(IncrementalStepRunReason.Modified, rerun.TrackedSteps[TrackingNames.ParsedNetworks].Single().Outputs.Single().Reason);
        Assert.Contains("128", rerun.GeneratedSources.Single().SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_one_network_re_emits_that_network_alone()
    {
        CSharpCompilation first = GeneratorHarness.Compile(Declarations.Mnist1dMlp, Declarations.GeluSiluNoBias);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(first);
        SyntaxTree tree = first.SyntaxTrees.First();
        string wider = Declarations.Mnist1dMlp.Replace("[Dense(100, Init = Init.He), Relu] public partial Layer Hidden2", "[Dense(128, Init = Init.He), Relu] public partial Layer Hidden2", StringComparison.Ordinal);
        CSharpCompilation second = first.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(wider, GeneratorHarness.ParseOptions, path: tree.FilePath));
        GeneratorRunResult rerun = driver.RunGenerators(second).GetRunResult().Results.Single();

        // The file-name collisions (none) are unchanged, so of the two networks' outputs only the edited one's is new.
        Assert.All(rerun.TrackedSteps[TrackingNames.HintCollisions].SelectMany(s => s.Outputs), o =>
            Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"collisions: {o.Reason}"));
        IncrementalStepRunReason[] outputs = [.. rerun.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason)];
        Assert.Equal(2, outputs.Length);
        Assert.Single(outputs, reason => reason == IncrementalStepRunReason.Modified);
        Assert.Single(outputs, reason => reason == IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void No_step_output_holds_a_symbol_syntax_node_location_or_compilation()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(Declarations.Mnist1dMlp, Declarations.GeluSiluNoBias);
        GeneratorRunResult result = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation).GetRunResult().Results.Single();
        int visited = 0;
        foreach (string step in TrackedSteps)
        {
            foreach (IncrementalGeneratorRunStep run in result.TrackedSteps[step])
            {
                foreach ((object value, _) in run.Outputs)
                {
                    AssertNoRoslynObjects(value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
                    visited++;
                }
            }
        }

        Assert.True(visited >= 4, $"expected outputs for two networks in two steps, saw {visited}");
    }

    private static void AssertNoRoslynObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }

        Assert.False(value is ISymbol or SyntaxNode or Location or Compilation or SemanticModel or SyntaxTree, $"{path} holds a {value.GetType().Name}");
        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items)
            {
                AssertNoRoslynObjects(item, $"{path}[{i++}]", seen);
            }
        }

        foreach (FieldInfo field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertNoRoslynObjects(field.GetValue(value), path + "." + field.Name, seen);
        }
    }
}
