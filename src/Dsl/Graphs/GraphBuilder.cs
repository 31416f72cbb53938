using System.Globalization;
using Dsl.Gpu;
using Dsl.Ops;
using Dsl.Signal;

namespace Dsl.Graphs;

/// <summary>
/// Builds a graph network from its declaration, one call per layer in the order the layers run: the generated
/// constructor of a network (and of each block it uses) calls it. Each call appends one op reading the current value
/// and writing a new one, lays out the op's parameters in the one parameter buffer, and returns the layer's typed view.
/// <see cref="Build"/> then plans the backward pass and hands everything to a <see cref="GraphNetwork"/>.
/// </summary>
/// <remarks>
/// Paths name everything: a layer declared as <c>Up</c> in the block behind <c>Blocks[3]</c> is <c>Blocks[3].Up</c>,
/// and its parameters are initialised from a stream keyed by that path.
/// </remarks>
public sealed class GraphBuilder
{
    private readonly string _networkName;
    private readonly int[] _inputShape;
    private readonly List<GraphStep> _steps = [];
    private readonly List<int> _widths = [];
    private readonly List<Layer> _layers = [];
    private readonly List<Action<float[], ulong>> _initialisers = [];

    /// <summary>Per value, the node signal propagation reads (value 0: the input).</summary>
    private readonly List<SignalNode> _signal = [];
    private readonly List<string> _scope = [];
    private readonly Stack<(int Skip, string Path, int[] Shape)> _residuals = new();
    private readonly ParameterBuffers _buffers = new([], []);
    private int _current;

    /// <summary>The per-sample shape of the current value: the input's, a convolution's (channels, length), or (features).</summary>
    private int[] _shape;
    private int _parameterCount;
    private int _stateCount;
    private readonly List<Action<float[]>> _stateInitialisers = [];
    private bool _built;

    /// <param name="networkName">The network's class name, for messages.</param>
    /// <param name="inputShape">One sample's shape, without the batch dimension; every dimension positive.</param>
    public GraphBuilder(string networkName, int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        _networkName = networkName;
        _inputShape = (int[])inputShape.Clone();
        _shape = _inputShape;
        int width = 1;
        foreach (int dimension in inputShape)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension, nameof(inputShape));
            width = checked(width * dimension);
        }

        _widths.Add(width);
        _signal.Add(SignalNode.InputNode(width));
    }

    /// <summary>The width of the value the next layer reads.</summary>
    public int Width => _widths[_current];

    /// <summary>The per-sample shape of the value the next layer reads (a copy).</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>Enters the block behind property <paramref name="name"/> (<c>Body</c>, <c>Blocks[3]</c>): later paths start with it.</summary>
    public void EnterBlock(string name) => _scope.Add(name);

    /// <summary>Leaves the block last entered.</summary>
    public void ExitBlock() => _scope.RemoveAt(_scope.Count - 1);

    /// <summary>Starts a residual branch: the current value becomes its skip.</summary>
    public void BeginResidual() => _residuals.Push((_current, Path(string.Empty), _shape));

    /// <summary>Closes the residual branch last begun: y = skip + scale * branch, a layer of kind <see cref="LayerKind.Add"/> named by the block's path.</summary>
    /// <exception cref="InvalidOperationException">The branch changed the width, or added no layer.</exception>
    public void EndResidual(float scale)
    {
        (int skip, string path, int[] skipShape) = _residuals.Pop();
        if (_current == skip || !_shape.AsSpan().SequenceEqual(skipShape))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Residual '{path}' of network '{_networkName}' needs a branch of at least one layer that keeps the shape {Format(skipShape)}; its branch gives {Format(_shape)}."));
        }

        int width = _widths[skip];
        var layer = new Layer(path, _layers.Count, LayerKind.Add, width, width, Dsl.Activation.Identity, 0f, _buffers, NoWeight, 0, -1, 0f) { Scale = scale };
        int branch = _current;
        Append(layer, output => new ResidualAddStep(path, skip, branch, output, scale), width, SignalNode.Add(path, skip, branch, width, scale));
    }

    /// <summary>A dense layer with its activation: y = phi(x W^T + b); on a GPU its kernels take the widths from each launch.</summary>
    public Layer Dense<TActivation>(string name, int units, bool bias, Init init, Fan fan, double initStd, Activation activation, float slope, TActivation phi)
        where TActivation : struct, IActivation
        => Dense<TActivation, LaunchWidths>(name, units, bias, init, fan, initStd, activation, slope, phi);

    /// <summary>
    /// A dense layer with its activation: y = phi(x W^T + b), whose GPU kernels are compiled with the widths of
    /// <typeparamref name="TWidths"/> as constants (it must hold this layer's fan-in and units).
    /// </summary>
    public Layer Dense<TActivation, TWidths>(string name, int units, bool bias, Init init, Fan fan, double initStd, Activation activation, float slope, TActivation phi)
        where TActivation : struct, IActivation
        where TWidths : struct, IDenseWidths
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(units);
        string path = Path(name);
        RequireFeatures(path, "Dense layer");
        int fanIn = Width;
        TWidths widths = default;
        if (widths.AreConstant && (widths.FanIn != fanIn || widths.Units != units))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Layer '{path}' of network '{_networkName}' is {fanIn} -> {units}, but its GPU widths {typeof(TWidths).Name} are {widths.FanIn} -> {widths.Units}."), nameof(TWidths));
        }

        int weightOffset = Allocate(checked(units * fanIn));
        int biasOffset = bias ? Allocate(units) : -1;
        var layer = new Layer(path, _layers.Count, LayerKind.Dense, fanIn, units, activation, slope, _buffers, weightOffset, units * fanIn, biasOffset, 0f);
        _initialisers.Add((parameters, seed) => Training.Initializer.Fill(
            parameters.AsSpan(weightOffset, units * fanIn), bias ? parameters.AsSpan(biasOffset, units) : default, init, fan, initStd, fanIn, units, seed, path));
        var signal = SignalNode.Linear(
            path, _current, fanIn, units, (long)units * fanIn, Training.Initializer.Variance(init, fan, initStd, fanIn, units),
            SignalNode.BiasVarianceOf((int)init, bias, fanIn), (SignalActivation)activation, slope);
        Layer appended = Append(layer, output => new DenseStep<TActivation>(
            path, _current, output, fanIn, units, weightOffset, biasOffset, phi, activation, slope, GpuActivationDispatch.CreateDense<TWidths>), units, signal);
        _shape = [units];
        return appended;
    }

    /// <summary>
    /// A standalone activation, y = phi(x). Fusion: right after a dense layer without activation whose output nothing
    /// else reads (no residual keeps it as its skip), the activation moves into that layer's GEMM epilogue and adds no
    /// step of its own; the layer view stays.
    /// </summary>
    public Layer Activation<TActivation>(string name, Activation activation, float slope, TActivation phi)
        where TActivation : struct, IActivation
    {
        string path = Path(name);
        var layer = new Layer(path, _layers.Count, LayerKind.Activation, Width, Width, activation, slope, _buffers, NoWeight, 0, -1, 0f);
        if (_steps.Count > 0 && _steps[^1] is DenseStep<Identity> dense && dense.Output == _current && !_residuals.Any(r => r.Skip == _current))
        {
            _steps[^1] = dense.WithActivation(phi, activation, slope);
            _signal[^1] = _signal[^1].WithActivation((SignalActivation)activation, slope);
            _layers.Add(layer);
            return layer;
        }

        return Append(layer, output => new ActivationStep<TActivation>(path, _current, output, phi, activation, slope), Width, SignalNode.ActivationNode(path, _current, Width, (SignalActivation)activation, slope));
    }

    /// <summary>Layer normalisation of each sample's features; gain 1 and bias 0 at initialisation.</summary>
    public Layer LayerNorm(string name, float epsilon, bool affine)
    {
        string path = Path(name);
        RequireFeatures(path, "LayerNorm");
        int features = Width;
        int gain = affine ? Allocate(features) : -1;
        int bias = affine ? Allocate(features) : -1;
        var layer = new Layer(path, _layers.Count, LayerKind.LayerNorm, features, features, Dsl.Activation.Identity, 0f, _buffers, affine ? gain : NoWeight, affine ? features : 0, bias, 0f);
        AddNormInitialiser(gain, bias, features);
        return Append(layer, output => new LayerNormStep(path, _current, output, features, gain, bias, epsilon), features, SignalNode.Norm(SignalOp.LayerNorm, path, _current, features, epsilon));
    }

    /// <summary>RMS normalisation of each sample's features; gain 1 at initialisation.</summary>
    public Layer RmsNorm(string name, float epsilon, bool affine)
    {
        string path = Path(name);
        RequireFeatures(path, "RMSNorm");
        int features = Width;
        int gain = affine ? Allocate(features) : -1;
        var layer = new Layer(path, _layers.Count, LayerKind.RmsNorm, features, features, Dsl.Activation.Identity, 0f, _buffers, affine ? gain : NoWeight, affine ? features : 0, -1, 0f);
        AddNormInitialiser(gain, -1, features);
        return Append(layer, output => new RmsNormStep(path, _current, output, features, gain, epsilon), features, SignalNode.Norm(SignalOp.RmsNorm, path, _current, features, epsilon));
    }

    /// <summary>
    /// Batch normalisation of each feature over the batch; gain 1, bias 0, running mean 0 and running variance 1 at
    /// initialisation. Its training forward needs the whole batch, so a network with one never splits a batch.
    /// </summary>
    public Layer BatchNorm(string name, float epsilon, float momentum, bool affine)
    {
        if (!(momentum >= 0f && momentum <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "A batch norm's momentum is in [0, 1].");
        }

        string path = Path(name);
        RequireFeatures(path, "BatchNorm");
        int features = Width;
        int gain = affine ? Allocate(features) : -1;
        int bias = affine ? Allocate(features) : -1;
        int state = _stateCount;
        _stateCount = checked(_stateCount + (2 * features));
        var layer = new Layer(path, _layers.Count, LayerKind.BatchNorm, features, features, Dsl.Activation.Identity, 0f, _buffers, affine ? gain : NoWeight, affine ? features : 0, bias, 0f)
        {
            StateOffset = state,
        };
        AddNormInitialiser(gain, bias, features);
        _stateInitialisers.Add(stateBuffer =>
        {
            stateBuffer.AsSpan(state, features).Clear();
            stateBuffer.AsSpan(state + features, features).Fill(1f);
        });
        return Append(layer, output => new BatchNormStep(path, _current, output, features, gain, bias, state, epsilon, momentum), features, SignalNode.Norm(SignalOp.BatchNorm, path, _current, features, epsilon));
    }

    /// <summary>A constant scale, y = factor * x.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The factor is NaN or infinite.</exception>
    public Layer Scale(string name, float factor)
    {
        if (!float.IsFinite(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "A scale's factor is a finite number.");
        }

        string path = Path(name);
        var layer = new Layer(path, _layers.Count, LayerKind.Scale, Width, Width, Dsl.Activation.Identity, 0f, _buffers, NoWeight, 0, -1, 0f) { Scale = factor };
        return Append(layer, output => new ScaleStep(path, _current, output, factor), Width, SignalNode.ScaleNode(path, _current, Width, factor));
    }

    /// <summary>
    /// A one-dimensional convolution with its activation, y = phi(conv1d(x, W) + b), PyTorch's nn.Conv1d: it reads
    /// (channels, length) per sample and writes (outChannels, outLength). Weights are drawn with fan-in
    /// (channels / groups) * kernel and fan-out outChannels * kernel, as PyTorch computes them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The current value is not (channels, length).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range or no output position fits (see <see cref="Conv1dGeometry.Validate"/>).</exception>
    public Layer Conv1d<TActivation>(
        string name, int outChannels, int kernel, int stride, int padding, int dilation, int groups, bool bias,
        Init init, Fan fan, double initStd, Activation activation, float slope, TActivation phi)
        where TActivation : struct, IActivation
    {
        string path = Path(name);
        if (_shape.Length != 2)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Conv1d '{path}' of network '{_networkName}' reads (channels, length) per sample, but its input has shape {Format(_shape)}."));
        }

        var geometry = new Conv1dGeometry(_shape[0], _shape[1], outChannels, kernel, stride, padding, dilation, groups);
        geometry.Validate(string.Create(CultureInfo.InvariantCulture, $"Conv1d '{path}' of network '{_networkName}'"));
        var planar = new Conv2dGeometry(_shape[0], 1, _shape[1], outChannels, 1, kernel, 1, stride, 0, padding, 1, dilation, groups);
        string op = string.Create(CultureInfo.InvariantCulture,
            $"Conv1d ({geometry.InChannels}, {geometry.InLength}) -> ({geometry.OutChannels}, {geometry.OutLength}), kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}, groups {groups}");
        Layer appended = Convolution(path, LayerKind.Conv1d, planar, op, bias, init, fan, initStd, activation, slope, phi, geometry, null);
        _shape = [outChannels, geometry.OutLength];
        return appended;
    }

    /// <summary>
    /// A two-dimensional convolution with its activation, y = phi(conv2d(x, W) + b), PyTorch's nn.Conv2d: it reads
    /// (channels, height, width) per sample and writes (outChannels, outHeight, outWidth), each axis by
    /// <see cref="Conv1dGeometry.OutputLength"/>. Weights are drawn with fan-in (channels / groups) * kernelHeight *
    /// kernelWidth and fan-out outChannels * kernelHeight * kernelWidth, as PyTorch computes them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The current value is not (channels, height, width).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range or no output position fits (see <see cref="Conv2dGeometry.Validate"/>).</exception>
    public Layer Conv2d<TActivation>(
        string name, int outChannels, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight, int paddingWidth,
        int dilationHeight, int dilationWidth, int groups, bool bias, Init init, Fan fan, double initStd, Activation activation, float slope, TActivation phi)
        where TActivation : struct, IActivation
    {
        string path = Path(name);
        if (_shape.Length != 3)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Conv2d '{path}' of network '{_networkName}' reads (channels, height, width) per sample, but its input has shape {Format(_shape)}."));
        }

        var geometry = new Conv2dGeometry(
            _shape[0], _shape[1], _shape[2], outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth, dilationHeight, dilationWidth, groups);
        geometry.Validate(string.Create(CultureInfo.InvariantCulture, $"Conv2d '{path}' of network '{_networkName}'"));
        string op = string.Create(CultureInfo.InvariantCulture,
            $"Conv2d ({geometry.InChannels}, {geometry.InHeight}, {geometry.InWidth}) -> ({outChannels}, {geometry.OutHeight}, {geometry.OutWidth}), kernel {kernelHeight}x{kernelWidth}, stride {strideHeight}x{strideWidth}, padding {paddingHeight}x{paddingWidth}, dilation {dilationHeight}x{dilationWidth}, groups {groups}");
        Layer appended = Convolution(path, LayerKind.Conv2d, geometry, op, bias, init, fan, initStd, activation, slope, phi, null, geometry);
        _shape = [outChannels, geometry.OutHeight, geometry.OutWidth];
        return appended;
    }

    /// <summary>
    /// Max pooling (PyTorch's nn.MaxPool1d over (channels, length) when <paramref name="twoDimensional"/> is false, with
    /// the height arguments 1, 1, 0 and 1; nn.MaxPool2d over (channels, height, width) otherwise). Windows never choose padding.
    /// </summary>
    /// <exception cref="InvalidOperationException">The current value does not have the pool's rank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range (see <see cref="PoolGeometry.Validate"/>).</exception>
    public Layer MaxPool(
        string name, bool twoDimensional, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight, int paddingWidth, int dilationHeight, int dilationWidth)
    {
        (string path, PoolGeometry geometry, string op) = Pool(
            name, twoDimensional ? "MaxPool2d" : "MaxPool1d", twoDimensional, average: false, kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth, dilationHeight, dilationWidth);
        var layer = new Layer(path, _layers.Count, twoDimensional ? LayerKind.MaxPool2d : LayerKind.MaxPool1d, Width, geometry.OutputSize, Dsl.Activation.Identity, 0f, _buffers, NoWeight, 0, -1, 0f)
        {
            Pooling = geometry,
        };
        Layer appended = Append(layer, output => new MaxPoolStep(path, _current, output, geometry, op), geometry.OutputSize, SignalNode.Pool(SignalOp.MaxPool, path, _current, geometry.OutputSize, kernelHeight * kernelWidth));
        _shape = PoolShape(geometry, twoDimensional);
        return appended;
    }

    /// <summary>
    /// Average pooling with padding counted in the divisor (PyTorch's nn.AvgPool1d and nn.AvgPool2d with their defaults);
    /// the arguments as <see cref="MaxPool"/>'s, without dilation.
    /// </summary>
    /// <exception cref="InvalidOperationException">The current value does not have the pool's rank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range (see <see cref="PoolGeometry.Validate"/>).</exception>
    public Layer AvgPool(string name, bool twoDimensional, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight, int paddingWidth)
    {
        (string path, PoolGeometry geometry, string op) = Pool(
            name, twoDimensional ? "AvgPool2d" : "AvgPool1d", twoDimensional, average: true, kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth, 1, 1);
        var layer = new Layer(path, _layers.Count, twoDimensional ? LayerKind.AvgPool2d : LayerKind.AvgPool1d, Width, geometry.OutputSize, Dsl.Activation.Identity, 0f, _buffers, NoWeight, 0, -1, 0f)
        {
            Pooling = geometry,
        };
        Layer appended = Append(layer, output => new AvgPoolStep(path, _current, output, geometry, op), geometry.OutputSize, SignalNode.Pool(SignalOp.AvgPool, path, _current, geometry.OutputSize, kernelHeight * kernelWidth));
        _shape = PoolShape(geometry, twoDimensional);
        return appended;
    }

    /// <summary>The mean of each channel over all its positions: (channels, length) or (channels, height, width) to (channels).</summary>
    /// <exception cref="InvalidOperationException">The current value has no positions axis (rank 1).</exception>
    public Layer GlobalAvgPool(string name)
    {
        string path = Path(name);
        if (_shape.Length < 2)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"GlobalAvgPool '{path}' of network '{_networkName}' reads (channels, ...) per sample, but its input has shape {Format(_shape)}."));
        }

        int channels = _shape[0], positions = Width / channels;
        var layer = new Layer(path, _layers.Count, LayerKind.GlobalAvgPool, Width, channels, Dsl.Activation.Identity, 0f, _buffers, NoWeight, 0, -1, 0f);
        Layer appended = Append(layer, output => new GlobalAvgPoolStep(path, _current, output, channels, positions), channels, SignalNode.Pool(SignalOp.AvgPool, path, _current, channels, positions));
        _shape = [channels];
        return appended;
    }

    /// <summary>
    /// Flattens each sample to one vector of its elements in row-major order, (channels, length) to (channels * length),
    /// as PyTorch's flatten does. Values are stored row-major already, so it adds no step: the next layer reads the same
    /// floats as features.
    /// </summary>
    public Layer Flatten(string name)
    {
        string path = Path(name);
        var layer = new Layer(path, _layers.Count, LayerKind.Flatten, Width, Width, Dsl.Activation.Identity, 0f, _buffers, NoWeight, 0, -1, 0f);
        _layers.Add(layer);
        _shape = [Width];
        return layer;
    }

    /// <summary>Inverted dropout with drop probability <paramref name="probability"/> in [0, 1).</summary>
    public Layer Dropout(string name, float probability)
    {
        _ = Ops.Dropout.Threshold(probability); // throws for a probability outside [0, 1)
        string path = Path(name);
        var layer = new Layer(path, _layers.Count, LayerKind.Dropout, Width, Width, Dsl.Activation.Identity, 0f, _buffers, NoWeight, 0, -1, probability);
        return Append(layer, output => new DropoutStep(path, _current, output, Width, probability), Width, SignalNode.Dropout(path, _current, Width, probability));
    }

    /// <summary>
    /// Plans the backward pass and creates the network. <paramref name="expectedParameters"/> is the count the generator
    /// computed from the declaration; a different count here means the two disagree, and nothing is created.
    /// </summary>
    public GraphNetwork Build(Device device, Loss loss, ulong seed, int expectedParameters)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (_built)
        {
            throw new InvalidOperationException("A graph builder builds one network.");
        }

        if (_residuals.Count != 0 || _scope.Count != 0 || _steps.Count == 0)
        {
            throw new InvalidOperationException($"Network '{_networkName}': every block entered and residual begun must be closed, and the network needs a layer.");
        }

        if (_parameterCount != expectedParameters)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Network '{_networkName}' lays out {_parameterCount} parameters where its declaration gives {expectedParameters}."));
        }

        IDenseStep[]? chain = DenseChain();

        _built = true;
        PlanBackward();
        _buffers.Parameters = new float[_parameterCount];
        _buffers.Gradients = new float[_parameterCount];
        _buffers.State = new float[_stateCount];
        Action<float[], ulong>[] initialisers = [.. _initialisers, .. _stateInitialisers.Select(init => (Action<float[], ulong>)((_, _) => init(_buffers.State)))];
        return new GraphNetwork(_networkName, device, loss, _inputShape, [.. _widths], [.. _steps], [.. _layers], _buffers, initialisers, seed, chain, [.. _signal]);
    }

    /// <summary>
    /// Reverse topological order is the reverse of the order the steps were appended (every step reads values written
    /// before it). Walking it, the first step to reach a value's gradient overwrites it and every later one adds to it:
    /// a value with several consumers (a residual block's skip) accumulates the gradients of all of them.
    /// </summary>
    private void PlanBackward()
    {
        var consumers = new int[_widths.Count];
        var producers = new GraphStep?[_widths.Count];
        foreach (GraphStep step in _steps)
        {
            producers[step.Output] = step;
            foreach (int input in step.Inputs)
            {
                consumers[input]++;
            }
        }

        // Fusion: a residual add whose branch ends in a dense layer without activation is computed in that layer's
        // forward epilogue.
        foreach (GraphStep step in _steps)
        {
            if (step is ResidualAddStep add && consumers[add.Inputs[1]] == 1 && producers[add.Inputs[1]] is DenseStep<Identity> dense)
            {
                dense.FuseResidual(add);
            }
        }

        // Fusion: a dense layer with an activation whose output one dense layer alone reads gets its derivative applied
        // in that consumer's dx GEMM epilogue.
        foreach (GraphStep step in _steps)
        {
            if (step is IDenseStep consumer && step.Inputs[0] != 0 && consumers[step.Inputs[0]] == 1
                && producers[step.Inputs[0]] is IDenseStep { HasActivation: true } producer)
            {
                consumer.FusedProducer = producer;
                producer.DerivativeFused = true;
            }
        }

        var written = new bool[_widths.Count];
        for (int i = _steps.Count - 1; i >= 0; i--)
        {
            GraphStep step = _steps[i];
            var accumulate = new bool[step.Inputs.Length];
            for (int j = 0; j < step.Inputs.Length; j++)
            {
                accumulate[j] = written[step.Inputs[j]];
                written[step.Inputs[j]] = true;
            }

            step.Accumulate = accumulate;
        }
    }

    /// <summary>The steps when they are a chain of dense layers, each reading the one before it (the first the input); else null.</summary>
    private IDenseStep[]? DenseChain()
    {
        var chain = new IDenseStep[_steps.Count];
        for (int i = 0; i < _steps.Count; i++)
        {
            if (_steps[i] is not IDenseStep dense || dense.Inputs[0] != (i == 0 ? 0 : _steps[i - 1].Output))
            {
                return null;
            }

            chain[i] = dense;
        }

        return chain;
    }

    private Layer Append(Layer layer, Func<int, GraphStep> step, int outputWidth, SignalNode signal)
    {
        int output = NewValue(outputWidth);
        _signal.Add(signal);
        _steps.Add(step(output));
        _current = output;
        _layers.Add(layer);
        return layer;
    }

    private void AddNormInitialiser(int gain, int bias, int features)
        => _initialisers.Add((parameters, _) =>
        {
            if (gain >= 0)
            {
                parameters.AsSpan(gain, features).Fill(1f);
            }

            if (bias >= 0)
            {
                parameters.AsSpan(bias, features).Clear();
            }
        });

    /// <summary>
    /// The weight offset of a layer without weights: where its weights would start, so that <see cref="Layer.Weight"/> and
    /// <see cref="Layer.WeightGradient"/> are empty spans (an offset of -1 makes them throw).
    /// </summary>
    private int NoWeight => _parameterCount;

    private int NewValue(int width)
    {
        _widths.Add(width);
        return _widths.Count - 1;
    }

    private int Allocate(int count)
    {
        int offset = _parameterCount;
        _parameterCount = checked(_parameterCount + count);
        return offset;
    }

    /// <summary>The layer, its initialiser and its step of a convolution of either rank (a Conv1d is height 1).</summary>
    private Layer Convolution<TActivation>(
        string path, LayerKind kind, Conv2dGeometry geometry, string op, bool bias, Init init, Fan fan, double initStd, Activation activation, float slope, TActivation phi,
        Conv1dGeometry? oneDimensional, Conv2dGeometry? twoDimensional)
        where TActivation : struct, IActivation
    {
        int weightLength = geometry.WeightLength, outChannels = geometry.OutChannels;
        int weightOffset = Allocate(weightLength);
        int biasOffset = bias ? Allocate(outChannels) : -1;
        var layer = new Layer(path, _layers.Count, kind, geometry.InputSize, geometry.OutputSize, activation, slope, _buffers, weightOffset, weightLength, biasOffset, 0f)
        {
            Convolution = oneDimensional,
            Convolution2d = twoDimensional,
        };
        int taps = geometry.KernelHeight * geometry.KernelWidth;
        _initialisers.Add((parameters, seed) => Training.Initializer.FillConvolution(
            parameters.AsSpan(weightOffset, weightLength), bias ? parameters.AsSpan(biasOffset, outChannels) : default, init, fan, initStd, outChannels, geometry.GroupInChannels, taps, seed, path));
        long multiplies = (long)outChannels * geometry.GroupInChannels
            * SignalNode.ValidTaps(geometry.InHeight, geometry.OutHeight, geometry.KernelHeight, geometry.StrideHeight, geometry.PaddingHeight, geometry.DilationHeight)
            * SignalNode.ValidTaps(geometry.InWidth, geometry.OutWidth, geometry.KernelWidth, geometry.StrideWidth, geometry.PaddingWidth, geometry.DilationWidth);
        int fanIn = geometry.GroupInChannels * taps;
        var signal = SignalNode.Linear(
            path, _current, geometry.InputSize, geometry.OutputSize, multiplies, Training.Initializer.Variance(init, fan, initStd, fanIn, outChannels * taps),
            SignalNode.BiasVarianceOf((int)init, bias, fanIn), (SignalActivation)activation, slope);
        return Append(layer, output => new ConvolutionStep<TActivation>(path, _current, output, geometry, op, weightOffset, biasOffset, phi, activation, slope), geometry.OutputSize, signal);
    }

    /// <summary>A pool's path, its validated geometry over the current value and its plan text.</summary>
    private (string Path, PoolGeometry Geometry, string Op) Pool(
        string name, string what, bool twoDimensional, bool average, int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight, int paddingWidth, int dilationHeight, int dilationWidth)
    {
        string path = Path(name);
        if (_shape.Length != (twoDimensional ? 3 : 2))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{what} '{path}' of network '{_networkName}' reads {(twoDimensional ? "(channels, height, width)" : "(channels, length)")} per sample, but its input has shape {Format(_shape)}."));
        }

        PoolGeometry geometry = twoDimensional
            ? new PoolGeometry(_shape[0], _shape[1], _shape[2], kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth, dilationHeight, dilationWidth)
            : PoolGeometry.OneDimensional(_shape[0], _shape[1], kernelWidth, strideWidth, paddingWidth, dilationWidth);
        geometry.Validate(string.Create(CultureInfo.InvariantCulture, $"{what} '{path}' of network '{_networkName}'"), average);
        string op = twoDimensional
            ? string.Create(CultureInfo.InvariantCulture,
                $"{what} ({geometry.Channels}, {geometry.InHeight}, {geometry.InWidth}) -> ({geometry.Channels}, {geometry.OutHeight}, {geometry.OutWidth}), kernel {kernelHeight}x{kernelWidth}, stride {strideHeight}x{strideWidth}, padding {paddingHeight}x{paddingWidth}")
            : string.Create(CultureInfo.InvariantCulture,
                $"{what} ({geometry.Channels}, {geometry.InWidth}) -> ({geometry.Channels}, {geometry.OutWidth}), kernel {kernelWidth}, stride {strideWidth}, padding {paddingWidth}");
        if (!average)
        {
            op += twoDimensional
                ? string.Create(CultureInfo.InvariantCulture, $", dilation {dilationHeight}x{dilationWidth}")
                : string.Create(CultureInfo.InvariantCulture, $", dilation {dilationWidth}");
        }

        return (path, geometry, op);
    }

    private static int[] PoolShape(PoolGeometry geometry, bool twoDimensional)
        => twoDimensional ? [geometry.Channels, geometry.OutHeight, geometry.OutWidth] : [geometry.Channels, geometry.OutWidth];

    /// <summary>Throws unless the current value is one-dimensional (features), as dense layers and norms read.</summary>
    private void RequireFeatures(string path, string what)
    {
        if (_shape.Length != 1)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{what} '{path}' of network '{_networkName}' reads one-dimensional input (features), but its input has shape {Format(_shape)}; flatten it first."));
        }
    }

    private static string Format(int[] shape) => "(" + string.Join(", ", shape) + ")";

    private string Path(string name)
    {
        string prefix = string.Join(".", _scope);
        return prefix.Length == 0 ? name : name.Length == 0 ? prefix : prefix + "." + name;
    }
}
