namespace Dsl.Generators.Tests;

/// <summary>Declarations the snapshot and compile tests run the generator on.</summary>
internal static class Declarations
{
    public const string Mnist1dMlp = """
        using Dsl;

        namespace Examples;

        [Network(Input = [40], Loss = Loss.SoftmaxCrossEntropy)]
        public sealed partial class Mnist1dMlp
        {
            [Dense(100, Init = Init.He), Relu] public partial Layer Hidden1 { get; }
            [Dense(100, Init = Init.He), Relu] public partial Layer Hidden2 { get; }
            [Dense(10, Init = Init.Xavier)] public partial Layer Logits { get; }
        }
        """;

    public const string GeluSiluNoBias = """
        using Dsl;

        namespace Fixtures.Nets;

        [Network(Input = [6])]
        internal sealed partial class GeluSiluNet
        {
            [Dense(11, Init = Init.HeUniform, Fan = Fan.Out), Gelu] public partial Layer Up { get; }
            [Dense(7, Init = Init.LeCun), Silu] internal partial Layer Middle { get; }
            [Dense(4, Bias = false, Init = Init.Normal, InitStd = 0.02)] public partial Layer Head { get; }
        }
        """;

    public const string RegressionWithSigmoidOutput = """
        using Dsl;

        [Network(Input = [5], Loss = Loss.MeanSquaredError)]
        public partial class GlobalRegressor
        {
            [Dense(8, Init = Init.XavierUniform), Tanh] public partial Layer First { get; }
            [Dense(6, Init = Init.Zero), LeakyRelu(0.2)] public partial Layer Second { get; }
            [Dense(3), Sigmoid] public partial Layer Output { get; }
        }
        """;

    public static IEnumerable<object[]> All()
    {
        yield return ["Mnist1dMlp", Mnist1dMlp];
        yield return ["GeluSiluNet", GeluSiluNoBias];
        yield return ["GlobalRegressor", RegressionWithSigmoidOutput];
    }
}
