using System.Text;
using CsCheck;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Dsl.Analyzers.Tests.Fuzz;

/// <summary>What one mutation does to the sources; its numbers pick the file, the place and the replacement.</summary>
internal enum MutationKind
{
    DeleteToken,
    DeleteLine,
    DuplicateLine,
    SwapLines,
    ReplaceNumber,
    AddModifier,
    RemoveModifier,
    Rename,
    Nest,
    MakeGeneric,
    ChangeKind,
    SplitIntoParts,
    MarkGenerated,
    AddBaseClass,
    AddPrimaryConstructor,
    AddMember,
    AddType,
}

/// <summary>
/// One mutation. <see cref="A"/>, <see cref="B"/> and <see cref="C"/> are taken modulo whatever they index when the
/// mutation is applied (files, tokens, lines, replacement lists), so every value is meaningful on any sources and a
/// shrunk case stays applicable.
/// </summary>
internal readonly record struct Mutation(MutationKind Kind, int A, int B, int C)
{
    public override string ToString() => $"{Kind}({A}, {B}, {C})";
}

/// <summary>A fuzz case: a valid seed declaration and the mutations applied to it in order.</summary>
internal sealed record DeclarationCase(int Seed, Mutation[] Mutations)
{
    public IReadOnlyList<UserFile> Files() => DeclarationMutations.Apply(DeclarationMutations.Seeds[Seed % DeclarationMutations.Seeds.Length], Mutations);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("seed declaration ").Append(Seed % DeclarationMutations.Seeds.Length).Append(", mutations ").AppendJoin(", ", Mutations).Append('\n');
        foreach (UserFile file in Files())
        {
            text.Append("----- ").Append(file.Name).Append('\n').Append(file.Text).Append('\n');
        }

        return text.ToString();
    }
}

/// <summary>
/// Valid declarations and the mutations the fuzz test applies to them: token and line deletions, duplicated and
/// swapped lines, numbers replaced by extreme or non-numeric text, modifiers added and removed, renamed members
/// and namespaces, classes nested, made generic, turned into records, structs and interfaces, split across
/// parts, files marked as generated, base classes, primary constructors, and members and types that collide with
/// what the generator writes or names.
/// </summary>
internal static class DeclarationMutations
{
    public static readonly UserFile[][] Seeds =
    [
        [new("Mlp.cs", """
            using Dsl;

            namespace Demo;

            [Network(Input = [40], Loss = Loss.SoftmaxCrossEntropy)]
            public sealed partial class Mlp
            {
                [Dense(100), Relu] public partial Layer Hidden1 { get; }
                [Dense(100, Init = Init.He), Relu] public partial Layer Hidden2 { get; }
                [Dense(10)] public partial Layer Logits { get; }
            }
            """)],
        [new("Regressor.cs", """
            using Dsl;

            [Network(Input = [5], Loss = Loss.MeanSquaredError)]
            internal partial class Regressor
            {
                [Dense(8, Init = Init.XavierUniform), Tanh] public partial Layer First { get; }
                [Dense(6, Bias = false, Init = Init.Normal, InitStd = 0.02), LeakyRelu(0.2)] internal partial Layer Second { get; }
                [Dense(3), Sigmoid] public partial Layer Output { get; }
            }
            """)],
        [new("Models.cs", """
            using Dsl;

            namespace Demo.Models
            {
                [Network(Input = [2, 3])]
                public partial class Wide
                {
                    [Dense(4)] public partial Layer Logits { get; }
                }

                [Network(Input = [6])]
                public sealed partial class Small
                {
                    [Dense(7, Init = Init.LeCun), Gelu] public partial Layer Up { get; }
                    [Dense(3, Init = Init.Zero), Silu] public partial Layer Down { get; }
                }

                public static class Sizes
                {
                    public const int Classes = 3;
                }
            }
            """)],
        [
            new("Net.cs", """
                using Dsl;

                namespace Demo;

                [Network(Input = [12])]
                public sealed partial class Net
                {
                    [Dense(16, Init = Init.HeUniform, Fan = Fan.Out), Relu] public partial Layer Hidden { get; }
                    [Dense(4)] public partial Layer Logits { get; }
                }
                """),
            new("Net.Members.cs", """
                namespace Demo;

                public sealed partial class Net
                {
                    public string Name { get; set; } = "net";

                    public int Width => 16;
                }
                """),
        ],
        [new("Residual.cs", """
            using Dsl;

            namespace Demo;

            [Block]
            public sealed partial class Branch
            {
                [Dense(100), Relu] public partial Layer Linear { get; }
            }

            [Network(Input = [40])]
            public sealed partial class Mlp
            {
                [Dense(100), Relu] public partial Layer Hidden1 { get; }
                [Residual] public partial Branch Hidden2 { get; }
                [Dense(10)] public partial Layer Logits { get; }
            }
            """)],
        [
            new("PreNorm.cs", """
                using Dsl;

                namespace Demo;

                [Block]
                public partial class PreNorm
                {
                    [LayerNorm(Epsilon = 1e-6)] public partial Layer Norm { get; }
                    [Dense(32, Init = Init.He)] public partial Layer Up { get; }
                    [Gelu] public partial Layer Act { get; }
                    [Dropout(0.1)] public partial Layer Drop { get; }
                    [Dense(16)] public partial Layer Down { get; }
                }
                """),
            new("Deep.cs", """
                using Dsl;

                namespace Demo;

                [Network(Input = [12])]
                public sealed partial class Net
                {
                    [Dense(16)] public partial Layer Embed { get; }
                    [Repeat(3), Residual(Scale = 0.5)] public partial Repeated<PreNorm> Blocks { get; }
                    [RmsNorm(Affine = false)] public partial Layer FinalNorm { get; }
                    [Dense(4)] public partial Layer Head { get; }
                }
                """),
        ],
        [new("Cnn.cs", """
            using Dsl;

            namespace Demo;

            [Block]
            public sealed partial class ConvBlock
            {
                [Conv1d(25, 3, Padding = 1, Groups = 5), Relu] public partial Layer Mix { get; }
            }

            [Network(Input = [1, 40])]
            public sealed partial class Cnn
            {
                [Conv1d(25, 5, Stride = 2, Padding = 1), Relu] public partial Layer Conv1 { get; }
                [Residual] public partial ConvBlock Block { get; }
                [Conv1d(25, 3, Stride = 2, Padding = 1, Dilation = 2, Bias = false), Gelu] public partial Layer Conv2 { get; }
                [Flatten] public partial Layer Flat { get; }
                [Dense(10)] public partial Layer Logits { get; }
            }
            """)],
        [new("ImageCnn.cs", """
            using Dsl;

            namespace Demo;

            [Network(Input = [3, 12, 11])]
            public sealed partial class ImageCnn
            {
                [Conv2d(8, 3, Padding = 1), Relu] public partial Layer Conv1 { get; }
                [MaxPool2d(2)] public partial Layer Pool1 { get; }
                [Conv2d(8, 3, 1, StrideHeight = 2, Groups = 2), Gelu] public partial Layer Conv2 { get; }
                [AvgPool2d(2, Stride = 1, PaddingWidth = 1)] public partial Layer Pool2 { get; }
                [GlobalAvgPool] public partial Layer Gap { get; }
                [Dense(10)] public partial Layer Logits { get; }
            }

            [Network(Input = [2, 30])]
            public sealed partial class PooledCnn
            {
                [Conv1d(6, 3, Padding = 1), Relu] public partial Layer Conv { get; }
                [MaxPool1d(3, Stride = 2, Padding = 1)] public partial Layer Pool { get; }
                [AvgPool1d(2)] public partial Layer Mean { get; }
                [Flatten] public partial Layer Flat { get; }
                [Dense(4)] public partial Layer Logits { get; }
            }
            """)],
    ];

    /// <summary>
    /// A case: a seed declaration and one to three mutations. Token and line edits mostly leave code that does not
    /// compile, where only the no-crash rules apply, so the edits that keep C# valid are drawn three times as often.
    /// </summary>
    public static readonly Gen<DeclarationCase> Cases = Gen.Select(
        Gen.Int[0, Seeds.Length - 1],
        Gen.Select(
            Gen.Frequency(
                (1, Gen.OneOf(Gen.Const(MutationKind.DeleteToken), Gen.Const(MutationKind.DeleteLine), Gen.Const(MutationKind.DuplicateLine), Gen.Const(MutationKind.SwapLines))),
                (3, Gen.Enum<MutationKind>().Where(k => k > MutationKind.SwapLines))),
            Gen.Int[0, 1 << 20],
            Gen.Int[0, 1 << 20],
            Gen.Int[0, 1 << 20],
            (kind, a, b, c) => new Mutation(kind, a, b, c)).Array[1, 3],
        (seed, mutations) => new DeclarationCase(seed, mutations));

    public static IReadOnlyList<UserFile> Apply(UserFile[] seed, IEnumerable<Mutation> mutations)
    {
        var files = seed.ToList();
        foreach (Mutation mutation in mutations)
        {
            Apply(files, mutation);
        }

        return files;
    }

    private static readonly string[] Numbers =
        ["0", "-1", "1", "int.MaxValue", "int.MinValue", "2147483648", "46341", "1e300", "double.NaN", "99999999999999999999", "x", "\"ten\"", "null", "(Init)99", "(Loss)7", "0.5", "-0.0"];

    private static readonly string[] Modifiers =
        ["static", "virtual", "new", "override", "sealed", "abstract", "readonly", "required", "file", "private", "protected", "internal", "public", "unsafe", "extern", "partial", "ref", "protected internal", "private protected"];

    private static readonly string[] Names =
        ["Mlp", "MLP", "mlp", "Predict", "Device", "GpuPath", "Layer", "System", "ILGPU", "Dsl", "Ops", "nameof", "var", "@class", "record", "Math", "_parameters",
         "Hidden1", "Logits", "Forward", "Dispose", "Layers", "SliceTask", "Net", "Wide", "Demo", "Demo.Inner", "global", "Über", "Input", "_output0", "value", "field"];

    private static readonly string[] OuterTypes =
        ["public partial class Outer", "public class Outer", "public partial class Outer<T>", "public static partial class Outer", "public partial struct Outer", "public partial record Outer", "file partial class Outer", "public partial interface IOuter"];

    private static readonly string[] Kinds = ["record", "struct", "record struct", "record class", "interface", "static class", "file class", "abstract class", "ref struct"];

    private static readonly string[] GenericParameters = ["<T>", "<T> where T : class", "<in T>", "<@event>"];

    /// <summary>A base class, and how a derived class names it.</summary>
    private static readonly (string Declaration, string Reference)[] BaseClasses =
    [
        ("public class Base { }", "Base"),
        ("public class Base { public Base(int x) { } }", "Base"),
        ("public class Base { public Base(int x = 1, params int[] rest) { } }", "Base"),
        ("public abstract class Base { public abstract void Run(); }", "Base"),
        ("public abstract class Base { protected abstract int Width { get; } }", "Base"),
        ("public class Base { public void Predict() { } public int Device; }", "Base"),
        ("public class Base { protected Base() { } protected int _capacity; }", "Base"),
        ("public class Base { private Base() { } }", "Base"),
        ("public class Base { internal Base() { } private int _gpu; }", "Base"),
        ("public class Base : System.IDisposable { public virtual void Dispose() { } }", "Base"),
        ("public class Base { public virtual Dsl.Layer Logits => null!; public virtual Dsl.Layer Hidden1 => null!; }", "Base"),
        ("public class Base { public Dsl.Layer Hidden1 => null!; public string Name { get; set; } = \"\"; }", "Base"),
        ("public sealed class Base { }", "Base"),
        ("public class Base<T> { public T? Value; }", "Base<int>"),
        ("public class Base<T> where T : new() { public T Make() => new(); }", "Base<Base<T>>"),
        ("public interface IBase { int Width { get; } }", "IBase"),
        ("public interface IBase { void Dispose(); }", "System.IDisposable, IBase"),
    ];

    private static readonly string[] Members =
    [
        "private string _name;",
        "public string Label { get; set; }",
        "public required string Tag { get; init; }",
        "public int Predict() => 0;",
        "public static int Forward;",
        "private readonly int _parameters;",
        "public Mlp(Device device, ulong seed = 0) { }",
        "public Mlp() { }",
        "[Dense(4)] public partial Layer Extra { get; }",
        "[Relu] public partial Layer Act { get; }",
        "public partial Layer Bare { get; }",
        "public Layer Shortcut => null!;",
        "#nullable disable",
        "#nullable enable",
        "[Dense(3)] public partial Layer? Maybe { get; }",
        "[Dense(3)] public virtual partial Layer Virtual { get; }",
        "[Dense(3)] partial Layer Private { get; }",
        "[Dense(3), Relu] public partial Layer this[int i] { get; }",
        "[Dense(3)] public partial ref Layer ByRef { get; }",
        "[Dense(3)] public partial object NotALayer { get; }",
        "[Dense(3)] public static partial Layer Shared { get; }",
        "[Dense(3)] public partial Layer WithSetter { get; set; }",
        "[Dense(3)] public partial Layer Hidden1 => null!;",
        "public class GpuPath { }",
        "public event System.Action Changed;",
        "[Network(Input = [3])] public partial class InnerNet { [Dense(2)] public partial Layer Out { get; } }",
        "[LayerNorm] public partial Layer Norm { get; }",
        "[RmsNorm(Epsilon = 0)] public partial Layer Rms { get; }",
        "[Dropout(0.5)] public partial Layer Drop { get; }",
        "[BatchNorm(Momentum = 2)] public partial Layer Bn { get; }",
        "[BatchNorm(Affine = false)] public partial Layer Bn { get; }",
        "[Tanh] public partial Layer Squash { get; }",
        "[Residual] public partial Mlp Self { get; }",
        "[Block] public partial class InnerBlock { [Dense(3)] public partial Layer Out { get; } }",
        "[Residual(Scale = 2)] public partial Branch Again { get; }",
        "[Repeat(2)] public partial Repeated<Branch> Many { get; }",
        "[Conv1d(4, 3)] public partial Layer Conv { get; }",
        "[Conv1d(4, 3, Stride = 0, Padding = -2)] public partial Layer BadConv { get; }",
        "[Conv1d(4, 99, Groups = 3), Relu] public partial Layer LongConv { get; }",
        "[Flatten] public partial Layer Flat { get; }",
        "[Flatten, Relu] public partial Layer FlatAct { get; }",
        "[Conv2d(4, 3, 2, Stride = 2)] public partial Layer Conv2 { get; }",
        "[Conv2d(4, 0, PaddingHeight = -1, Groups = 0), Relu] public partial Layer BadConv2 { get; }",
        "[MaxPool1d(2)] public partial Layer Pool1 { get; }",
        "[MaxPool2d(3, 2, Padding = 2, Dilation = 0)] public partial Layer Pool2 { get; }",
        "[AvgPool1d(5, Padding = 3)] public partial Layer Mean1 { get; }",
        "[AvgPool2d(2, Stride = 0)] public partial Layer Mean2 { get; }",
        "[GlobalAvgPool] public partial Layer Gap { get; }",
        "[GlobalAvgPool, Relu] public partial Layer GapAct { get; }",
        "[Repeat(2)] public partial Branch NotRepeated { get; }",
        "public partial Repeated<Branch> NoCount { get; }",
    ];

    private static readonly string[] Types =
    [
        "namespace Dsl { public class Layer { } }",
        "public class System { }",
        "namespace System { public static class Math { } }",
        "namespace Dsl { public class Ops { } }",
        "public class ILGPU { }",
        "namespace Demo { public static class Extensions { public static System.Span<float> AsSpan(this float[] a, int s, int l) => default; public static void CopyTo(this float[] a, System.Span<float> d) { } } }",
        "namespace nameof { public class Placeholder { } }",
        "public class nameof { }",
        "namespace Dsl.Ops { public class Dense { } }",
        "namespace Dsl { public class NetworkAttribute : System.Attribute { } }",
        "public class var { }",
        "namespace Demo { public class Layer { } }",
        "using Dsl; namespace Demo { [Network(Input = [40])] public partial class MLP { [Dense(10)] public partial Layer Logits { get; } } }",
        "using Dsl; namespace Demo { [Network(Input = [40])] public partial class Mlp<T> { [Dense(10)] public partial Layer Logits { get; } } }",
        "using Dsl; [Network(Input = [40])] public partial class Demo { [Dense(10)] public partial Layer Logits { get; } }",
        "namespace Dsl.Graphs { public class GraphBuilder { } }",
        "using Dsl; namespace Demo { [Block] public partial class Branch { [Dense(7)] public partial Layer Wide { get; } } }",
        "using Dsl; namespace Demo { [Block] public class Loose { [Dense(7)] public partial Layer Wide { get; } } }",
    ];

    private static readonly string[] GeneratedNames = [".g.cs", ".designer.cs", ".Dsl.g.cs", ".generated.cs", ".g.i.cs"];

    private static void Apply(List<UserFile> files, Mutation m)
    {
        int index = Pick(m.A, files.Count);
        UserFile file = files[index];
        string text = file.Text;
        switch (m.Kind)
        {
            case MutationKind.DeleteToken:
                text = ReplaceToken(text, Tokens(text), m.B, string.Empty);
                break;
            case MutationKind.DeleteLine:
            {
                List<string> lines = Lines(text);
                lines.RemoveAt(Pick(m.B, lines.Count));
                text = string.Join("\n", lines);
                break;
            }

            case MutationKind.DuplicateLine:
            {
                List<string> lines = Lines(text);
                int at = Pick(m.B, lines.Count);
                lines.Insert(at, lines[at]);
                text = string.Join("\n", lines);
                break;
            }

            case MutationKind.SwapLines:
            {
                List<string> lines = Lines(text);
                int i = Pick(m.B, lines.Count), j = Pick(m.C, lines.Count);
                (lines[i], lines[j]) = (lines[j], lines[i]);
                text = string.Join("\n", lines);
                break;
            }

            case MutationKind.ReplaceNumber:
                text = ReplaceToken(text, Tokens(text).Where(t => t.IsKind(SyntaxKind.NumericLiteralToken)).ToList(), m.B, Numbers[Pick(m.C, Numbers.Length)]);
                break;
            case MutationKind.AddModifier:
            {
                List<SyntaxToken> starts = Tokens(text).Where(t => SyntaxFacts.IsAccessibilityModifier(t.Kind()) || t.IsKind(SyntaxKind.PartialKeyword) || t.IsKind(SyntaxKind.SealedKeyword)).ToList();
                text = InsertBeforeToken(text, starts, m.B, Modifiers[Pick(m.C, Modifiers.Length)] + " ");
                break;
            }

            case MutationKind.RemoveModifier:
                text = ReplaceToken(text, Tokens(text).Where(t => SyntaxFacts.IsAccessibilityModifier(t.Kind()) || t.Kind() is SyntaxKind.PartialKeyword or SyntaxKind.SealedKeyword or SyntaxKind.StaticKeyword or SyntaxKind.InternalKeyword).ToList(), m.B, string.Empty);
                break;
            case MutationKind.Rename:
            {
                // Mostly a declared name (a type, namespace or layer), which keeps the code compiling; sometimes any identifier.
                string[] identifiers = (m.C % 4 == 0 ? Tokens(text).Where(t => t.IsKind(SyntaxKind.IdentifierToken)) : DeclaredNames(text))
                    .Select(t => t.ValueText).Distinct().Order(StringComparer.Ordinal).ToArray();
                if (identifiers.Length > 0)
                {
                    string from = identifiers[Pick(m.B, identifiers.Length)];
                    string to = Names[Pick(m.C, Names.Length)];
                    text = string.Concat(Tokens(text).Select(t => t.IsKind(SyntaxKind.IdentifierToken) && t.ValueText == from ? t.LeadingTrivia.ToFullString() + to + t.TrailingTrivia.ToFullString() : t.ToFullString()));
                }

                break;
            }

            case MutationKind.Nest:
            {
                // Everything after the last using or file-scoped namespace line goes inside an outer type.
                List<string> lines = Lines(text);
                int first = lines.FindLastIndex(l => l.StartsWith("using ", StringComparison.Ordinal) || (l.StartsWith("namespace ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(';'))) + 1;
                lines.Insert(first, OuterTypes[Pick(m.B, OuterTypes.Length)] + " {");
                lines.Add("}");
                text = string.Join("\n", lines);
                break;
            }

            case MutationKind.MakeGeneric:
                text = InsertAfterToken(text, TypeNames(text), m.B, GenericParameters[Pick(m.C, GenericParameters.Length)]);
                break;
            case MutationKind.ChangeKind:
                text = ReplaceToken(text, Tokens(text).Where(t => t.IsKind(SyntaxKind.ClassKeyword)).ToList(), m.B, Kinds[Pick(m.C, Kinds.Length)]);
                break;
            case MutationKind.SplitIntoParts:
            {
                // One member line (a layer, where there are some) moves into a second part of a class, in a file of its own.
                List<SyntaxToken> names = TypeNames(text);
                List<string> lines = Lines(text);
                int[] members = Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains(" partial Layer ", StringComparison.Ordinal) || lines[i].TrimStart().StartsWith("public ", StringComparison.Ordinal)).ToArray();
                if (names.Count > 0 && members.Length > 0)
                {
                    int at = members[Pick(m.B, members.Length)];
                    string moved = lines[at];
                    lines.RemoveAt(at);
                    text = string.Join("\n", lines);
                    string header = string.Join("\n", Lines(file.Text).Where(l => l.StartsWith("using ", StringComparison.Ordinal) || l.StartsWith("namespace ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(';')));
                    files.Add(new UserFile("Part" + files.Count + ".cs", header + "\npublic partial class " + names[Pick(m.C, names.Count)].ValueText + "\n{\n" + moved + "\n}\n"));
                }

                break;
            }

            case MutationKind.MarkGenerated:
                if (m.C % 2 == 0)
                {
                    text = "// <auto-generated/>\n" + text;
                }
                else
                {
                    file = file with { Name = Path.GetFileNameWithoutExtension(file.Name) + GeneratedNames[Pick(m.B, GeneratedNames.Length)] };
                }

                break;
            case MutationKind.AddBaseClass:
            {
                // The base is declared in Demo and in the global namespace, so every seed's classes see one.
                (string declaration, string reference) = BaseClasses[Pick(m.C, BaseClasses.Length)];
                text = InsertAfterToken(text, TypeNames(text), m.B, " : " + reference);
                files.Add(new UserFile("Base" + files.Count + ".cs", "namespace Demo { " + declaration + " }\n" + declaration + "\n"));
                break;
            }
            case MutationKind.AddPrimaryConstructor:
                text = InsertAfterToken(text, TypeNames(text), m.B, m.C % 2 == 0 ? "()" : "(int width)");
                break;
            case MutationKind.AddMember:
            {
                // Right after the opening brace of a type's body.
                List<string> lines = Lines(text);
                int[] bodies = Enumerable.Range(0, lines.Count).Where(i => lines[i].Trim() == "{" && i > 0 && !lines[i - 1].TrimStart().StartsWith("namespace", StringComparison.Ordinal)).ToArray();
                if (bodies.Length > 0)
                {
                    lines.Insert(bodies[Pick(m.B, bodies.Length)] + 1, Members[Pick(m.C, Members.Length)]);
                    text = string.Join("\n", lines);
                }

                break;
            }

            case MutationKind.AddType:
                files.Add(new UserFile("Type" + files.Count + ".cs", Types[Pick(m.C, Types.Length)] + "\n"));
                break;
        }

        files[index] = file with { Text = text };
    }

    private static int Pick(int value, int count) => count <= 0 ? 0 : (int)((uint)value % (uint)count);

    private static List<string> Lines(string text) => text.Split('\n').ToList();

    private static List<SyntaxToken> Tokens(string text) => SyntaxFactory.ParseTokens(text).Where(t => !t.IsKind(SyntaxKind.EndOfFileToken)).ToList();

    /// <summary>Names the sources declare: types, namespace parts, and properties (an identifier right before '{' or '=>').</summary>
    private static IEnumerable<SyntaxToken> DeclaredNames(string text)
    {
        List<SyntaxToken> tokens = Tokens(text);
        for (int i = 0; i < tokens.Count; i++)
        {
            if (!tokens[i].IsKind(SyntaxKind.IdentifierToken))
            {
                continue;
            }

            SyntaxKind before = i > 0 ? tokens[i - 1].Kind() : SyntaxKind.None;
            SyntaxKind after = i + 1 < tokens.Count ? tokens[i + 1].Kind() : SyntaxKind.None;
            if (before is SyntaxKind.ClassKeyword or SyntaxKind.StructKeyword or SyntaxKind.InterfaceKeyword or SyntaxKind.RecordKeyword or SyntaxKind.NamespaceKeyword
                || (before == SyntaxKind.DotToken && i > 1 && tokens[i - 2].IsKind(SyntaxKind.IdentifierToken) && text.Substring(0, tokens[i].SpanStart).LastIndexOf("namespace", StringComparison.Ordinal) > text.Substring(0, tokens[i].SpanStart).LastIndexOf(';'))
                || after is SyntaxKind.OpenBraceToken or SyntaxKind.EqualsGreaterThanToken)
            {
                yield return tokens[i];
            }
        }
    }

    /// <summary>The identifiers right after a class, struct, record or interface keyword.</summary>
    private static List<SyntaxToken> TypeNames(string text)
    {
        List<SyntaxToken> tokens = Tokens(text);
        var names = new List<SyntaxToken>();
        for (int i = 1; i < tokens.Count; i++)
        {
            if (tokens[i].IsKind(SyntaxKind.IdentifierToken) && tokens[i - 1].Kind() is SyntaxKind.ClassKeyword or SyntaxKind.StructKeyword or SyntaxKind.InterfaceKeyword or SyntaxKind.RecordKeyword)
            {
                names.Add(tokens[i]);
            }
        }

        return names;
    }

    private static string ReplaceToken(string text, List<SyntaxToken> tokens, int pick, string replacement)
    {
        if (tokens.Count == 0)
        {
            return text;
        }

        SyntaxToken token = tokens[Pick(pick, tokens.Count)];
        return text.Substring(0, token.SpanStart) + replacement + text.Substring(token.Span.End);
    }

    private static string InsertBeforeToken(string text, List<SyntaxToken> tokens, int pick, string inserted)
    {
        if (tokens.Count == 0)
        {
            return text;
        }

        SyntaxToken token = tokens[Pick(pick, tokens.Count)];
        return text.Substring(0, token.SpanStart) + inserted + text.Substring(token.SpanStart);
    }

    private static string InsertAfterToken(string text, List<SyntaxToken> tokens, int pick, string inserted)
    {
        if (tokens.Count == 0)
        {
            return text;
        }

        SyntaxToken token = tokens[Pick(pick, tokens.Count)];
        return text.Substring(0, token.Span.End) + inserted + text.Substring(token.Span.End);
    }
}
