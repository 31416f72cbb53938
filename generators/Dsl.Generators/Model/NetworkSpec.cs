namespace Dsl.Generators.Model;

// The generator's models: plain values only (strings, numbers, enums, EquatableArray), never a
// symbol, syntax node, location or compilation. Enum values mirror the runtime's Dsl.Init, Dsl.Fan
// and Dsl.Loss by number, since attribute arguments arrive as their underlying integers.

/// <summary>A parsed, valid network declaration.</summary>
/// <param name="Namespace">The class's namespace as C# writes it (keywords escaped), or "" for the global namespace.</param>
/// <param name="ClassName">The class name, unescaped.</param>
/// <param name="InputShape">One sample's shape, without the batch dimension.</param>
internal sealed record NetworkSpec(
    string Namespace,
    string ClassName,
    EquatableArray<int> InputShape,
    LossKind Loss,
    EquatableArray<LayerSpec> Layers);

/// <summary>One layer, in declaration order.</summary>
/// <param name="PropertyName">The partial property that exposes the layer.</param>
/// <param name="Implementation">The property's implementing declaration, as its definition declares it.</param>
/// <param name="Units">Output width of a Dense layer.</param>
/// <param name="InitStd">Standard deviation for <see cref="InitKind.Normal"/>.</param>
/// <param name="Slope">Negative slope for <see cref="ActivationKind.LeakyRelu"/>.</param>
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
    double Slope);

internal enum LayerKind
{
    Dense,
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
