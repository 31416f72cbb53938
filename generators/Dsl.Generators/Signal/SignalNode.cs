using System;

namespace Dsl.Signal;

// Compiled into the generator and the analyzers (from the generator's lowered graph) and into the runtime (from the
// graph builder's calls): one propagation, two readers of a network. Plain values only; no Roslyn, no spans.

/// <summary>What a node does to the moments of the value it reads.</summary>
internal enum SignalOp
{
    /// <summary>The network's input: standardised, second moment 1, mean 0.</summary>
    Input,

    /// <summary>A dense layer or a convolution with its activation: z = W x + b, y = phi(z).</summary>
    Linear,

    /// <summary>y = phi(x) element-wise.</summary>
    Activation,

    /// <summary>Normalisation over each sample's features (mean and variance).</summary>
    LayerNorm,

    /// <summary>Division by each sample's root mean square.</summary>
    RmsNorm,

    /// <summary>Normalisation of each feature over the batch, in training mode.</summary>
    BatchNorm,

    /// <summary>Inverted dropout in training mode.</summary>
    Dropout,

    /// <summary>y = factor * x.</summary>
    Scale,

    /// <summary>y = skip + factor * branch: the add that closes a residual block.</summary>
    Add,

    /// <summary>The maximum of each window.</summary>
    MaxPool,

    /// <summary>The mean of each window (or, with every position in one window, the global average pool).</summary>
    AvgPool,
}

/// <summary>Mirrors Dsl.Activation by number.</summary>
internal enum SignalActivation
{
    Identity,
    Relu,
    LeakyRelu,
    Gelu,
    Silu,
    Tanh,
    Sigmoid,
}

/// <summary>
/// One node of a network as signal propagation reads it: the value it reads (<see cref="Input"/>, and
/// <see cref="Skip"/> for an add), the floats per sample it writes (<see cref="Width"/>) and the constants of its op.
/// Node i writes value i; node 0 is the input. Nodes come in the order they run.
/// </summary>
internal sealed class SignalNode
{
    private SignalNode(SignalOp op, string path, int input, int width)
    {
        Op = op;
        Path = path;
        Input = input;
        Width = width;
    }

    public SignalOp Op { get; }

    /// <summary>The layer's path in its network (<c>Blocks[3].Up</c>); a residual add has its block's path.</summary>
    public string Path { get; }

    public int Input { get; }

    /// <summary>An add's skip value; -1 for other ops.</summary>
    public int Skip { get; private set; } = -1;

    /// <summary>Floats per sample of the value the node writes.</summary>
    public int Width { get; }

    /// <summary>A linear node's weight variance s2 (0 for a zero-initialised layer).</summary>
    public double WeightVariance { get; private set; }

    /// <summary>A linear node's bias variance (PyTorch's default bias is U(+-1/sqrt(fanIn)), variance 1 / (3 fanIn)).</summary>
    public double BiasVariance { get; private set; }

    /// <summary>A linear node's multiplies per output element, averaged over the outputs (a convolution's padding taps excluded).</summary>
    public double TapsPerOutput { get; private set; }

    /// <summary>A linear node's multiplies per input element: how many outputs each input feeds, averaged.</summary>
    public double TapsPerInput { get; private set; }

    public SignalActivation Activation { get; private set; }

    /// <summary>A leaky ReLU's negative slope.</summary>
    public double Slope { get; private set; }

    /// <summary>A norm's epsilon.</summary>
    public double Epsilon { get; private set; }

    /// <summary>A norm's count of values normalised together per statistic (LayerNorm and RMSNorm: the features).</summary>
    public int Features { get; private set; }

    /// <summary>Dropout's keep probability (1 - drop probability).</summary>
    public double Keep { get; private set; } = 1;

    /// <summary>A scale's factor, or an add's branch scale.</summary>
    public double Factor { get; private set; } = 1;

    /// <summary>A pool's taps per window.</summary>
    public int Window { get; private set; }

    public static SignalNode InputNode(int width) => new(SignalOp.Input, string.Empty, -1, width);

    /// <summary>A dense layer (fanIn -> units) or, with its taps, a convolution.</summary>
    /// <param name="inputWidth">Floats per sample of the value it reads.</param>
    /// <param name="multiplies">Weight multiplies per sample that do not fall on padding: units * fanIn for a dense layer.</param>
    public static SignalNode Linear(string path, int input, int inputWidth, int width, long multiplies, double weightVariance, double biasVariance, SignalActivation activation, double slope)
        => new(SignalOp.Linear, path, input, width)
        {
            WeightVariance = weightVariance,
            BiasVariance = biasVariance,
            TapsPerOutput = (double)multiplies / width,
            TapsPerInput = (double)multiplies / inputWidth,
            Activation = activation,
            Slope = slope,
        };

    /// <summary>This linear node with <paramref name="activation"/> in place of its own (a dense layer without activation fused with the activation after it).</summary>
    public SignalNode WithActivation(SignalActivation activation, double slope)
        => new(SignalOp.Linear, Path, Input, Width)
        {
            WeightVariance = WeightVariance,
            BiasVariance = BiasVariance,
            TapsPerOutput = TapsPerOutput,
            TapsPerInput = TapsPerInput,
            Activation = activation,
            Slope = slope,
        };

    public static SignalNode ActivationNode(string path, int input, int width, SignalActivation activation, double slope)
        => new(SignalOp.Activation, path, input, width) { Activation = activation, Slope = slope };

    /// <summary>A LayerNorm or RMSNorm over <paramref name="width"/> features, or a BatchNorm over the batch.</summary>
    public static SignalNode Norm(SignalOp op, string path, int input, int width, double epsilon)
        => new(op, path, input, width) { Epsilon = epsilon, Features = width };

    public static SignalNode Dropout(string path, int input, int width, double probability)
        => new(SignalOp.Dropout, path, input, width) { Keep = 1 - probability };

    public static SignalNode ScaleNode(string path, int input, int width, double factor)
        => new(SignalOp.Scale, path, input, width) { Factor = factor };

    /// <summary>skip + factor * branch.</summary>
    public static SignalNode Add(string path, int skip, int branch, int width, double factor)
        => new(SignalOp.Add, path, branch, width) { Skip = skip, Factor = factor };

    /// <summary>A flatten or reshape: the same floats, read with another shape (a scale by 1).</summary>
    public static SignalNode Reshape(string path, int input, int width) => ScaleNode(path, input, width, 1.0);

    /// <summary>A max or average pool of <paramref name="window"/> taps per window (a global average pool: every position).</summary>
    public static SignalNode Pool(SignalOp op, string path, int input, int width, int window)
        => new(op, path, input, width) { Window = Math.Max(1, window) };

    /// <summary>
    /// The taps of a convolution along one axis that read the input rather than its padding, summed over the output
    /// positions: sum over o in [0, outLength), t in [0, kernel) of [0 &lt;= o stride - padding + t dilation &lt; inLength].
    /// </summary>
    public static long ValidTaps(int inLength, int outLength, int kernel, int stride, int padding, int dilation)
    {
        long taps = 0;
        for (int o = 0; o < outLength; o++)
        {
            for (int t = 0; t < kernel; t++)
            {
                long position = ((long)o * stride) - padding + ((long)t * dilation);
                if (position >= 0 && position < inLength)
                {
                    taps++;
                }
            }
        }

        return taps;
    }

    /// <summary>
    /// The variance of the weights an initialiser draws, mirroring Dsl.Training.Initializer.Variance: TorchDefault
    /// 1/(3 fanIn); He and HeUniform 2/fan; Xavier and XavierUniform 2/(fanIn + fanOut); LeCun 1/fanIn; Zero 0;
    /// Normal std^2. <paramref name="init"/> is Dsl.Init's number.
    /// </summary>
    public static double WeightVarianceOf(int init, bool fanOutMode, double std, double fanIn, double fanOut)
        => init switch
        {
            0 => 1.0 / (3.0 * fanIn),
            1 or 2 => 2.0 / (fanOutMode ? fanOut : fanIn),
            3 or 4 => 2.0 / (fanIn + fanOut),
            5 => 1.0 / fanIn,
            6 => 0.0,
            _ => std * std,
        };

    /// <summary>The bias variance: PyTorch's default U(+-1/sqrt(fanIn)) for TorchDefault, zero for every other initialiser.</summary>
    public static double BiasVarianceOf(int init, bool hasBias, double fanIn) => hasBias && init == 0 ? 1.0 / (3.0 * fanIn) : 0.0;
}
