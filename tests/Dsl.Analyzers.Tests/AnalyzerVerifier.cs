using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// Runs <see cref="NetworkDeclarationAnalyzer"/> over sources with <c>{|DSL0001:span|}</c> markup and
/// requires exactly the marked diagnostics. Compiler diagnostics are ignored there: without the generator,
/// every partial layer property lacks its implementation (CS9248), and the invalid declarations under
/// test often carry compiler errors of their own. Every declaration is also compiled with the generator
/// by <see cref="DeclarationRun"/>, where errors in generated files fail the test, and for valid ones
/// any error at all.
/// </summary>
internal static class AnalyzerVerifier
{
    /// <summary>
    /// Each source is one file (/0/Test0.cs, /0/Test1.cs, ...), in that order. Then the generator runs over the
    /// sources (markup removed) as the compiler runs it: it must not throw, and what it generates must compile,
    /// whatever the declaration's problems (an invalid network gets a part whose members throw).
    /// </summary>
    public static Task VerifyAsync(params string[] sources) => VerifyAsync(signal: false, sources);

    /// <summary>
    /// As <see cref="VerifyAsync(string[])"/>, with the signal diagnostics (DSL0101 on) when <paramref name="signal"/> is
    /// set; without it they are disabled, so a test of a declaration rule marks only that rule's diagnostics.
    /// </summary>
    public static async Task VerifyAsync(bool signal, params string[] sources)
    {
        var test = new Test();
        if (!signal)
        {
            test.DisabledDiagnostics.AddRange(SignalIds);
        }

        foreach (string source in sources)
        {
            test.TestState.Sources.Add(source);
        }

        await test.RunAsync(CancellationToken.None);

        DeclarationRun run = DeclarationRun.Run(sources.Select(WithoutMarkup).ToArray());
        run.AssertNoCrash();
        Assert.Empty(run.GeneratedErrors);
    }

    /// <summary>One source with the signal diagnostics on and <paramref name="editorConfig"/>'s lines under [*] in the project's .editorconfig.</summary>
    public static async Task VerifyWithEditorConfigAsync(string source, string editorConfig)
    {
        var test = new Test();
        test.TestState.Sources.Add(source);
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n\n[*]\n" + editorConfig));
        await test.RunAsync(CancellationToken.None);
    }

    /// <summary>The source without its {|ID:...|} markup, as the compiler sees it.</summary>
    private static string WithoutMarkup(string source)
        => System.Text.RegularExpressions.Regex.Replace(source, @"\{\|[A-Z]+[0-9]+:|\|\}", string.Empty);

    /// <summary>
    /// A declaration the analyzer must accept: no diagnostic; the generator emits its file; and the
    /// user's files and the generated file then compile without error.
    /// </summary>
    public static async Task VerifyValidAsync(params string[] sources)
    {
        await VerifyAsync(sources);
        DeclarationRun run = DeclarationRun.Run(sources);
        run.AssertNoCrash();
        Assert.NotEmpty(run.Models);
        Assert.Empty(run.Fallbacks);
        Assert.Empty(run.UserErrors);
        Assert.Empty(run.GeneratedErrors);
    }

    /// <summary>The IDs of category Dsl.Signal.</summary>
    public static string[] SignalIds { get; } = [.. new NetworkDeclarationAnalyzer().SupportedDiagnostics.Where(d => d.Category == "Dsl.Signal").Select(d => d.Id)];

    private sealed class Test : CSharpAnalyzerTest<NetworkDeclarationAnalyzer, DefaultVerifier>
    {
        public Test()
        {
            // No reference package: the host's own assemblies, so nothing is resolved from a feed.
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(HostReferences.All);
            CompilerDiagnostics = CompilerDiagnostics.None;
        }

        protected override ParseOptions CreateParseOptions()
            => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(HostReferences.ParseOptions.LanguageVersion);
    }
}
