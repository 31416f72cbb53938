namespace Dsl.Analyzers.Tests;

/// <summary>Valid declarations shared by the tests.</summary>
internal static class Declarations
{
    /// <summary>The README's network: 40 -> 100 (ReLU) -> 10 logits.</summary>
    public const string Mlp = """
        using Dsl;
        namespace Demo;
        [Network(Input = [40], Loss = Loss.SoftmaxCrossEntropy)]
        public sealed partial class Mlp
        {
            [Dense(100, Init = Init.He), Relu] public partial Layer Hidden1 { get; }
            [Dense(10)] public partial Layer Logits { get; }
        }
        """;
}
