using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Dsl.Training;

namespace Dsl.IO;

/// <summary>
/// Saves what resuming a training run needs, a network's parameters and its optimizer's state (step count, moments
/// or momentum), and loads it back into a network of the same declaration and an optimizer of the same type, on
/// any device. Fed the same batches, training resumed from a checkpoint takes the same steps as training that never
/// stopped: bit for bit on the same kind of device, up to float rounding across devices (the batch order is the
/// caller's: a <see cref="Data.Batcher"/>'s position is not in the file). Anything else is refused with a
/// <see cref="ParameterFileException"/> that names the problem, and a refused load changes neither the network nor
/// the optimizer.
/// </summary>
/// <remarks>
/// The hyperparameters (learning rate, betas, weight decay, momentum) are not stored: they are the given
/// optimizer's, as a schedule may change them. Only <see cref="Sgd"/>, <see cref="Adam"/> and <see cref="AdamW"/>
/// can be checkpointed. Format, version 1, every number little-endian:
/// <code>
/// size   field
/// 8      magic "DSLCKPT" and a zero byte
/// 4      format version (uint32), 1
/// 8      length F of the parameter file that follows (int64)
/// F      a complete parameter file (<see cref="ParameterFile"/>, with its own checksum)
/// 2      optimizer type name length N (uint16), then N bytes of the type's full name (UTF-8)
/// 8      the optimizer's step count (int64)
/// 4      state length L (int32): the parameter count, or -1 for an optimizer that has not stepped yet
/// 4      state buffer count S (int32): Adam and AdamW 2 (m, v), SGD 1 with momentum and 0 without
/// 4 S L  the buffers (float32), each laid out as the parameters
/// 4      CRC-32 (IEEE 802.3) of every byte before it
/// </code>
/// </remarks>
public static class TrainingCheckpoint
{
    /// <summary>The format version this library writes and reads.</summary>
    public const uint FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "DSLCKPT\0"u8;

    /// <summary>The most state buffers an optimizer a checkpoint can hold keeps: Adam's m and v.</summary>
    private const int MaxStateBuffers = 2;

    /// <summary>Writes the network's parameters and the optimizer's state to <paramref name="stream"/>, from its current position.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">The optimizer is not one this library can checkpoint.</exception>
    /// <exception cref="InvalidOperationException">The optimizer holds state for another length or another device than the network's.</exception>
    public static void Save(INetwork network, Optimizer optimizer, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(stream);
        RequireSavable(network, optimizer);
        (long stepCount, int length, float[][] buffers) = optimizer.ExportState();

        var parameterFile = new MemoryStream();
        ParameterFile.Save(network, parameterFile);
        byte[] name = Encoding.UTF8.GetBytes(optimizer.GetType().FullName!);

        var writer = new ChecksummedWriter(stream);
        var head = new byte[20];
        Magic.CopyTo(head);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(12), parameterFile.Length);
        writer.Write(head);
        writer.Write(parameterFile.GetBuffer().AsSpan(0, (int)parameterFile.Length));
        var optimizerHead = new byte[2 + name.Length + 16];
        BinaryPrimitives.WriteUInt16LittleEndian(optimizerHead, checked((ushort)name.Length));
        name.CopyTo(optimizerHead, 2);
        BinaryPrimitives.WriteInt64LittleEndian(optimizerHead.AsSpan(2 + name.Length), stepCount);
        BinaryPrimitives.WriteInt32LittleEndian(optimizerHead.AsSpan(10 + name.Length), length);
        BinaryPrimitives.WriteInt32LittleEndian(optimizerHead.AsSpan(14 + name.Length), buffers.Length);
        writer.Write(optimizerHead);
        foreach (float[] buffer in buffers)
        {
            writer.WriteFloats(buffer);
        }

        writer.WriteChecksum();
    }

    /// <summary>
    /// Writes the checkpoint to the file at <paramref name="path"/>, replacing one that exists only once the new one is
    /// complete (as <see cref="ParameterFile.Save(INetwork, string)"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">The optimizer is not one this library can checkpoint.</exception>
    /// <exception cref="InvalidOperationException">The optimizer holds state for another length or another device than the network's.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to write there, or the path is a directory.</exception>
    public static void Save(INetwork network, Optimizer optimizer, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(path);
        RequireSavable(network, optimizer); // before a temporary file is created
        AtomicFile.Write(path, file => Save(network, optimizer, file));
    }

    /// <summary>
    /// Reads one checkpoint from <paramref name="stream"/> (exactly its bytes, leaving the stream after them) and, once
    /// all of it is checked, puts its parameters into <paramref name="network"/> and its state into
    /// <paramref name="optimizer"/>, which is rebound to the network's device. A refused checkpoint changes neither. A
    /// device failure while the state is written (an allocation, a copy) leaves the optimizer reset, as after
    /// <see cref="Optimizer.Reset"/>, and the network unchanged.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">The optimizer is not one this library can checkpoint.</exception>
    /// <exception cref="ParameterFileException">
    /// The bytes are not a readable checkpoint for this network and optimizer; <see cref="ParameterFileException.Problem"/>
    /// says why (<see cref="ParameterFileProblem.OptimizerMismatch"/>: another optimizer type, or SGD with and without momentum).
    /// </exception>
    public static void Load(INetwork network, Optimizer optimizer, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(stream);
        RequireCheckpointable(optimizer);
        Checkpoint checkpoint = Read(stream, network, optimizer);
        Apply(checkpoint, network, optimizer);
    }

    /// <summary>Loads the checkpoint file at <paramref name="path"/>, as <see cref="Load(INetwork, Optimizer, Stream)"/>; bytes after its end are refused too.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">The optimizer is not one this library can checkpoint.</exception>
    /// <exception cref="ParameterFileException">The file is not a readable checkpoint for this network and optimizer.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to read it, or the path is a directory.</exception>
    public static void Load(INetwork network, Optimizer optimizer, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(path);
        RequireCheckpointable(optimizer);
        using FileStream file = File.OpenRead(path);
        Checkpoint checkpoint = Read(file, network, optimizer);
        if (file.CanSeek && file.Position != file.Length)
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' has {file.Length - file.Position} bytes after the end of its checkpoint ({file.Position} bytes)."));
        }

        Apply(checkpoint, network, optimizer);
    }

    /// <summary>A checked checkpoint, not yet applied.</summary>
    private sealed record Checkpoint(ParameterFileContents Contents, long StepCount, int StateLength, float[][] Buffers);

    private static void Apply(Checkpoint checkpoint, INetwork network, Optimizer optimizer)
    {
        // Taken first: on a GPU the getter downloads, which may fail, and must fail before the optimizer changes.
        _ = network.Parameters;
        optimizer.ImportState(network.Device.Gpu, checkpoint.StepCount, checkpoint.StateLength, checkpoint.Buffers);
        checkpoint.Contents.CopyTo(network); // on a GPU, reaches the device before its next use
    }

    /// <summary>
    /// Reads the whole checkpoint and checks it: the checksum first (so a damaged file is
    /// <see cref="ParameterFileProblem.Corrupt"/>, never blamed on the network or optimizer), then the parameter file
    /// against the network, then the optimizer block against the optimizer. Declared lengths are read in chunks, so a
    /// damaged length costs no more memory than the stream holds.
    /// </summary>
    private static Checkpoint Read(Stream stream, INetwork network, Optimizer optimizer)
    {
        var reader = new ChecksummedReader(stream, "checkpoint");
        var magic = new byte[Magic.Length];
        int magicRead = reader.FillAtMost(magic);
        if (magicRead == 0 || !magic.AsSpan(0, magicRead).SequenceEqual(Magic[..magicRead]))
        {
            throw new ParameterFileException(ParameterFileProblem.NotAParameterFile,
                "The bytes do not start with \"DSLCKPT\": not a checkpoint written by TrainingCheckpoint.Save.");
        }

        reader.RequireFilled(magicRead, Magic.Length, "the magic");

        byte[] head = [.. magic, .. reader.Read(12, "the header")];
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(8));
        if (version != FormatVersion)
        {
            throw new ParameterFileException(ParameterFileProblem.UnsupportedVersion, string.Create(CultureInfo.InvariantCulture,
                $"The checkpoint has format version {version}; this library reads version {FormatVersion}."));
        }

        long parameterFileLength = BinaryPrimitives.ReadInt64LittleEndian(head.AsSpan(12));
        if (parameterFileLength < 0)
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"The checkpoint declares a parameter file of {parameterFileLength} bytes."));
        }

        byte[] parameterFile = reader.Read(parameterFileLength, "the parameter file");
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(reader.Read(2, "the optimizer name's length"));
        string name = Encoding.UTF8.GetString(reader.Read(nameLength, "the optimizer name"));
        byte[] optimizerHead = reader.Read(16, "the optimizer's step count and state sizes");
        long stepCount = BinaryPrimitives.ReadInt64LittleEndian(optimizerHead);
        int stateLength = BinaryPrimitives.ReadInt32LittleEndian(optimizerHead.AsSpan(8));
        int bufferCount = BinaryPrimitives.ReadInt32LittleEndian(optimizerHead.AsSpan(12));
        // Save writes state (length >= 0) exactly when the optimizer has stepped, and at most 2 buffers (Adam's m and v).
        bool stepped = stepCount > 0;
        if (stepCount < 0 || stateLength < -1 || stepped != (stateLength >= 0) || bufferCount < 0 || bufferCount > MaxStateBuffers
            || (!stepped && bufferCount != 0))
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"The checkpoint's optimizer block is inconsistent: step count {stepCount}, state length {stateLength}, {bufferCount} buffers."));
        }

        // State of this network's length is read straight into its buffers; any other length cannot be loaded, so it is
        // only checksummed (memory never follows a damaged length) and refused below.
        bool fits = stateLength == network.ParameterCount;
        var buffers = new float[fits ? bufferCount : 0][];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new float[stateLength];
            reader.FillFloats(buffers[i], "an optimizer state buffer");
        }

        if (!fits && stateLength > 0)
        {
            reader.Skip(checked(4L * stateLength * bufferCount), "the optimizer's state");
        }

        uint computed = reader.Checksum;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(reader.Read(4, "the checksum"));
        if (stored != computed)
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"The checkpoint's checksum is 0x{stored:X8} but its bytes give 0x{computed:X8}: the file is damaged."));
        }

        // Intact: now compare it with what it is loaded into.
        var inner = new MemoryStream(parameterFile, writable: false);
        ParameterFileContents contents = ParameterFile.Read(inner, network);
        float[] parameters = contents.Parameters;
        if (inner.Position != inner.Length)
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, "The checkpoint's parameter file is followed by bytes that belong to no field.");
        }

        string expectedName = optimizer.GetType().FullName!;
        if (name != expectedName)
        {
            throw new ParameterFileException(ParameterFileProblem.OptimizerMismatch,
                $"The checkpoint holds the state of a {name}; the optimizer given is a {expectedName}.");
        }

        int expectedBuffers = optimizer.CheckpointBuffers;
        if (stateLength >= 0 && bufferCount != expectedBuffers)
        {
            throw new ParameterFileException(ParameterFileProblem.OptimizerMismatch, string.Create(CultureInfo.InvariantCulture,
                $"The checkpoint's {name} keeps {bufferCount} state buffers, the optimizer given keeps {expectedBuffers} (an SGD with momentum and one without differ)."));
        }

        if (stateLength >= 0 && stateLength != parameters.Length)
        {
            throw new ParameterFileException(ParameterFileProblem.Corrupt, string.Create(CultureInfo.InvariantCulture,
                $"The checkpoint's optimizer state covers {stateLength} parameters but its parameter file holds {parameters.Length}."));
        }

        return new Checkpoint(contents, stepCount, stateLength, buffers);
    }

    /// <summary>The optimizer is checkpointable and its state (if any) belongs to this network's length and device.</summary>
    private static void RequireSavable(INetwork network, Optimizer optimizer)
    {
        RequireCheckpointable(optimizer);
        optimizer.CheckCompatible(network.Device.Gpu, network.ParameterCount);
    }

    private static void RequireCheckpointable(Optimizer optimizer)
    {
        if (!optimizer.SupportsCheckpoint)
        {
            throw new NotSupportedException(
                $"A checkpoint can hold the state of Sgd, Adam and AdamW; {optimizer.GetType().FullName} is defined elsewhere and its state cannot be read.");
        }
    }
}
