using System.Globalization;

namespace Dsl.Gpu;

/// <summary>
/// One dense layer of a fused network, as the fused kernel reads it: y = phi(x W^T + b) with W (Units, FanIn)
/// row-major at <see cref="WeightOffset"/> and b (Units) at <see cref="BiasOffset"/> (-1: no bias) in the
/// network's single flat parameter buffer (the layout of <see cref="INetwork.Parameters"/>); the gradients use
/// the same offsets in the gradient buffer. Unmanaged, so it travels inside <see cref="FusedMlpPlan"/> as a
/// kernel argument.
/// </summary>
public readonly struct FusedLayer : IEquatable<FusedLayer>
{
    /// <summary>Describes a layer; the tile offsets are filled in by <see cref="FusedMlpPlan.Create(int, ReadOnlySpan{FusedLayer}, Loss)"/>.</summary>
    /// <param name="fanIn">Input width; positive.</param>
    /// <param name="units">Output width; positive.</param>
    /// <param name="activation">phi.</param>
    /// <param name="slope">LeakyReLU's negative-side slope (finite, non-negative); ignored by other activations.</param>
    /// <param name="weightOffset">Offset of W (units, fanIn) in the parameter buffer; non-negative.</param>
    /// <param name="biasOffset">Offset of b (units) in the parameter buffer, or -1 for a layer without bias.</param>
    public FusedLayer(int fanIn, int units, Activation activation, float slope, int weightOffset, int biasOffset)
        : this(fanIn, units, activation, slope, weightOffset, biasOffset, 0, 0, -1)
    {
    }

    private FusedLayer(int fanIn, int units, Activation activation, float slope, int weightOffset, int biasOffset, int tileInput, int tileOutput, int tilePreActivation)
    {
        FanIn = fanIn;
        Units = units;
        ActivationCode = (int)activation;
        Slope = slope;
        WeightOffset = weightOffset;
        BiasOffset = biasOffset;
        TileInput = tileInput;
        TileOutput = tileOutput;
        TilePreActivation = tilePreActivation;
    }

    /// <summary>Input width.</summary>
    public int FanIn { get; }

    /// <summary>Output width.</summary>
    public int Units { get; }

    /// <summary>phi.</summary>
    public Activation Activation => (Activation)ActivationCode;

    /// <summary>LeakyReLU's negative-side slope.</summary>
    public float Slope { get; }

    /// <summary>Offset of W (Units, FanIn) in the parameter and gradient buffers.</summary>
    public int WeightOffset { get; }

    /// <summary>Offset of b (Units) in the parameter and gradient buffers, or -1.</summary>
    public int BiasOffset { get; }

    /// <summary><see cref="Activation"/> as an int: what the kernel switches on.</summary>
    internal int ActivationCode { get; }

    /// <summary>Offset (floats) in the tile's shared memory of this layer's input x, (TileRows, FanIn) row-major.</summary>
    internal int TileInput { get; }

    /// <summary>Offset of this layer's output y, (TileRows, Units); in the backward pass it holds dz instead.</summary>
    internal int TileOutput { get; }

    /// <summary>Offset of the pre-activation z, (TileRows, Units), or -1 when phi' reads only y.</summary>
    internal int TilePreActivation { get; }

    /// <summary>This layer with its tile buffers placed.</summary>
    internal FusedLayer WithTile(int tileInput, int tileOutput, int tilePreActivation)
        => new(FanIn, Units, Activation, Slope, WeightOffset, BiasOffset, tileInput, tileOutput, tilePreActivation);

    /// <summary>Field-wise equality: the key under which ILGPU caches a fused kernel specialised for a plan.</summary>
    public bool Equals(FusedLayer other)
        => FanIn == other.FanIn && Units == other.Units && ActivationCode == other.ActivationCode && Slope.Equals(other.Slope)
            && WeightOffset == other.WeightOffset && BiasOffset == other.BiasOffset
            && TileInput == other.TileInput && TileOutput == other.TileOutput && TilePreActivation == other.TilePreActivation;

    public override bool Equals(object? obj) => obj is FusedLayer other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(FanIn, Units, ActivationCode, Slope, WeightOffset, BiasOffset, TileOutput);

    public static bool operator ==(FusedLayer left, FusedLayer right) => left.Equals(right);

    public static bool operator !=(FusedLayer left, FusedLayer right) => !left.Equals(right);
}

/// <summary>
/// A whole small network for the fused kernel (<see cref="FusedMlp"/>): up to <see cref="FusedMlp.MaxLayers"/>
/// dense layers, the input width and the loss, and where each layer's activations live in a tile's shared
/// memory. An unmanaged struct of fixed size (ILGPU kernels cannot take arrays): the layers are eight
/// separate fields, read through <see cref="this[int]"/>.
/// </summary>
/// <remarks>
/// Shared memory of one tile, in floats, each buffer (TileRows, width) row-major: the input x0 (InputWidth),
/// then for every layer its output y (Units) followed, for GELU and SiLU, by its pre-activation z (Units).
/// Layer l's input is layer l-1's output.
/// </remarks>
public readonly struct FusedMlpPlan : IEquatable<FusedMlpPlan>
{
    private readonly FusedLayer _layer0;
    private readonly FusedLayer _layer1;
    private readonly FusedLayer _layer2;
    private readonly FusedLayer _layer3;
    private readonly FusedLayer _layer4;
    private readonly FusedLayer _layer5;
    private readonly FusedLayer _layer6;
    private readonly FusedLayer _layer7;

    private FusedMlpPlan(int inputWidth, int layerCount, Loss loss, int tileFloats, int parameterCount, ReadOnlySpan<FusedLayer> layers)
    {
        InputWidth = inputWidth;
        LayerCount = layerCount;
        LossCode = (int)loss;
        TileFloats = tileFloats;
        ParameterCount = parameterCount;
        _layer0 = layers.Length > 0 ? layers[0] : default;
        _layer1 = layers.Length > 1 ? layers[1] : default;
        _layer2 = layers.Length > 2 ? layers[2] : default;
        _layer3 = layers.Length > 3 ? layers[3] : default;
        _layer4 = layers.Length > 4 ? layers[4] : default;
        _layer5 = layers.Length > 5 ? layers[5] : default;
        _layer6 = layers.Length > 6 ? layers[6] : default;
        _layer7 = layers.Length > 7 ? layers[7] : default;
    }

    /// <summary>Elements of one input sample.</summary>
    public int InputWidth { get; }

    /// <summary>Number of layers, 1 to <see cref="FusedMlp.MaxLayers"/>.</summary>
    public int LayerCount { get; }

    /// <summary>The loss the training kernel differentiates.</summary>
    public Loss Loss => (Loss)LossCode;

    /// <summary>Elements of one output sample (the last layer's units).</summary>
    public int OutputWidth => this[LayerCount - 1].Units;

    /// <summary>Shared-memory floats one tile uses, at most <see cref="FusedMlp.SharedFloats"/>.</summary>
    public int TileFloats { get; }

    /// <summary>Smallest parameter (and gradient) buffer length the layers' offsets fit in.</summary>
    public int ParameterCount { get; }

    /// <summary><see cref="Loss"/> as an int: what the kernel switches on.</summary>
    internal int LossCode { get; }

    /// <summary>Layer <paramref name="index"/> in [0, <see cref="LayerCount"/>); outside that range, a default layer.</summary>
    public FusedLayer this[int index] => index switch
    {
        0 => _layer0,
        1 => _layer1,
        2 => _layer2,
        3 => _layer3,
        4 => _layer4,
        5 => _layer5,
        6 => _layer6,
        7 => _layer7,
        _ => default,
    };

    /// <summary>The plan of a generated network's layers (<see cref="INetwork.Layers"/>), with their parameter offsets.</summary>
    /// <exception cref="ArgumentException">The network does not qualify (<see cref="FusedMlp.Fits(int, IReadOnlyList{Layer})"/>).</exception>
    public static FusedMlpPlan Create(INetwork network, Loss loss)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Create(network.InputSize, network.Layers, loss);
    }

    /// <summary>The plan of a list of <see cref="Layer"/>s (input width <paramref name="inputWidth"/>).</summary>
    /// <exception cref="ArgumentException">The layers do not qualify or do not chain.</exception>
    public static FusedMlpPlan Create(int inputWidth, IReadOnlyList<Layer> layers, Loss loss)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var described = new FusedLayer[layers.Count];
        for (int l = 0; l < described.Length; l++)
        {
            Layer layer = layers[l];
            described[l] = new FusedLayer(layer.FanIn, layer.Units, layer.Activation, layer.Slope, layer.WeightOffset, layer.BiasOffset);
        }

        return Create(inputWidth, described, loss);
    }

    /// <summary>
    /// Validates the layers (they chain from <paramref name="inputWidth"/>, offsets are non-negative, the network
    /// qualifies by <see cref="FusedMlp.Fits(int, ReadOnlySpan{int}, ReadOnlySpan{Activation})"/>, the weight and bias
    /// ranges cover [0, ParameterCount) without gaps or overlaps) and places their
    /// activations in the tile's shared memory.
    /// </summary>
    /// <exception cref="ArgumentException">A layer is malformed, the layers do not chain, or the network does not fit.</exception>
    public static FusedMlpPlan Create(int inputWidth, ReadOnlySpan<FusedLayer> layers, Loss loss)
    {
        if (loss is not (Loss.SoftmaxCrossEntropy or Loss.MeanSquaredError))
        {
            throw new ArgumentOutOfRangeException(nameof(loss), loss, "Unknown loss.");
        }

        Span<int> units = stackalloc int[layers.Length];
        Span<Activation> activations = new Activation[layers.Length];
        int width = inputWidth;
        long parameterEnd = 0; // the largest end of a weight or bias range, in long: offsets near int.MaxValue must not wrap
        for (int l = 0; l < layers.Length; l++)
        {
            FusedLayer layer = layers[l];
            if (layer.FanIn != width || layer.Units <= 0 || layer.WeightOffset < 0 || layer.BiasOffset < -1
                || !Enum.IsDefined(layer.Activation) || !(layer.Slope >= 0f) || float.IsPositiveInfinity(layer.Slope))
            {
                throw new ArgumentException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"Layer {l} ({layer.FanIn} -> {layer.Units}, {layer.Activation}, slope {layer.Slope}, weight at {layer.WeightOffset}, bias at {layer.BiasOffset}) is malformed or does not take the previous width {width}."),
                    nameof(layers));
            }

            units[l] = layer.Units;
            activations[l] = layer.Activation;
            width = layer.Units;
            parameterEnd = Math.Max(parameterEnd, layer.WeightOffset + ((long)layer.Units * layer.FanIn));
            if (layer.BiasOffset >= 0)
            {
                parameterEnd = Math.Max(parameterEnd, (long)layer.BiasOffset + layer.Units);
            }
        }

        if (!FusedMlp.Fits(inputWidth, units, activations))
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"The network (input {inputWidth}, layers [{string.Join(", ", units.ToArray())}]) does not qualify for the fused kernel: at most {FusedMlp.MaxLayers} layers, widths in [1, {FusedMlp.MaxWidth}], and {FusedMlp.TileRows} rows of its activations within {FusedMlp.SharedFloats} floats of shared memory."),
                nameof(layers));
        }

        // The weight and bias ranges must cover [0, parameterCount) exactly once: the kernel writes each gradient
        // slot element once per tile (an overlap would lose a contribution, a gap would be summed uninitialised).
        long layerParameters = 0;
        for (int l = 0; l < layers.Length; l++)
        {
            layerParameters += ((long)layers[l].Units * layers[l].FanIn) + (layers[l].BiasOffset >= 0 ? layers[l].Units : 0);
        }

        if (parameterEnd > layerParameters)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"The layers hold {layerParameters} parameters but their offsets span {parameterEnd}: the layers' weights and biases must cover the parameter buffer without gaps."),
                nameof(layers));
        }

        // From here every range ends at or below parameterEnd <= layerParameters, a few hundred thousand at most.
        int parameterCount = (int)parameterEnd;
        var covered = new bool[parameterCount];
        for (int l = 0; l < layers.Length; l++)
        {
            FusedLayer layer = layers[l];
            MarkRange(covered, layer.WeightOffset, layer.Units * layer.FanIn, l, "weights");
            if (layer.BiasOffset >= 0)
            {
                MarkRange(covered, layer.BiasOffset, layer.Units, l, "bias");
            }
        }

        int gap = Array.IndexOf(covered, false);
        if (gap >= 0)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Parameter {gap} of [0, {parameterCount}) belongs to no layer: the layers' weights and biases must cover the parameter buffer without gaps."),
                nameof(layers));
        }

        // Tile layout: x0, then per layer y and (GELU, SiLU) z; each (TileRows, width).
        var placed = new FusedLayer[layers.Length];
        int input = 0;
        int next = FusedMlp.TileRows * inputWidth;
        for (int l = 0; l < layers.Length; l++)
        {
            int output = next;
            next += FusedMlp.TileRows * layers[l].Units;
            int preActivation = -1;
            if (FusedMlp.NeedsPreActivation(layers[l].Activation))
            {
                preActivation = next;
                next += FusedMlp.TileRows * layers[l].Units;
            }

            placed[l] = layers[l].WithTile(input, output, preActivation);
            input = output;
        }

        return new FusedMlpPlan(inputWidth, layers.Length, loss, next, parameterCount, placed);
    }

    /// <summary>Marks [start, start + count) of <paramref name="covered"/>; throws if any of it is marked already.</summary>
    private static void MarkRange(bool[] covered, int start, int count, int layer, string what)
    {
        for (int i = start; i < start + count; i++)
        {
            if (covered[i])
            {
                throw new ArgumentException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"Layer {layer}'s {what} [{start}, {start + count}) overlap another range at parameter {i}: each parameter must belong to one layer."),
                    "layers");
            }

            covered[i] = true;
        }
    }


    /// <summary>Field-wise equality: ILGPU compiles and caches one fused kernel per distinct plan (its shapes become constants).</summary>
    public bool Equals(FusedMlpPlan other)
        => InputWidth == other.InputWidth && LayerCount == other.LayerCount && LossCode == other.LossCode
            && TileFloats == other.TileFloats && ParameterCount == other.ParameterCount
            && _layer0 == other._layer0 && _layer1 == other._layer1 && _layer2 == other._layer2 && _layer3 == other._layer3
            && _layer4 == other._layer4 && _layer5 == other._layer5 && _layer6 == other._layer6 && _layer7 == other._layer7;

    public override bool Equals(object? obj) => obj is FusedMlpPlan other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(InputWidth, LayerCount, LossCode, ParameterCount, _layer0, _layer1, _layer2, _layer3);

    public static bool operator ==(FusedMlpPlan left, FusedMlpPlan right) => left.Equals(right);

    public static bool operator !=(FusedMlpPlan left, FusedMlpPlan right) => !left.Equals(right);
}
