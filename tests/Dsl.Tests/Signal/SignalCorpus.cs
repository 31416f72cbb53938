using Dsl;

namespace Dsl.Tests.Signal.Corpus;

// The signal-propagation corpus: declared architectures whose moments at initialisation the analyzers predict and
// SignalCorpusTests measures with the runtime (standardised random inputs, a unit Gaussian gradient at the output,
// several seeds). Each network carries the verdict its measurement gives: [Expect(forward, backward)], over the whole
// network (the output's second moment over the input's; the input gradient's squared norm over the output
// gradient's): Explode above 10, Vanish below 0.1, Healthy between. SignalCorpusTests checks every expectation against
// the measurement; the analyzer tests check the analyzers' warnings against the same expectations. Hidden layers are
// 256 wide unless the name says otherwise; inputs have 64 features.

/// <summary>What a network's forward signal or backward gradient does over the whole network at initialisation.</summary>
public enum Verdict
{
    Healthy,
    Explode,
    Vanish,
}

/// <summary>The measured verdicts of a corpus network.</summary>
[System.AttributeUsage(System.AttributeTargets.Class)]
public sealed class ExpectAttribute(Verdict forward, Verdict backward) : System.Attribute
{
    public Verdict Forward { get; } = forward;

    public Verdict Backward { get; } = backward;

    /// <summary>
    /// Set where the predicted gain is not within a factor of 2 of the measured one (the verdicts still agree): why.
    /// The corpus test checks that such a network is indeed a miss, so the list stays true.
    /// </summary>
    public string? Miss { get; set; }
}

// Plain MLPs: every activation with every initialiser at depth 10, and some at depths 2, 30 and 100.

[Block]
public sealed partial class ReluDefaultLayer
{
    [Dense(256), Relu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class ReluHeLayer
{
    [Dense(256, Init = Init.He), Relu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class ReluXavierLayer
{
    [Dense(256, Init = Init.Xavier), Relu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class ReluLeCunLayer
{
    [Dense(256, Init = Init.LeCun), Relu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class LeakyDefaultLayer
{
    [Dense(256), LeakyRelu(0.2)] public partial Layer Dense { get; }
}

[Block]
public sealed partial class LeakyHeLayer
{
    [Dense(256, Init = Init.He), LeakyRelu(0.2)] public partial Layer Dense { get; }
}

[Block]
public sealed partial class LeakyXavierLayer
{
    [Dense(256, Init = Init.Xavier), LeakyRelu(0.2)] public partial Layer Dense { get; }
}

[Block]
public sealed partial class LeakyLeCunLayer
{
    [Dense(256, Init = Init.LeCun), LeakyRelu(0.2)] public partial Layer Dense { get; }
}

[Block]
public sealed partial class GeluDefaultLayer
{
    [Dense(256), Gelu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class GeluHeLayer
{
    [Dense(256, Init = Init.He), Gelu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class GeluXavierLayer
{
    [Dense(256, Init = Init.Xavier), Gelu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class GeluLeCunLayer
{
    [Dense(256, Init = Init.LeCun), Gelu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class SiluDefaultLayer
{
    [Dense(256), Silu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class SiluHeLayer
{
    [Dense(256, Init = Init.He), Silu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class SiluXavierLayer
{
    [Dense(256, Init = Init.Xavier), Silu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class SiluLeCunLayer
{
    [Dense(256, Init = Init.LeCun), Silu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class TanhDefaultLayer
{
    [Dense(256), Tanh] public partial Layer Dense { get; }
}

[Block]
public sealed partial class TanhHeLayer
{
    [Dense(256, Init = Init.He), Tanh] public partial Layer Dense { get; }
}

[Block]
public sealed partial class TanhXavierLayer
{
    [Dense(256, Init = Init.Xavier), Tanh] public partial Layer Dense { get; }
}

[Block]
public sealed partial class TanhLeCunLayer
{
    [Dense(256, Init = Init.LeCun), Tanh] public partial Layer Dense { get; }
}

[Block]
public sealed partial class SigmoidDefaultLayer
{
    [Dense(256), Sigmoid] public partial Layer Dense { get; }
}

[Block]
public sealed partial class SigmoidHeLayer
{
    [Dense(256, Init = Init.He), Sigmoid] public partial Layer Dense { get; }
}

[Block]
public sealed partial class SigmoidXavierLayer
{
    [Dense(256, Init = Init.Xavier), Sigmoid] public partial Layer Dense { get; }
}

[Block]
public sealed partial class SigmoidLeCunLayer
{
    [Dense(256, Init = Init.LeCun), Sigmoid] public partial Layer Dense { get; }
}

[Block]
public sealed partial class ReluHeLayer512
{
    [Dense(512, Init = Init.He), Relu] public partial Layer Dense { get; }
}

[Block]
public sealed partial class LeakyHeLayer512
{
    [Dense(512, Init = Init.He), LeakyRelu(0.2)] public partial Layer Dense { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class ReluDefault10
{
    [Repeat(10)] public partial Repeated<ReluDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class ReluHe10
{
    [Repeat(10)] public partial Repeated<ReluHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class ReluXavier10
{
    [Repeat(10)] public partial Repeated<ReluXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class ReluLeCun10
{
    [Repeat(10)] public partial Repeated<ReluLeCunLayer> Hidden { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class LeakyDefault10
{
    [Repeat(10)] public partial Repeated<LeakyDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class LeakyHe10
{
    [Repeat(10)] public partial Repeated<LeakyHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class LeakyXavier10
{
    [Repeat(10)] public partial Repeated<LeakyXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class LeakyLeCun10
{
    [Repeat(10)] public partial Repeated<LeakyLeCunLayer> Hidden { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class GeluDefault10
{
    [Repeat(10)] public partial Repeated<GeluDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class GeluHe10
{
    [Repeat(10)] public partial Repeated<GeluHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class GeluXavier10
{
    [Repeat(10)] public partial Repeated<GeluXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class GeluLeCun10
{
    [Repeat(10)] public partial Repeated<GeluLeCunLayer> Hidden { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SiluDefault10
{
    [Repeat(10)] public partial Repeated<SiluDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish, Miss = "finite width: the batch's largest samples decay slowest, so at 256 units the measured moments sit above the mean-field ones")]
[Network(Input = [64])]
public sealed partial class SiluHe10
{
    [Repeat(10)] public partial Repeated<SiluHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SiluXavier10
{
    [Repeat(10)] public partial Repeated<SiluXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SiluLeCun10
{
    [Repeat(10)] public partial Repeated<SiluLeCunLayer> Hidden { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class TanhDefault10
{
    [Repeat(10)] public partial Repeated<TanhDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class TanhHe10
{
    [Repeat(10)] public partial Repeated<TanhHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class TanhXavier10
{
    [Repeat(10)] public partial Repeated<TanhXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class TanhLeCun10
{
    [Repeat(10)] public partial Repeated<TanhLeCunLayer> Hidden { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SigmoidDefault10
{
    [Repeat(10)] public partial Repeated<SigmoidDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SigmoidHe10
{
    [Repeat(10)] public partial Repeated<SigmoidHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SigmoidXavier10
{
    [Repeat(10)] public partial Repeated<SigmoidXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SigmoidLeCun10
{
    [Repeat(10)] public partial Repeated<SigmoidLeCunLayer> Hidden { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class ReluDefault2
{
    [Repeat(2)] public partial Repeated<ReluDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class ReluHe2
{
    [Repeat(2)] public partial Repeated<ReluHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class TanhDefault2
{
    [Repeat(2)] public partial Repeated<TanhDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class TanhXavier2
{
    [Repeat(2)] public partial Repeated<TanhXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SigmoidDefault2
{
    [Repeat(2)] public partial Repeated<SigmoidDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class GeluHe2
{
    [Repeat(2)] public partial Repeated<GeluHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class ReluHe30
{
    [Repeat(30)] public partial Repeated<ReluHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class TanhXavier30
{
    [Repeat(30)] public partial Repeated<TanhXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish, Miss = "finite width: the batch's largest samples decay slowest, so at 256 units the measured moments sit far above the mean-field ones")]
[Network(Input = [64])]
public sealed partial class GeluHe30
{
    [Repeat(30)] public partial Repeated<GeluHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SiluHe30
{
    [Repeat(30)] public partial Repeated<SiluHeLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class TanhLeCun30
{
    [Repeat(30)] public partial Repeated<TanhLeCunLayer> Hidden { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy, Miss = "finite width: over 100 layers of 512 units the seed-to-seed spread of the gain makes its geometric mean fall below the mean-field value")]
[Network(Input = [64])]
public sealed partial class ReluHe100Wide512
{
    [Repeat(100)] public partial Repeated<ReluHeLayer512> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class TanhDefault100
{
    [Repeat(100)] public partial Repeated<TanhDefaultLayer> Hidden { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class SigmoidXavier100
{
    [Repeat(100)] public partial Repeated<SigmoidXavierLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Explode, Verdict.Explode, Miss = "finite width: over 100 layers of 512 units the seed-to-seed spread of the gain makes its geometric mean fall below the mean-field value")]
[Network(Input = [64])]
public sealed partial class LeakyHe100Wide512
{
    [Repeat(100)] public partial Repeated<LeakyHeLayer512> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

// Plain networks with other initialisers and shapes.

[Block]
public sealed partial class ReluNormalLayer
{
    [Dense(256, Init = Init.Normal, InitStd = 0.2), Relu] public partial Layer Dense { get; }
}

[Expect(Verdict.Explode, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class ReluNormal10
{
    [Repeat(10)] public partial Repeated<ReluNormalLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class ReluHeFunnel
{
    [Dense(512, Init = Init.He), Relu] public partial Layer Wide { get; }
    [Dense(128, Init = Init.He), Relu] public partial Layer Narrow { get; }
    [Dense(384, Init = Init.He), Relu] public partial Layer Middle { get; }
    [Dense(96, Init = Init.He), Relu] public partial Layer Small { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class ReluZeroHidden
{
    [Dense(256, Init = Init.He), Relu] public partial Layer First { get; }
    [Dense(256, Init = Init.Zero), Relu] public partial Layer Dead { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [64])]
public sealed partial class TanhStandalone
{
    [Repeat(12)] public partial Repeated<TanhStandaloneLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Block]
public sealed partial class TanhStandaloneLayer
{
    [Dense(256, Init = Init.Xavier)] public partial Layer Dense { get; }
    [Tanh] public partial Layer Act { get; }
}

// Residual stacks: an embedding, blocks, a head.

[Block]
public sealed partial class ReluHeBranch
{
    [Dense(256, Init = Init.He), Relu] public partial Layer Up { get; }
    [Dense(256, Init = Init.He)] public partial Layer Down { get; }
}

[Block]
public sealed partial class ReluHeZeroBranch
{
    [Dense(256, Init = Init.He), Relu] public partial Layer Up { get; }
    [Dense(256, Init = Init.Zero)] public partial Layer Down { get; }
}

[Block]
public sealed partial class PreNormReluBranch
{
    [LayerNorm] public partial Layer Norm { get; }
    [Dense(256, Init = Init.He), Relu] public partial Layer Up { get; }
    [Dense(256, Init = Init.He)] public partial Layer Down { get; }
}

[Block]
public sealed partial class PreNormGeluBranch
{
    [LayerNorm] public partial Layer Norm { get; }
    [Dense(256)] public partial Layer Up { get; }
    [Gelu] public partial Layer Act { get; }
    [Dense(256)] public partial Layer Down { get; }
}

[Block]
public sealed partial class PreRmsReluBranch
{
    [RmsNorm] public partial Layer Norm { get; }
    [Dense(256, Init = Init.He), Relu] public partial Layer Up { get; }
    [Dense(256, Init = Init.He)] public partial Layer Down { get; }
}

/// <summary>x = LayerNorm(x + F(x)): the norm after the add.</summary>
[Block]
public sealed partial class PostNormBlock
{
    [Residual] public partial ReluHeBranch Branch { get; }
    [LayerNorm] public partial Layer Norm { get; }
}

[Block]
public sealed partial class BatchNormReluBranch
{
    [Dense(256, Init = Init.He, Bias = false)] public partial Layer Up { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Relu] public partial Layer Act { get; }
    [Dense(256, Init = Init.He)] public partial Layer Down { get; }
}

[Expect(Verdict.Explode, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class ResidualRelu8
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(8), Residual] public partial Repeated<ReluHeBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Explode, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class ResidualRelu3
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(3), Residual] public partial Repeated<ReluHeBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Explode, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class ResidualRelu32
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(32), Residual] public partial Repeated<ReluHeBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class ResidualReluScaled8
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(8), Residual(Scale = 0.2)] public partial Repeated<ReluHeBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class ResidualReluScaled32
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(32), Residual(Scale = 0.1)] public partial Repeated<ReluHeBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class ResidualReluZeroInit32
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(32), Residual] public partial Repeated<ReluHeZeroBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Explode, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class PreNormRelu8
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(8), Residual] public partial Repeated<PreNormReluBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class PreNormRelu8FinalNorm
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(8), Residual] public partial Repeated<PreNormReluBranch> Blocks { get; }
    [LayerNorm] public partial Layer FinalNorm { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class PreNormRelu32FinalNorm
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(32), Residual] public partial Repeated<PreNormReluBranch> Blocks { get; }
    [LayerNorm] public partial Layer FinalNorm { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class PreNormGelu8FinalNorm
{
    [Dense(256)] public partial Layer Embed { get; }
    [Repeat(8), Residual] public partial Repeated<PreNormGeluBranch> Blocks { get; }
    [LayerNorm] public partial Layer FinalNorm { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class PreNormGelu8
{
    [Dense(256)] public partial Layer Embed { get; }
    [Repeat(8), Residual] public partial Repeated<PreNormGeluBranch> Blocks { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class PreRmsRelu16
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(16), Residual] public partial Repeated<PreRmsReluBranch> Blocks { get; }
    [RmsNorm] public partial Layer FinalNorm { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class PostNormRelu8
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(8)] public partial Repeated<PostNormBlock> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class PostNormRelu24
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(24)] public partial Repeated<PostNormBlock> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Explode, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class ResidualBatchNorm16
{
    [Dense(256, Init = Init.He)] public partial Layer Embed { get; }
    [Repeat(16), Residual] public partial Repeated<BatchNormReluBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

// Plain BatchNorm stacks: Dense -> BatchNorm -> activation.

[Block]
public sealed partial class BatchNormReluLayer
{
    [Dense(256, Init = Init.He, Bias = false)] public partial Layer Dense { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Relu] public partial Layer Act { get; }
}

[Block]
public sealed partial class BatchNormTanhLayer
{
    [Dense(256, Init = Init.Xavier, Bias = false)] public partial Layer Dense { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Tanh] public partial Layer Act { get; }
}

[Block]
public sealed partial class BatchNormLinearLayer
{
    [Dense(256, Init = Init.LeCun, Bias = false)] public partial Layer Dense { get; }
    [BatchNorm] public partial Layer Norm { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class BatchNormRelu4
{
    [Repeat(4)] public partial Repeated<BatchNormReluLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class BatchNormRelu12
{
    [Repeat(12)] public partial Repeated<BatchNormReluLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class BatchNormRelu24
{
    [Repeat(24)] public partial Repeated<BatchNormReluLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class BatchNormTanh24
{
    [Repeat(24)] public partial Repeated<BatchNormTanhLayer> Hidden { get; }
    [Dense(10, Init = Init.Xavier)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class BatchNormLinear24
{
    [Repeat(24)] public partial Repeated<BatchNormLinearLayer> Hidden { get; }
    [Dense(10, Init = Init.LeCun)] public partial Layer Head { get; }
}

// Dropout, before and after norms.

[Block]
public sealed partial class ReluDropoutLayer
{
    [Dense(256, Init = Init.He), Relu] public partial Layer Dense { get; }
    [Dropout(0.5)] public partial Layer Drop { get; }
}

[Block]
public sealed partial class DropoutBatchNormLayer
{
    [Dense(256, Init = Init.He, Bias = false), Relu] public partial Layer Dense { get; }
    [Dropout(0.5)] public partial Layer Drop { get; }
    [BatchNorm] public partial Layer Norm { get; }
}

[Block]
public sealed partial class BatchNormDropoutLayer
{
    [Dense(256, Init = Init.He, Bias = false)] public partial Layer Dense { get; }
    [BatchNorm] public partial Layer Norm { get; }
    [Relu] public partial Layer Act { get; }
    [Dropout(0.2)] public partial Layer Drop { get; }
}

[Expect(Verdict.Explode, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class ReluDropout10
{
    [Repeat(10)] public partial Repeated<ReluDropoutLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class ReluDropout2
{
    [Repeat(2)] public partial Repeated<ReluDropoutLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class DropoutBatchNorm12
{
    [Repeat(12)] public partial Repeated<DropoutBatchNormLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [64])]
public sealed partial class BatchNormDropout4
{
    [Repeat(4)] public partial Repeated<BatchNormDropoutLayer> Hidden { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

// Convolutions.

[Block]
public sealed partial class ConvReluHeLayer
{
    [Conv1d(32, 5, Padding = 2, Init = Init.He), Relu] public partial Layer Conv { get; }
}

[Block]
public sealed partial class ConvReluDefaultLayer
{
    [Conv1d(32, 5, Padding = 2), Relu] public partial Layer Conv { get; }
}

[Expect(Verdict.Healthy, Verdict.Healthy)]
[Network(Input = [4, 64])]
public sealed partial class ConvReluHe6
{
    [Repeat(6)] public partial Repeated<ConvReluHeLayer> Convs { get; }
    [Flatten] public partial Layer Flatten { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

[Expect(Verdict.Vanish, Verdict.Vanish)]
[Network(Input = [4, 64])]
public sealed partial class ConvReluDefault6
{
    [Repeat(6)] public partial Repeated<ConvReluDefaultLayer> Convs { get; }
    [Flatten] public partial Layer Flatten { get; }
    [Dense(10)] public partial Layer Head { get; }
}

[Expect(Verdict.Healthy, Verdict.Vanish)]
[Network(Input = [4, 64])]
public sealed partial class ConvPoolRelu
{
    [Conv1d(32, 5, Padding = 2, Init = Init.He), Relu] public partial Layer Conv1 { get; }
    [MaxPool1d(2)] public partial Layer Pool1 { get; }
    [Conv1d(64, 3, Padding = 1, Init = Init.He), Relu] public partial Layer Conv2 { get; }
    [AvgPool1d(2)] public partial Layer Pool2 { get; }
    [Conv1d(64, 3, Padding = 1, Init = Init.He), Relu] public partial Layer Conv3 { get; }
    [GlobalAvgPool] public partial Layer Pool3 { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}

// The MNIST-1D authors' residual form, repeated: h + relu(W h) on a rectified stream, where the stream's and the
// branch's means add coherently.

[Block]
public sealed partial class RectifiedBranch
{
    [Dense(256, Init = Init.He), Relu] public partial Layer Dense { get; }
}

[Expect(Verdict.Explode, Verdict.Explode)]
[Network(Input = [64])]
public sealed partial class RectifiedResidual6
{
    [Dense(256, Init = Init.He), Relu] public partial Layer Embed { get; }
    [Repeat(6), Residual] public partial Repeated<RectifiedBranch> Blocks { get; }
    [Dense(10, Init = Init.He)] public partial Layer Head { get; }
}
