namespace Dsl.Generators.Model;

// The generator's models: plain values only (strings, numbers, enums, EquatableArray), never a
// symbol, syntax node, location or compilation. Enum values mirror the runtime's Dsl.Init, Dsl.Fan
// and Dsl.Loss by number, since attribute arguments arrive as their underlying integers.

/// <summary>A parsed, valid network declaration.</summary>
/// <param name="Namespace">The class's namespace as C# writes it (keywords escaped), or "" for the global namespace.</param>
/// <param name="ClassName">The class name, unescaped.</param>
/// <param name="InputShape">One sample's shape, without the batch dimension.</param>
/// <param name="Layers">The layers when they are a chain of dense layers (each with its activation); empty otherwise.</param>
/// <param name="Items">The network's layers and block properties in declaration order.</param>
internal sealed record NetworkSpec(
    string Namespace,
    string ClassName,
    EquatableArray<int> InputShape,
    LossKind Loss,
    EquatableArray<LayerSpec> Layers,
    EquatableArray<ItemSpec> Items = default,
    TrainingSpec? Training = null)
{
    /// <summary>Whether the network is a chain of dense layers, whose GPU kernels are compiled with its widths as constants (see <c>GraphEmitter</c>).</summary>
    public bool IsDenseChain => Layers.Count > 0;
}

/// <summary>
/// A network's declared training policy (its class's [Warmup], [CosineDecay], [StepDecay], [ClipGradientNorm] and
/// [DecayAllParameters]); null on the spec when it declares none of them.
/// </summary>
/// <param name="WarmupSteps">Updates of linear warm-up; 0 for none.</param>
/// <param name="DecaySteps">Cosine: the updates it takes; step decay: the updates between decays; 0 for no decay.</param>
/// <param name="DecayFactor">Cosine: the final factor; step decay: the factor per decay.</param>
/// <param name="MaxGradientNorm">Clipping's global norm; 0 for none.</param>
internal sealed record TrainingSpec(int WarmupSteps, DecayKind Decay, int DecaySteps, double DecayFactor, double MaxGradientNorm, bool DecayAllParameters);

/// <summary>The learning-rate decay a network declares after its warm-up.</summary>
internal enum DecayKind
{
    None,
    Cosine,
    Step,
}

/// <summary>One property of a network or block: a layer, or a block used once or repeated.</summary>
internal sealed record ItemSpec(LayerSpec? Layer, BlockUseSpec? Block);

/// <summary>A block property: <c>[Residual(Scale = s)] [Repeat(n)] public partial T Name { get; }</c>.</summary>
/// <param name="Repeat">Repetitions of a <c>Repeated&lt;T&gt;</c> property; 0 for a property of the block's own type.</param>
internal sealed record BlockUseSpec(string PropertyName, PartialPropertySpec Implementation, BlockSpec Block, bool Residual, double Scale, int Repeat);

/// <summary>A parsed [Block] class.</summary>
/// <param name="TypeName">The class as generated code names it, from global:: (<c>global::Demo.PreNormBlock</c>).</param>
internal sealed record BlockSpec(string Namespace, string ClassName, string TypeName, EquatableArray<ItemSpec> Items);

/// <summary>One layer, in declaration order.</summary>
/// <param name="PropertyName">The partial property that exposes the layer.</param>
/// <param name="Implementation">The property's implementing declaration, as its definition declares it.</param>
/// <param name="Units">Output width of a Dense layer.</param>
/// <param name="InitStd">Standard deviation for <see cref="InitKind.Normal"/>.</param>
/// <param name="Slope">Negative slope for <see cref="ActivationKind.LeakyRelu"/>.</param>
/// <param name="Epsilon">A norm's epsilon.</param>
/// <param name="Affine">Whether a norm has its gain (and, for LayerNorm, bias).</param>
/// <param name="Probability">A dropout layer's drop probability.</param>
/// <param name="Momentum">A batch norm's momentum of the running statistics.</param>
/// <param name="Factor">A scale layer's factor.</param>
/// <param name="Kernel">A convolution's or pool's kernel taps along the length or width (a convolution's output channels are <paramref name="Units"/>).</param>
/// <param name="Stride">A convolution's or pool's stride along the length or width.</param>
/// <param name="Padding">A convolution's or pool's padding at each end of the length or width.</param>
/// <param name="Dilation">A convolution's or pool's spacing between taps along the length or width.</param>
/// <param name="Groups">A convolution's channel groups.</param>
/// <param name="KernelHeight">A two-dimensional convolution's or pool's kernel rows (1 for one-dimensional ones).</param>
/// <param name="StrideHeight">The stride along the height (1 for one-dimensional ops).</param>
/// <param name="PaddingHeight">The padding of the height (0 for one-dimensional ops).</param>
/// <param name="DilationHeight">The dilation along the height (1 for one-dimensional ops).</param>
internal sealed record LayerSpec(
    string PropertyName,
    PartialPropertySpec Implementation,
    LayerKind Kind,
    int Units,
    bool HasBias,
    InitKind Init,
    FanKind Fan,
    double InitStd,
    ActivationKind Activation,
    double Slope,
    double Epsilon = 0,
    bool Affine = false,
    double Probability = 0,
    double Momentum = 0,
    double Factor = 0,
    int Kernel = 0,
    int Stride = 0,
    int Padding = 0,
    int Dilation = 0,
    int Groups = 0,
    int KernelHeight = 1,
    int StrideHeight = 1,
    int PaddingHeight = 0,
    int DilationHeight = 1);

/// <summary>Mirrors Dsl.LayerKind.</summary>
internal enum LayerKind
{
    Dense,
    Activation,
    LayerNorm,
    RmsNorm,
    Dropout,
    BatchNorm,
    Scale,
    Conv1d,
    Flatten,
    Conv2d,
    MaxPool1d,
    MaxPool2d,
    AvgPool1d,
    AvgPool2d,
    GlobalAvgPool,
}

internal enum ActivationKind
{
    Identity,
    Relu,
    LeakyRelu,
    Gelu,
    Silu,
    Tanh,
    Sigmoid,
}

/// <summary>Mirrors Dsl.Init.</summary>
internal enum InitKind
{
    TorchDefault = 0,
    He,
    HeUniform,
    Xavier,
    XavierUniform,
    LeCun,
    Zero,
    Normal,
}

/// <summary>Mirrors Dsl.Fan.</summary>
internal enum FanKind
{
    In = 0,
    Out = 1,
}

/// <summary>Mirrors Dsl.Loss.</summary>
internal enum LossKind
{
    SoftmaxCrossEntropy = 0,
    MeanSquaredError = 1,
}
