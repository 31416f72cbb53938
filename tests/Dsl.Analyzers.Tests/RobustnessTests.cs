namespace Dsl.Analyzers.Tests;

/// <summary>
/// Half-typed and broken declarations, as the IDE sees them between keystrokes. On each, neither the
/// generator nor the analyzer nor <c>NetworkParser.Parse</c> may throw: an exception in a generator
/// shows as CS8785 and drops all its output, one in an analyzer as AD0001.
/// </summary>
public sealed class RobustnessTests
{
    private const string Header = "using Dsl;\nnamespace Demo;\n";

    /// <summary>Case name, then the whole source file.</summary>
    public static TheoryData<string, string> BrokenDeclarations { get; } = new()
    {
        // Unfinished syntax.
        { "empty file", string.Empty },
        { "attribute at end of file", Header + "[Network(" },
        { "unterminated Network attribute", Header + "[Network(Input = [40]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "unterminated input list", Header + "[Network(Input = [)]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "input list with a trailing comma", Header + "[Network(Input = [40,])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Dense with an open argument list", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(] public partial Layer Logits { get; } }" },
        { "Dense with a dangling named argument", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Init = )] public partial Layer Logits { get; } }" },
        { "LeakyRelu with an open argument list", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), LeakyRelu(] public partial Layer Hidden { get; } [Dense(10)] public partial Layer Logits { get; } }" },
        { "unterminated attribute list on a property", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10), Relu public partial Layer Logits { get; } }" },
        { "missing closing brace of the class", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; }" },
        { "missing closing braces of property and class", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits {" },
        { "property without a type", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Logits { get; } }" },
        { "property without a name", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer { get; } }" },
        { "property without accessors", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits }" },
        { "attribute with no member after it", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] }" },
        { "class with no name and no body", Header + "[Network] class" },
        { "class with no body", Header + "[Network(Input = [40])] public partial class Mlp" },
        { "class with a semicolon body", Header + "[Network(Input = [40])] public partial class Mlp;" },

        // Arguments of the wrong type or value.
        { "string width", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(\"x\")] public partial Layer Logits { get; } }" },
        { "fractional width", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10.5)] public partial Layer Logits { get; } }" },
        { "Dense without arguments", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense] public partial Layer Logits { get; } }" },
        { "Dense with two widths", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, 20)] public partial Layer Logits { get; } }" },
        { "Dense with a read-only named argument", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(Units = 10)] public partial Layer Logits { get; } }" },
        { "Bias given a string", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Bias = \"yes\")] public partial Layer Logits { get; } }" },
        { "width from a non-constant", Header + "[Network(Input = [40])]\npublic partial class Mlp { static int n = 10; [Dense(n)] public partial Layer Logits { get; } }" },
        { "width from an unknown name", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(Width)] public partial Layer Logits { get; } }" },
        { "Init out of range", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Init = (Init)99)] public partial Layer Logits { get; } }" },
        { "Fan out of range", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Init = Init.He, Fan = (Fan)5)] public partial Layer Logits { get; } }" },
        { "Loss out of range", Header + "[Network(Input = [40], Loss = (Loss)7)]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Loss without a value", Header + "[Network(Input = [40], Loss = )]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Input given an int", Header + "[Network(Input = 40)]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Input given null", Header + "[Network(Input = null)]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Input given strings", Header + "[Network(Input = [\"40\"])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Input given twice", Header + "[Network(Input = [40], Input = [41])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Network with a positional argument", Header + "[Network(40)]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "unknown named argument", Header + "[Network(Inputs = [40])]\npublic partial class Mlp { [Dense(10, Activation = 1)] public partial Layer Logits { get; } }" },
        { "LeakyRelu slope given a string", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), LeakyRelu(\"steep\")] public partial Layer Hidden { get; } [Dense(10)] public partial Layer Logits { get; } }" },

        // Huge sizes.
        { "width int.MaxValue", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(int.MaxValue)] public partial Layer Logits { get; } }" },
        { "two layers of width int.MaxValue", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(int.MaxValue)] public partial Layer A { get; } [Dense(int.MaxValue)] public partial Layer B { get; } }" },
        { "input int.MaxValue", Header + "[Network(Input = [int.MaxValue])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "width int.MinValue", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(int.MinValue)] public partial Layer Logits { get; } }" },
        { "input of rank 3 with huge dimensions", Header + "[Network(Input = [int.MaxValue, int.MaxValue, int.MaxValue])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "InitStd infinite", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Init = Init.Normal, InitStd = double.PositiveInfinity)] public partial Layer Logits { get; } }" },
        { "LeakyRelu slope NaN", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), LeakyRelu(double.NaN)] public partial Layer Hidden { get; } [Dense(10)] public partial Layer Logits { get; } }" },

        // Attributes where they do not belong.
        { "layer attributes on a method", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10), Relu] public void Logits() { } [Dense(10)] public partial Layer Output { get; } }" },
        { "layer attribute on a field", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public Layer Logits = null!; }" },
        { "layer attribute on an indexer", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer this[int i] { get; } }" },
        { "layer attribute on an event", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public event System.Action? Logits; }" },
        { "layer attribute on a class", Header + "[Network(Input = [40]), Dense(10)]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Network on a struct", Header + "[Network(Input = [40])]\npublic partial struct Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Network on a record", Header + "[Network(Input = [40])]\npublic partial record Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Network on an interface", Header + "[Network(Input = [40])]\npublic partial interface IMlp { [Dense(10)] Layer Logits { get; } }" },
        { "Network on an enum", Header + "[Network(Input = [40])]\npublic enum Mlp { Logits }" },
        { "Network on a delegate", Header + "[Network(Input = [40])]\npublic delegate void Mlp();" },
        { "Network on a method", Header + "public partial class Mlp { [Network(Input = [40])] public void Build() { } }" },
        { "Network twice", Header + "[Network(Input = [40]), Network(Input = [41])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Network on a class nested in a generic class", Header + "public partial class Outer<T> { [Network(Input = [40])] public partial class Mlp { [Dense(10)] public partial Layer Logits { get; } } }" },
        { "Network on a file-local class", Header + "[Network(Input = [40])]\nfile partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },

        // Members that cannot be layers.
        { "layer property of an unknown type", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Lyer Logits { get; } }" },
        { "layer property with init", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; init; } }" },
        { "layer property declared twice", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } [Dense(10)] public partial Layer Logits { get; } }" },
        { "layer property with a body", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public Layer Logits => null!; }" },
        { "class deriving from itself", Header + "[Network(Input = [40])]\npublic partial class Mlp : Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "Dsl.Layer shadowed by a user type", Header + "public sealed class Layer { }\n[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "attributes through aliases", "using Net = Dsl.NetworkAttribute;\nusing Fc = Dsl.DenseAttribute;\nnamespace Demo;\n[Net(Input = [40])]\npublic partial class Mlp { [Fc(10)] public partial Dsl.Layer Logits { get; } }" },
        { "user type named NetworkAttribute", "namespace Demo;\npublic sealed class NetworkAttribute : System.Attribute { }\n[Network]\npublic partial class Mlp { }" },
        { "property with empty accessor list", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { } }" },
        { "property with only a setter", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { set; } }" },
        { "class named with a keyword", Header + "[Network(Input = [40])]\npublic partial class @class { [Dense(10)] public partial Layer Logits { get; } }" },
        { "layer named with a keyword", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer @event { get; } }" },
        { "layer named like a generated member", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), Relu] public partial Layer Parameters { get; } [Dense(10)] public partial Layer Predict { get; } }" },
        { "layers whose names differ in case", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), Relu] public partial Layer hidden { get; } [Dense(10)] public partial Layer Hidden { get; } }" },
        { "user field named like a generated field", Header + "[Network(Input = [40])]\npublic partial class Mlp { private int _parameters; [Dense(10)] public partial Layer Logits { get; } }" },
        { "network with a user constructor of the same signature", Header + "[Network(Input = [40])]\npublic partial class Mlp { public Mlp(Device device, ulong seed = 0) { } [Dense(10)] public partial Layer Logits { get; } }" },
        { "abstract network", Header + "[Network(Input = [40])]\npublic abstract partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "network with a base class", Header + "public class Base { }\n[Network(Input = [40])]\npublic partial class Mlp : Base { [Dense(10)] public partial Layer Logits { get; } }" },
        { "LeakyRelu slope infinite", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), LeakyRelu(1e300)] public partial Layer Hidden { get; } [Dense(10)] public partial Layer Logits { get; } }" },
        { "InitStd tiny", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Init = Init.Normal, InitStd = double.Epsilon)] public partial Layer Logits { get; } }" },
        { "no using Dsl", "namespace Demo;\n[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
    };

    /// <summary>
    /// Declarations that once made the generator throw or emit code that did not compile: each must
    /// now either be reported by a DSL diagnostic or generate code that compiles.
    /// </summary>
    public static TheoryData<string, string> MishandledDeclarations { get; } = new()
    {
        // Generator throws (CS8785): the hint name keeps the '@' of an escaped namespace.
        { "namespace named with a keyword", "using Dsl;\nnamespace @if.Demo;\n[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },

        // Identifiers emitted without their '@'.
        { "class named with a keyword", Header + "[Network(Input = [40])]\npublic partial class @class { [Dense(10)] public partial Layer Logits { get; } }" },
        { "layer named with a keyword", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer @event { get; } }" },

        // Values emitted as text that is not a C# literal or member.
        { "Init out of range", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Init = (Init)99)] public partial Layer Logits { get; } }" },
        { "Fan out of range", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Init = Init.He, Fan = (Fan)5)] public partial Layer Logits { get; } }" },
        { "InitStd infinite", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10, Init = Init.Normal, InitStd = double.PositiveInfinity)] public partial Layer Logits { get; } }" },
        { "LeakyRelu slope NaN", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), LeakyRelu(double.NaN)] public partial Layer Hidden { get; } [Dense(10)] public partial Layer Logits { get; } }" },
        { "LeakyRelu slope beyond float", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), LeakyRelu(1e300)] public partial Layer Hidden { get; } [Dense(10)] public partial Layer Logits { get; } }" },

        // Members the parser accepts as layers but the generator cannot implement.
        { "property with empty accessor list", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { } }" },
        { "layer attribute on an indexer", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(10)] public partial Layer this[int i] { get; } }" },
        { "Network on a file-local class", Header + "[Network(Input = [40])]\nfile partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },

        // Generated members that collide with the user's.
        { "layer named like a generated member", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), Relu] public partial Layer Parameters { get; } [Dense(10)] public partial Layer Predict { get; } }" },
        { "layers whose names differ in case", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(100), Relu] public partial Layer hidden { get; } [Dense(10)] public partial Layer Hidden { get; } }" },
        { "user field named like a generated field", Header + "[Network(Input = [40])]\npublic partial class Mlp { private int _parameters; [Dense(10)] public partial Layer Logits { get; } }" },
        { "user constructor with the generated signature", Header + "[Network(Input = [40])]\npublic partial class Mlp { public Mlp(Device device, ulong seed = 0) { } [Dense(10)] public partial Layer Logits { get; } }" },
    };

    /// <summary>
    /// Values the generator cannot honour: sizes whose parameter count overflows int (wrapped offsets and
    /// counts: a negative array size, or a silently wrong ParameterTotal), and a loss outside the enum
    /// (silently trained as a regression). Must be reported, with no model generated.
    /// </summary>
    public static TheoryData<string, string> OutOfRangeValues { get; } = new()
    {
        { "Loss out of range", Header + "[Network(Input = [40], Loss = (Loss)7)]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "width int.MaxValue", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(int.MaxValue)] public partial Layer Logits { get; } }" },
        { "two layers of width int.MaxValue", Header + "[Network(Input = [40])]\npublic partial class Mlp { [Dense(int.MaxValue)] public partial Layer A { get; } [Dense(int.MaxValue)] public partial Layer B { get; } }" },
        { "input int.MaxValue", Header + "[Network(Input = [int.MaxValue])]\npublic partial class Mlp { [Dense(10)] public partial Layer Logits { get; } }" },
        { "parameter count just above int.MaxValue", Header + "[Network(Input = [46341])]\npublic partial class Mlp { [Dense(46341, Bias = false)] public partial Layer Logits { get; } }" },
    };

    [Theory]
    [MemberData(nameof(MishandledDeclarations))]
    public void AcceptedDeclarationGeneratesCompilingCode(string name, string source)
    {
        Assert.NotNull(name);
        DeclarationRun run = DeclarationRun.Run(source);
        run.AssertNoCrash();
        if (!run.DslDiagnostics.Any())
        {
            Assert.Empty(run.GeneratedErrors);
        }
    }

    [Theory]
    [MemberData(nameof(OutOfRangeValues))]
    public void OutOfRangeValuesAreReportedNotGenerated(string name, string source)
    {
        Assert.NotNull(name);
        DeclarationRun run = DeclarationRun.Run(source);
        run.AssertNoCrash();
        Assert.NotEmpty(run.DslDiagnostics);
        Assert.Empty(run.Models);
        Assert.Empty(run.GeneratedErrors);
    }

    [Theory]
    [MemberData(nameof(BrokenDeclarations))]
    public void NothingThrows(string name, string source)
    {
        Assert.NotNull(name);
        DeclarationRun run = DeclarationRun.Run(source);
        run.AssertNoCrash();
        _ = run.ParseEveryNetwork();
    }

    [Fact]
    public void ThereAreAtLeastThirtyCases() => Assert.True(BrokenDeclarations.Count() >= 30);
}
