using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// Runs <see cref="NetworkDeclarationAnalyzer"/> over sources with <c>{|DSL0001:span|}</c> markup and
/// requires exactly the marked diagnostics. Compiler diagnostics are ignored: without the generator,
/// every partial layer property lacks its implementation (CS9248), and the invalid declarations
/// under test often carry compiler errors of their own. Valid declarations are also compiled with the
/// generator by <see cref="DeclarationRun"/>, where compiler errors count.
/// </summary>
internal static class AnalyzerVerifier
{
    /// <summary>Each source is one file (/0/Test0.cs, /0/Test1.cs, ...), in that order.</summary>
    public static Task VerifyAsync(params string[] sources)
    {
        var test = new Test();
        foreach (string source in sources)
        {
            test.TestState.Sources.Add(source);
        }

        return test.RunAsync(CancellationToken.None);
    }

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
