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

    /// <summary>A network declaring its whole training policy: warm-up, step decay, clipping, decay on every parameter.</summary>
    public const string Scheduled = """
        using Dsl;

        namespace Examples;

        [Network(Input = [12])]
        [Warmup(500), StepDecay(1000, 0.5)]
        [ClipGradientNorm(1.0)]
        [DecayAllParameters]
        public sealed partial class Scheduled
        {
            [Dense(16, Init = Init.He), Relu] public partial Layer Hidden { get; }
            [Dense(4)] public partial Layer Logits { get; }
        }
        """;

    /// <summary>A network with a Dsl error (a zero width) in a class the generated part can join.</summary>
    public const string ZeroWidth = """
        using Dsl;

        namespace @if.Demo;

        [Network(Input = [4])]
        public sealed partial class Broken
        {
            [Dense(8), Relu] internal partial Layer? Hidden { get; }
            [Dense(0)] public partial Layer Logits { get; }
        }
        """;

    /// <summary>A generic network nested in a generic class (DSL0001), with members of every shape a part must repeat.</summary>
    public const string GenericNested = """
        using Dsl;

        namespace Fixtures;

        public partial class Models<T>
        {
            public class Base
            {
                public virtual Layer Logits => null!;
            }

            [Network(Input = [4])]
            public partial class Typed<@event> : Base where @event : class
            {
                [Dense(3)] public sealed override partial Layer Logits { get; }
                [Dense(3)] protected internal partial int Count { get; private set; }
                [Dense(2)] public partial Layer this[int row, params int[] columns] { get; }
                public static partial Layer Shared { get; }
            }
        }
        """;

    public static IEnumerable<object[]> Invalid()
    {
        yield return ["Broken", ZeroWidth];
        yield return ["Typed", GenericNested];
    }

    public static IEnumerable<object[]> All()
    {
        yield return ["Mnist1dMlp", Mnist1dMlp];
        yield return ["GeluSiluNet", GeluSiluNoBias];
        yield return ["GlobalRegressor", RegressionWithSigmoidOutput];
        yield return ["Scheduled", Scheduled];
    }
}
