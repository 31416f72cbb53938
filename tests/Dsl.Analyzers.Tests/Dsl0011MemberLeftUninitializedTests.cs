namespace Dsl.Analyzers.Tests;

/// <summary>
/// DSL0011 (a warning), at the member: a non-nullable field or auto-property without an initializer, which the
/// generated constructor leaves null. The network is still generated, and compiles without CS8618.
/// </summary>
public sealed class Dsl0011MemberLeftUninitializedTests
{
    [Fact]
    public async Task FieldAndAutoPropertyWithoutInitializers()
    {
        const string source = """
            #nullable enable
            using Dsl;
            namespace Demo;
            [Network(Input = [40])]
            public sealed partial class Mlp
            {
                private readonly string {|DSL0011:_name|};
                public System.Collections.Generic.List<float> {|DSL0011:History|} { get; set; }
                [Dense(10)] public partial Layer Logits { get; }
            }
            """;
        await AnalyzerVerifier.VerifyAsync(source);

        // A warning: the model is generated, and the compiler's CS8618 is not reported as well.
        DeclarationRun run = DeclarationRun.Run(source.Replace("{|DSL0011:", string.Empty, StringComparison.Ordinal).Replace("|}", string.Empty, StringComparison.Ordinal));
        Assert.NotEmpty(run.Models);
        Assert.DoesNotContain(run.UserFileDiagnostics.Concat(run.GeneratedFileDiagnostics), d => d.Id == "CS8618");
        Assert.DoesNotContain(run.Errors, d => !d.Id.StartsWith("DSL", StringComparison.Ordinal));
    }

    [Fact]
    public Task InitializedNullableRequiredStaticAndComputedMembersAreValid() => AnalyzerVerifier.VerifyValidAsync("""
        #nullable enable
        using Dsl;
        namespace Demo;
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            private readonly string _name = "mlp";
            private string? _note;
            private int _count;
            private static string s_shared = "";
            public required string Tag { get; init; }
            public string Label { get; set; } = "";
            public string Upper => _name.ToUpperInvariant() + _note + _count + s_shared;
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);

    [Fact]
    public Task MembersOfADisabledNullableContextAreValid() => AnalyzerVerifier.VerifyValidAsync("""
        using Dsl;
        namespace Demo;
        #nullable disable
        [Network(Input = [40])]
        public sealed partial class Mlp
        {
            private readonly string _name;
            public string Name => _name;
            [Dense(10)] public partial Layer Logits { get; }
        }
        """);
}
