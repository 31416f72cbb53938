using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Dsl.IO;

/// <summary>
/// Saves a network's parameters with a description of its architecture, and loads them back into a network
/// of the same declaration (on any device), refusing anything else with a <see cref="ParameterFileException"/>
/// that names the problem. A load validates the whole file, checksum included, before it changes the network.
/// </summary>
/// <remarks>
/// Format, version 4, every number little-endian:
/// <code>
/// offset          size   field
/// 0               8      magic "DSLPARAM" (ASCII)
/// 8               4      format version (uint32): 4
/// 12              4      architecture length A in bytes (uint32)
/// 16              A      architecture: input rank (uint8) and dimensions (int32 each); layer count (uint16); per layer
///                        (<see cref="INetwork.Layers"/>, residual adds included) its name (its path, uint16 byte count,
///                        UTF-8), fanIn (int32), units (int32), activation (uint8, Dsl.Activation), slope (float32,
///                        <see cref="Layer.Slope"/>), bias (uint8, 1 or 0), kind (uint8, Dsl.LayerKind), weight length
///                        (int32, <see cref="Layer.WeightLength"/>), bias length (int32, <see cref="Layer.BiasLength"/>) and
///                        its geometry: a count (uint8) of int32s, 8 for a convolution (in channels, in length, out
///                        channels, kernel, stride, padding, dilation, groups), 0 otherwise; then the tensors: count (uint32), per tensor its name
///                        (uint16 byte count, UTF-8: <c>Hidden1.weight</c>, <c>Norm.bias</c>, <c>Bn.running_mean</c>, as
///                        PyTorch's state dict names them), buffer (uint8: 0 the parameters, 1 the state), offset in that
///                        buffer (int64), rank (uint8) and dimensions (int32 each)
/// 16 + A          8      parameter count P (int64)
/// 24 + A          4 P    the parameters (float32), in <see cref="INetwork.Parameters"/>' order: per layer, weight (units, fanIn)
///                        row-major like PyTorch's nn.Linear (a convolution's (out channels, in channels / groups, kernel),
///                        a norm's gain), then bias
/// 24 + A + 4P     8      state count S (int64): the running statistics of the batch norms
/// 32 + A + 4P     4 S    the state (float32): per batch norm its running mean (units), then its running variance (units)
/// 32 + A + 4P + 4S 4     CRC-32 (IEEE 802.3) of every byte before it
/// </code>
/// Versions 1 (dense layers alone), 2 (no residual adds in the layer table, no tensor table, no state) and 3 (no bias
/// lengths and geometries in the layer table, so no convolutions) are read too:
/// a file loads into a network whose description in the file's version is the file's, and a network with a batch norm
/// needs version 3. A network matches a file when its input shape and every layer's name, kind, widths, activation,
/// slope and bias equal the file's, in order (as PyTorch's strict state-dict load matches keys and shapes).
/// </remarks>
public static class ParameterFile
{
    /// <summary>The format version this library writes; it reads versions 1 to this one.</summary>
    public const uint FormatVersion = 4;

    /// <summary>The oldest version read: a network of dense layers alone.</summary>
    private const uint DenseFormatVersion = 1;

    /// <summary>The first version with residual adds, the tensor table and the state.</summary>
    private const uint StateFormatVersion = 3;

    /// <summary>The first version with each layer's bias length and geometry (convolutions).</summary>
    private const uint GeometryFormatVersion = 4;

    private static ReadOnlySpan<byte> Magic => "DSLPARAM"u8;

    // Largest architecture block a file may declare: far above any real network, small enough to read whole.
    private const int MaxArchitectureBytes = 1 << 24;

    /// <summary>Writes <paramref name="network"/>'s parameters and architecture to <paramref name="stream"/>, from its current position.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="OverflowException">The network has more than 255 input dimensions, 65,535 layers or a layer name over 65,535 UTF-8 bytes (the format's limits).</exception>
    public static void Save(INetwork network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        const uint version = FormatVersion;
        byte[] architecture = DescribeArchitecture(network.InputShape, network.Layers, version);
        // A copy, not the Parameters span: on a GPU a save during training then costs no upload before the next step.
        var parameters = new float[network.ParameterCount];
        network.CopyParametersTo(parameters);
        float[] state = CopyState(network.Layers);
        var writer = new ChecksummedWriter(stream);
        var head = new byte[16];
        Magic.CopyTo(head);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(8), version);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(12), (uint)architecture.Length);
        writer.Write(head);
        writer.Write(architecture);
        var count = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(count, parameters.Length);
        writer.Write(count);
        writer.WriteFloats(parameters);
        BinaryPrimitives.WriteInt64LittleEndian(count, state.Length);
        writer.Write(count);
        writer.WriteFloats(state);
        writer.WriteChecksum();
    }

    /// <summary>
    /// Writes <paramref name="network"/>'s parameters to the file at <paramref name="path"/>, replacing one that exists only
    /// once the new one is complete: it is written beside it under a temporary name and then moved over it, so a save that
    /// fails (a full disk) leaves the previous file as it was.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="IOException">The file cannot be written (also <see cref="DirectoryNotFoundException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to write there, or the path is a directory.</exception>
    public static void Save(INetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.Write(path, file => Save(network, file));
    }

    /// <summary>
    /// Reads one parameter file from <paramref name="stream"/> (exactly its bytes, leaving the stream after them) and,
    /// once all of it is checked, copies its parameters and running statistics into <paramref name="network"/>. On any
    /// exception the network is unchanged.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ParameterFileException">The bytes are not a readable parameter file for this network; <see cref="ParameterFileException.Problem"/> says why.</exception>
    public static void Load(INetwork network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        Read(stream, network).CopyTo(network);
    }

    /// <summary>
    /// Loads the parameter file at <paramref name="path"/> into <paramref name="network"/>, as
    /// <see cref="Load(INetwork, Stream)"/>; bytes after the file's end are refused too.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ParameterFileException">The file is not a readable parameter file for this network.</exception>
    /// <exception cref="IOException">The file cannot be read (also <see cref="FileNotFoundException"/>, <see cref="DirectoryNotFoundException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to read it, or the path is a directory.</exception>
    public static void Load(INetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(path);
        using FileStream file = File.OpenRead(path);
        ParameterFileContents contents = Read(file, network);
        if (file.CanSeek && file.Position != file.Length) // a pipe cannot tell its length: nothing after the file is read
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' has {file.Length - file.Position} bytes after the end of its parameter file ({file.Position} bytes)."));
        }

        contents.CopyTo(network);
    }

    /// <summary>
    /// Reads and checks a whole file against <paramref name="network"/>; returns its parameters and state. The checksum is checked
    /// before the architecture is compared, so a damaged file is reported as <see cref="ParameterFileProblem.Corrupt"/>
    /// and <see cref="ParameterFileProblem.NetworkMismatch"/> only ever means an intact file of another network.
    /// </summary>
    internal static ParameterFileContents Read(Stream stream, INetwork network)
    {
        var reader = new ChecksummedReader(stream, "parameter file");
        Span<byte> head = stackalloc byte[16];
        int headRead = reader.FillAtMost(head);
        int magicRead = Math.Min(headRead, Magic.Length);
        if (!head[..magicRead].SequenceEqual(Magic[..magicRead]) || headRead == 0)
        {
            throw new ParameterFileException(ParameterFileProblem.NotAParameterFile,
                $"Not a Dsl parameter file: it starts with {(headRead == 0 ? "nothing (it is empty)" : Convert.ToHexString(head[..magicRead]))}, not the magic \"DSLPARAM\".");
        }

        reader.RequireFilled(headRead, head.Length, "the header");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(head[8..]);
        if (version is < DenseFormatVersion or > FormatVersion)
        {
            throw new ParameterFileException(ParameterFileProblem.UnsupportedVersion, string.Create(CultureInfo.InvariantCulture,
                $"Parameter file format version {version}; this library reads versions {DenseFormatVersion} to {FormatVersion}."));
        }

        uint architectureLength = BinaryPrimitives.ReadUInt32LittleEndian(head[12..]);
        if (architectureLength > MaxArchitectureBytes)
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"The file declares an architecture of {architectureLength} bytes; at most {MaxArchitectureBytes} are accepted."));
        }

        var architecture = new byte[architectureLength];
        reader.Fill(architecture, "the architecture");
        (string fileArchitecture, long impliedCount, long impliedState) = Describe(architecture, version)
            ?? throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"The file's architecture block ({architecture.Length} bytes) is malformed: a field cut short, a negative width or more than {int.MaxValue} parameters."));

        Span<byte> count = stackalloc byte[8];
        reader.Fill(count, "the parameter count");
        long parameterCount = BinaryPrimitives.ReadInt64LittleEndian(count);
        if (parameterCount != impliedCount)
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"The file declares {parameterCount} parameters, but its own layers hold {impliedCount}."));
        }

        // The network described in the file's version: an older file loads into the network it was written for.
        bool readable = version >= StateFormatVersion || !HasState(network.Layers);
        byte[] expected = DescribeArchitecture(network.InputShape, network.Layers, version);
        bool matches = readable && architecture.AsSpan().SequenceEqual(expected);
        // Another network's parameters are still read (through a small buffer), to tell damage from a mismatch.
        float[] parameters = matches ? new float[parameterCount] : [];
        if (matches)
        {
            reader.FillFloats(parameters, "the parameters");
        }
        else
        {
            reader.Skip(4 * parameterCount, "the parameters");
        }

        float[] state = [];
        if (version >= StateFormatVersion)
        {
            reader.Fill(count, "the state count");
            long stateCount = BinaryPrimitives.ReadInt64LittleEndian(count);
            if (stateCount != impliedState)
            {
                throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                    $"The file declares {stateCount} floats of state, but its own tensors hold {impliedState}."));
            }

            state = matches ? new float[stateCount] : [];
            if (matches)
            {
                reader.FillFloats(state, "the state");
            }
            else
            {
                reader.Skip(4 * stateCount, "the state");
            }
        }

        uint computed = reader.Checksum;
        Span<byte> checksum = stackalloc byte[4];
        reader.Fill(checksum, "the checksum");
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(checksum);
        if (stored != computed)
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"The checksum does not match: the file says {stored:X8}, its {reader.Position - 4} bytes give {computed:X8}; the file is damaged."));
        }

        if (!readable)
        {
            Layer norm = network.Layers.First(layer => layer.Kind == LayerKind.BatchNorm);
            throw new ParameterFileException(ParameterFileProblem.NetworkMismatch, string.Create(CultureInfo.InvariantCulture,
                $"The file has format version {version}, which holds no running statistics; {network.GetType().Name}'s batch norm '{norm.Name}' needs them (version {StateFormatVersion} and later)."));
        }

        if (!matches)
        {
            throw new ParameterFileException(ParameterFileProblem.NetworkMismatch,
                $"The file holds another network's parameters. File: {fileArchitecture}. {network.GetType().Name}: {Describe(expected, version)!.Value.Text}.");
        }

        return new ParameterFileContents(parameters, state);
    }

    private static bool HasState(IReadOnlyList<Layer> layers) => layers.Any(layer => layer.Kind == LayerKind.BatchNorm);

    /// <summary>The batch norms' running statistics, each its mean then its variance, in state-buffer order.</summary>
    private static float[] CopyState(IReadOnlyList<Layer> layers)
    {
        int count = 0;
        foreach (Layer layer in layers)
        {
            count = Math.Max(count, layer.StateOffset < 0 ? 0 : layer.StateOffset + (2 * layer.Units));
        }

        var state = new float[count];
        foreach (Layer layer in layers.Where(layer => layer.StateOffset >= 0))
        {
            layer.RunningMean.CopyTo(state.AsSpan(layer.StateOffset, layer.Units));
            layer.RunningVariance.CopyTo(state.AsSpan(layer.StateOffset + layer.Units, layer.Units));
        }

        return state;
    }

    /// <summary>
    /// The named tensors of <paramref name="layers"/>, as PyTorch's state dict names them: a dense layer's or a norm's
    /// <c>weight</c> (a norm's gain) and <c>bias</c>, a batch norm's <c>running_mean</c> and <c>running_var</c>.
    /// </summary>
    private static IEnumerable<(string Name, byte Buffer, long Offset, int[] Shape)> Tensors(IReadOnlyList<Layer> layers)
    {
        foreach (Layer layer in layers)
        {
            if (layer.WeightLength > 0)
            {
                int[] shape = layer.Kind == LayerKind.Dense ? [layer.Units, layer.FanIn]
                    : layer.Convolution is { } g ? [g.OutChannels, g.GroupInChannels, g.Kernel]
                    : layer.Convolution2d is { } g2 ? [g2.OutChannels, g2.GroupInChannels, g2.KernelHeight, g2.KernelWidth]
                    : [layer.WeightLength];
                yield return (layer.Name + ".weight", 0, layer.WeightOffset, shape);
            }

            if (layer.HasBias)
            {
                yield return (layer.Name + ".bias", 0, layer.BiasOffset, [layer.BiasLength]);
            }

            if (layer.StateOffset >= 0)
            {
                yield return (layer.Name + ".running_mean", 1, layer.StateOffset, [layer.Units]);
                yield return (layer.Name + ".running_var", 1, layer.StateOffset + layer.Units, [layer.Units]);
            }
        }
    }

    /// <summary>
    /// The architecture block of format <paramref name="version"/> for an input shape and layers: version 1 and 2 leave
    /// out the residual adds (they list parameterised and elementwise layers only) and the tensor table.
    /// </summary>
    private static byte[] DescribeArchitecture(ReadOnlySpan<int> inputShape, IReadOnlyList<Layer> allLayers, uint version)
    {
        IReadOnlyList<Layer> layers = version >= StateFormatVersion ? allLayers : allLayers.Where(layer => layer.Kind != LayerKind.Add).ToList();
        using var bytes = new MemoryStream();
        using (var writer = new BinaryWriter(bytes, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(checked((byte)inputShape.Length));
            foreach (int dimension in inputShape)
            {
                writer.Write(dimension);
            }

            writer.Write(checked((ushort)layers.Count));
            foreach (Layer layer in layers)
            {
                byte[] name = Encoding.UTF8.GetBytes(layer.Name);
                writer.Write(checked((ushort)name.Length));
                writer.Write(name);
                writer.Write(layer.FanIn);
                writer.Write(layer.Units);
                writer.Write((byte)layer.Activation);
                writer.Write(layer.Slope);
                writer.Write(layer.HasBias ? (byte)1 : (byte)0);
                if (version >= 2)
                {
                    writer.Write((byte)layer.Kind);
                    writer.Write(layer.WeightLength);
                }

                if (version >= GeometryFormatVersion)
                {
                    writer.Write(layer.BiasLength);
                    int[] geometry = Geometry(layer);
                    writer.Write((byte)geometry.Length);
                    foreach (int number in geometry)
                    {
                        writer.Write(number);
                    }
                }
            }

            if (version >= StateFormatVersion)
            {
                var tensors = Tensors(layers).ToList();
                writer.Write((uint)tensors.Count);
                foreach ((string tensorName, byte buffer, long offset, int[] shape) in tensors)
                {
                    byte[] name = Encoding.UTF8.GetBytes(tensorName);
                    writer.Write(checked((ushort)name.Length));
                    writer.Write(name);
                    writer.Write(buffer);
                    writer.Write(offset);
                    writer.Write(checked((byte)shape.Length));
                    foreach (int dimension in shape)
                    {
                        writer.Write(dimension);
                    }
                }
            }
        }

        // BinaryWriter writes little-endian on every platform.
        return bytes.ToArray();
    }

    /// <summary>
    /// The numbers of a layer's geometry the architecture block records: a Conv1d's 8 (channels, length, out channels,
    /// kernel, stride, padding, dilation, groups), a Conv2d's 13 (the same with height and width each), a pool's 11
    /// (channels, height, width, then kernel, stride, padding and dilation as height and width); none for other kinds.
    /// </summary>
    private static int[] Geometry(Layer layer)
        => layer.Convolution is { } g ? [g.InChannels, g.InLength, g.OutChannels, g.Kernel, g.Stride, g.Padding, g.Dilation, g.Groups]
            : layer.Convolution2d is { } c ? [c.InChannels, c.InHeight, c.InWidth, c.OutChannels, c.KernelHeight, c.KernelWidth, c.StrideHeight, c.StrideWidth, c.PaddingHeight, c.PaddingWidth, c.DilationHeight, c.DilationWidth, c.Groups]
            : layer.Pooling is { } p ? [p.Channels, p.InHeight, p.InWidth, p.KernelHeight, p.KernelWidth, p.StrideHeight, p.StrideWidth, p.PaddingHeight, p.PaddingWidth, p.DilationHeight, p.DilationWidth]
            : [];

    /// <summary>
    /// An architecture block in words ("input (40); Hidden1 Dense 40 -> 100 Relu; ...") and the parameter and state
    /// counts it holds; null when the block is malformed: a field cut short, a negative width, more parameters than a
    /// network can have (int.MaxValue), or (version 3) tensors that do not tile the parameters and the state.
    /// </summary>
    private static (string Text, long ParameterCount, long StateCount)? Describe(byte[] architecture, uint version)
    {
        using var reader = new BinaryReader(new MemoryStream(architecture), Encoding.UTF8);
        try
        {
            var text = new StringBuilder("input (");
            int rank = reader.ReadByte();
            for (int i = 0; i < rank; i++)
            {
                text.Append(i > 0 ? ", " : string.Empty).Append(reader.ReadInt32().ToString(CultureInfo.InvariantCulture));
            }

            text.Append(')');
            long parameterCount = 0;
            int layers = reader.ReadUInt16();
            for (int i = 0; i < layers; i++)
            {
                int nameLength = reader.ReadUInt16();
                byte[] name = reader.ReadBytes(nameLength);
                if (name.Length < nameLength)
                {
                    return null;
                }

                long fanIn = reader.ReadInt32();
                long units = reader.ReadInt32();
                if (fanIn < 0 || units < 0)
                {
                    return null;
                }

                byte activation = reader.ReadByte();
                float slope = reader.ReadSingle();
                bool bias = reader.ReadByte() != 0;
                byte kind = version >= 2 ? reader.ReadByte() : (byte)LayerKind.Dense;
                long weightLength = version >= 2 ? reader.ReadInt32() : units * fanIn;
                long biasLength = version >= GeometryFormatVersion ? reader.ReadInt32() : bias ? units : 0;
                var geometry = new int[version >= GeometryFormatVersion ? reader.ReadByte() : 0];
                for (int g = 0; g < geometry.Length; g++)
                {
                    geometry[g] = reader.ReadInt32();
                }

                if (weightLength < 0 || biasLength < 0 || (bias != (biasLength > 0)))
                {
                    return null;
                }

                parameterCount += weightLength + biasLength; // each term below 2^63, the sum checked below
                if (parameterCount > int.MaxValue)
                {
                    return null;
                }

                string activationName = Enum.IsDefined(typeof(Activation), (int)activation) ? ((Activation)activation).ToString() : $"activation #{activation}";
                if ((Activation)activation == Activation.LeakyRelu)
                {
                    activationName += string.Create(CultureInfo.InvariantCulture, $"({slope:R})");
                }

                string kindName = Enum.IsDefined(typeof(LayerKind), (int)kind) ? ((LayerKind)kind).ToString() : $"kind #{kind}";
                text.Append((LayerKind)kind switch
                {
                    LayerKind.Dense => string.Create(CultureInfo.InvariantCulture, $"; {Encoding.UTF8.GetString(name)} Dense {fanIn} -> {units} {activationName}{(bias ? string.Empty : " no bias")}"),
                    LayerKind.Activation => string.Create(CultureInfo.InvariantCulture, $"; {Encoding.UTF8.GetString(name)} {activationName} ({units})"),
                    LayerKind.Add => string.Create(CultureInfo.InvariantCulture, $"; {Encoding.UTF8.GetString(name)} Add ({units})"),
                    LayerKind.Scale => string.Create(CultureInfo.InvariantCulture, $"; {Encoding.UTF8.GetString(name)} Scale ({units})"),
                    LayerKind.Conv1d when geometry.Length == 8 => string.Create(CultureInfo.InvariantCulture,
                        $"; {Encoding.UTF8.GetString(name)} Conv1d ({geometry[0]}, {geometry[1]}) -> {geometry[2]} channels, kernel {geometry[3]}, stride {geometry[4]}, padding {geometry[5]}, dilation {geometry[6]}, groups {geometry[7]} {activationName}{(bias ? string.Empty : " no bias")}"),
                    LayerKind.Flatten => string.Create(CultureInfo.InvariantCulture, $"; {Encoding.UTF8.GetString(name)} Flatten ({units})"),
                    LayerKind.Conv2d when geometry.Length == 13 => string.Create(CultureInfo.InvariantCulture,
                        $"; {Encoding.UTF8.GetString(name)} Conv2d ({geometry[0]}, {geometry[1]}, {geometry[2]}) -> {geometry[3]} channels, kernel {geometry[4]}x{geometry[5]}, stride {geometry[6]}x{geometry[7]}, padding {geometry[8]}x{geometry[9]}, dilation {geometry[10]}x{geometry[11]}, groups {geometry[12]} {activationName}{(bias ? string.Empty : " no bias")}"),
                    LayerKind.MaxPool1d or LayerKind.MaxPool2d or LayerKind.AvgPool1d or LayerKind.AvgPool2d when geometry.Length == 11 => string.Create(CultureInfo.InvariantCulture,
                        $"; {Encoding.UTF8.GetString(name)} {kindName} ({geometry[0]}, {geometry[1]}, {geometry[2]}), kernel {geometry[3]}x{geometry[4]}, stride {geometry[5]}x{geometry[6]}, padding {geometry[7]}x{geometry[8]}, dilation {geometry[9]}x{geometry[10]}"),
                    _ => string.Create(CultureInfo.InvariantCulture, $"; {Encoding.UTF8.GetString(name)} {kindName} ({units}){(weightLength > 0 ? string.Empty : " no parameters")}"),
                });
            }

            long stateCount = 0;
            if (version >= StateFormatVersion)
            {
                long covered = 0;
                uint tensors = reader.ReadUInt32();
                for (uint i = 0; i < tensors; i++)
                {
                    int nameLength = reader.ReadUInt16();
                    if (reader.ReadBytes(nameLength).Length < nameLength)
                    {
                        return null;
                    }

                    byte buffer = reader.ReadByte();
                    long offset = reader.ReadInt64();
                    int tensorRank = reader.ReadByte();
                    long size = 1;
                    for (int d = 0; d < tensorRank; d++)
                    {
                        int dimension = reader.ReadInt32();
                        if (dimension < 0 || (size *= dimension) > int.MaxValue)
                        {
                            return null;
                        }
                    }

                    if (buffer > 1 || offset < 0 || offset > int.MaxValue)
                    {
                        return null;
                    }

                    if (buffer == 0)
                    {
                        covered += size;
                    }
                    else
                    {
                        stateCount = Math.Max(stateCount, offset + size);
                    }
                }

                if (covered != parameterCount)
                {
                    return null;
                }
            }

            if (reader.BaseStream.Position != architecture.Length)
            {
                text.Append(string.Create(CultureInfo.InvariantCulture, $" (and {architecture.Length - reader.BaseStream.Position} more bytes)"));
            }

            return (text.ToString(), parameterCount, stateCount);
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }
}

/// <summary>A checked parameter file's contents: the parameters and the running statistics (empty before version 3).</summary>
internal sealed record ParameterFileContents(float[] Parameters, float[] State)
{
    /// <summary>Writes both into <paramref name="network"/>; on a GPU the parameters reach the device before its next use.</summary>
    public void CopyTo(INetwork network)
    {
        Span<float> parameters = network.Parameters; // taken first: on a GPU the getter downloads, which may fail
        foreach (Layer layer in network.Layers.Where(layer => layer.StateOffset >= 0))
        {
            State.AsSpan(layer.StateOffset, layer.Units).CopyTo(layer.RunningMean);
            State.AsSpan(layer.StateOffset + layer.Units, layer.Units).CopyTo(layer.RunningVariance);
        }

        Parameters.CopyTo(parameters);
    }
}
