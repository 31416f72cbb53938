using Dsl.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Dsl.Analyzers.Tests;

/// <summary>
/// The signal diagnostics' mechanical fixes, before and after: the fixed code compiles and the analyzers, signal rules
/// on, report nothing more about it.
/// </summary>
public sealed class SetAttributeArgumentCodeFixTests
{
    [Fact]
    public Task ARedundantBiasBeforeBatchNormIsDeclaredAway() => VerifyFixAsync(
        """
        using Dsl;
        namespace Demo;
        [Network(Input = [64])]
        public sealed partial class Net
        {
            [{|DSL0106:Dense(64, Init = Init.He)|}] public partial Layer Hidden { get; }
            [BatchNorm] public partial Layer Norm { get; }
            [Relu] public partial Layer Act { get; }
            [Dense(10, Init = Init.He)] public partial Layer Head { get; }
        }
        """,
        """
        using Dsl;
        namespace Demo;
        [Network(Input = [64])]
        public sealed partial class Net
        {
            [Dense(64, Init = Init.He, Bias = false)] public partial Layer Hidden { get; }
            [BatchNorm] public partial Layer Norm { get; }
            [Relu] public partial Layer Act { get; }
            [Dense(10, Init = Init.He)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public Task HeReplacesPyTorchsDefaultOnEveryLayerOfTheNetworkAndItsBlock() => VerifyFixAsync(
        """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Hidden
        {
            [Dense(256), Relu] public partial Layer Dense { get; }
        }

        [Network(Input = [256])]
        public sealed partial class Deep
        {
            [{|DSL0101:{|DSL0102:Repeat(10)|}|}] public partial Repeated<Hidden> Stack { get; }
            [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
        }
        """,
        """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Hidden
        {
            [Dense(256, Init = Init.He), Relu] public partial Layer Dense { get; }
        }

        [Network(Input = [256])]
        public sealed partial class Deep
        {
            [Repeat(10)] public partial Repeated<Hidden> Stack { get; }
            [Dense(10, Init = Init.He)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public Task AnExplodingResidualStackGetsTheBranchScaleTheMessageNames() => VerifyFixAsync(
        """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Branch
        {
            [Dense(256, Init = Init.He), Relu] public partial Layer Up { get; }
            [Dense(256, Init = Init.He)] public partial Layer Down { get; }
        }

        [Network(Input = [64])]
        public sealed partial class Stack
        {
            [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
            [Repeat(8), {|DSL0101:{|DSL0102:{|DSL0103:Residual|}|}|}] public partial Repeated<Branch> Blocks { get; }
            [Dense(10, Init = Init.He)] public partial Layer Head { get; }
        }
        """,
        """
        using Dsl;
        namespace Demo;
        [Block]
        public sealed partial class Branch
        {
            [Dense(256, Init = Init.He), Relu] public partial Layer Up { get; }
            [Dense(256, Init = Init.He)] public partial Layer Down { get; }
        }

        [Network(Input = [64])]
        public sealed partial class Stack
        {
            [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
            [Repeat(8), Residual(Scale = 0.2)] public partial Repeated<Branch> Blocks { get; }
            [Dense(10, Init = Init.He)] public partial Layer Head { get; }
        }
        """);

    [Fact]
    public Task AnInitialiserAlreadyWrittenIsReplacedAndNoFixIsOfferedWhereNoInitialiserHelps() => VerifyFixAsync(
        """
        using Dsl;
        namespace Demo;
        [Network(Input = [64])]
        public sealed partial class Sigmoids
        {
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer A { get; }
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer B { get; }
            [{|DSL0102:Dense(128, Init = Init.Xavier)|}, Sigmoid] public partial Layer C { get; }
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer D { get; }
            [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
        }
        """,
        """
        using Dsl;
        namespace Demo;
        [Network(Input = [64])]
        public sealed partial class Sigmoids
        {
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer A { get; }
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer B { get; }
            [{|DSL0102:Dense(128, Init = Init.Xavier)|}, Sigmoid] public partial Layer C { get; }
            [Dense(128, Init = Init.Xavier), Sigmoid] public partial Layer D { get; }
            [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
        }
        """);

    private static async Task VerifyFixAsync(string source, string fixedSource)
    {
        var test = new Test { TestCode = source, FixedCode = fixedSource };
        if (source == fixedSource)
        {
            test.NumberOfIncrementalIterations = 0;
        }

        await test.RunAsync(CancellationToken.None);
    }

    private sealed class Test : CSharpCodeFixTest<NetworkDeclarationAnalyzer, SetAttributeArgumentCodeFix, DefaultVerifier>
    {
        public Test()
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(HostReferences.All);
            FixedState.AdditionalReferences.AddRange(HostReferences.All);
            // One fix clears every diagnostic it answers (both band warnings are answered by one initialiser).
            NumberOfIncrementalIterations = 1;
            CodeFixTestBehaviors = CodeFixTestBehaviors.SkipFixAllCheck;
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
