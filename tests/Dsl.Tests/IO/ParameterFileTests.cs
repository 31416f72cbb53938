using System.Buffers.Binary;
using Dsl.IO;
using Dsl.Tests.Gpu;
using Dsl.Tests.Networks;
using Dsl.Training;
using Xunit;

namespace Dsl.Tests.IO;

/// <summary>
/// Saving and loading parameters: the round trip is exact; a truncated, damaged or foreign file, cut or
/// flipped at every byte, is refused with a typed error that names the problem, and the network keeps its
/// parameters.
/// </summary>
[Collection(GpuSimulatorCollection.Name)]
public sealed class ParameterFileTests(GpuSimulatorFixture fixture)
{
    private static NetA Trained(Device device, ulong seed)
    {
        var network = new NetA(device, seed);
        (float[] inputs, int[] labels) = TestData.Classification(13, network.InputSize, seed: 5);
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] %= network.OutputSize;
        }

        var optimizer = new Adam(0.01f);
        for (int step = 0; step < 3; step++)
        {
            network.TrainStep(inputs, labels, optimizer);
        }

        return network;
    }

    private static byte[] Saved(INetwork network)
    {
        using var stream = new MemoryStream();
        ParameterFile.Save(network, stream);
        return stream.ToArray();
    }

    /// <summary>Loads <paramref name="bytes"/> into <paramref name="network"/>, expecting a refusal that leaves it unchanged.</summary>
    private static ParameterFileException Refused(INetwork network, byte[] bytes)
    {
        float[] before = network.Parameters.ToArray();
        var error = Assert.Throws<ParameterFileException>(() => ParameterFile.Load(network, new MemoryStream(bytes)));
        Assert.Equal(before, network.Parameters.ToArray());
        return error;
    }

    [Fact]
    public void A_round_trip_restores_every_parameter_bit_for_bit()
    {
        using Device cpu = Device.Cpu(1);
        NetA trained = Trained(cpu, seed: 1);
        var fresh = new NetA(cpu, seed: 2);
        Assert.NotEqual(trained.Parameters.ToArray(), fresh.Parameters.ToArray());

        var stream = new MemoryStream(Saved(trained));
        ParameterFile.Load(fresh, stream);

        Assert.Equal(stream.Length, stream.Position); // exactly the file's bytes were read
        Assert.Equal(trained.Parameters.ToArray(), fresh.Parameters.ToArray());
        (float[] inputs, _) = TestData.Classification(5, fresh.InputSize, seed: 8);
        float[] expected = new float[5 * fresh.OutputSize];
        float[] actual = new float[5 * fresh.OutputSize];
        trained.Predict(inputs, expected);
        fresh.Predict(inputs, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void The_file_has_the_documented_layout()
    {
        using Device cpu = Device.Cpu(1);
        NetA network = Trained(cpu, seed: 1);
        byte[] bytes = Saved(network);

        Assert.Equal("DSLPARAM"u8.ToArray(), bytes[..8]);
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        int architecture = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        // input rank and dimension; layer count; per layer: name length and bytes, fanIn, units, activation, slope, bias,
        // kind, weight length, bias length, geometry count (0: no geometry); then the tensor count and per tensor: name length and bytes, buffer, offset, rank, dimensions.
        int names = "First".Length + "Second".Length + "Logits".Length;
        string[] tensors = ["First.weight", "First.bias", "Second.weight", "Second.bias", "Logits.weight", "Logits.bias"];
        int tensorTable = 4 + tensors.Sum(name => 2 + name.Length + 1 + 8 + 1 + (4 * (name.EndsWith(".weight", StringComparison.Ordinal) ? 2 : 1)));
        Assert.Equal(1 + 4 + 2 + (3 * (2 + 4 + 4 + 1 + 4 + 1 + 1 + 4 + 4 + 1)) + names + tensorTable, architecture);
        // The first layer's fields in the documented order: input rank 1 and width 7, 3 layers, "First", 7, 9, Relu, slope, bias, kind, weight length.
        Assert.Equal(1, bytes[16]);
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(17)));
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(21)));
        Assert.Equal(5, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(23)));
        Assert.Equal("First"u8.ToArray(), bytes[25..30]);
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(30)));
        Assert.Equal(9, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(34)));
        Assert.Equal((byte)Activation.Relu, bytes[38]);
        Assert.Equal(network.First.Slope, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(39)));
        Assert.Equal(1, bytes[43]);
        Assert.Equal((byte)LayerKind.Dense, bytes[44]);
        Assert.Equal(63, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(45)));
        Assert.Equal(9, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(49)));
        Assert.Equal(0, bytes[53]);
        // The tensor table's first entry: "First.weight" in the parameters at 0, shape (9, 7).
        int table = 16 + architecture - tensorTable;
        Assert.Equal((uint)tensors.Length, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(table)));
        Assert.Equal("First.weight".Length, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(table + 4)));
        Assert.Equal("First.weight"u8.ToArray(), bytes[(table + 6)..(table + 18)]);
        Assert.Equal(0, bytes[table + 18]);
        Assert.Equal(0L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(table + 19)));
        Assert.Equal(2, bytes[table + 27]);
        Assert.Equal(9, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(table + 28)));
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(table + 32)));
        Assert.Equal(network.ParameterCount, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16 + architecture)));
        // No batch norm: a state count of 0, then the checksum.
        Assert.Equal(0L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(24 + architecture + (4 * network.ParameterCount))));
        Assert.Equal(24 + architecture + (4 * network.ParameterCount) + 8 + 4, bytes.Length);
        float first = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(24 + architecture));
        Assert.Equal(network.Parameters[0], first);
        uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)), checksum);
    }

    [Fact]
    public void A_file_of_format_version_1_still_loads()
    {
        // tests/fixtures/parameter-files/net_a.v1.dslparam: NetA's parameters p[i] = sin(i) / 2 in format version 1.
        using Device cpu = Device.Cpu(1);
        var network = new NetA(cpu, seed: 3);
        ParameterFile.Load(network, Path.Combine(AppContext.BaseDirectory, "fixtures", "parameter-files", "net_a.v1.dslparam"));
        float[] expected = [.. Enumerable.Range(0, network.ParameterCount).Select(i => MathF.Sin(i) / 2)];
        Assert.Equal(expected, network.Parameters.ToArray());
    }

    [Fact]
    public void Every_truncation_is_refused_as_truncated_and_changes_nothing()
    {
        using Device cpu = Device.Cpu(1);
        byte[] bytes = Saved(Trained(cpu, seed: 1));
        NetA target = Trained(cpu, seed: 2);

        Assert.Equal(ParameterFileProblem.NotAParameterFile, Refused(target, []).Problem); // empty: nothing to go on
        for (int length = 1; length < bytes.Length; length++)
        {
            ParameterFileException error = Refused(target, bytes[..length]);
            Assert.Equal(ParameterFileProblem.Truncated, error.Problem);
            Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_flipped_bit_position_is_refused_and_changes_nothing()
    {
        using Device cpu = Device.Cpu(1);
        byte[] bytes = Saved(Trained(cpu, seed: 1));
        NetA target = Trained(cpu, seed: 2);

        var problems = new HashSet<ParameterFileProblem>();
        for (int position = 0; position < bytes.Length; position++)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[position] ^= (byte)(1 << (position % 8));
            problems.Add(Refused(target, damaged).Problem);
        }

        // The magic and the version have their own answers; damage anywhere else is Corrupt (the checksum, or a
        // count or architecture that cannot be) or, when the architecture's length grows, Truncated. A damaged file
        // is never blamed on the network: the checksum is checked before the architectures are compared.
        Assert.Contains(ParameterFileProblem.NotAParameterFile, problems);
        Assert.Contains(ParameterFileProblem.UnsupportedVersion, problems);
        Assert.Contains(ParameterFileProblem.Corrupt, problems);
        Assert.DoesNotContain(ParameterFileProblem.NetworkMismatch, problems);
    }

    [Fact]
    public void A_damaged_parameter_names_the_checksum()
    {
        using Device cpu = Device.Cpu(1);
        byte[] bytes = Saved(Trained(cpu, seed: 1));
        bytes[bytes.Length - 18] ^= 0x40; // inside the second-to-last parameter (then the state count, 8 bytes, and the checksum, 4)

        ParameterFileException error = Refused(new NetA(cpu, seed: 3), bytes);

        Assert.Equal(ParameterFileProblem.Corrupt, error.Problem);
        Assert.Contains("checksum does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_networks_file_is_refused_naming_both_architectures()
    {
        using Device cpu = Device.Cpu(1);
        byte[] bytes = Saved(Trained(cpu, seed: 1));

        ParameterFileException shapes = Refused(new NetB(cpu), bytes);
        Assert.Equal(ParameterFileProblem.NetworkMismatch, shapes.Problem);
        Assert.Contains("File: input (7); First Dense 7 -> 9 Relu; Second Dense 9 -> 8 LeakyRelu(0.1); Logits Dense 8 -> 5 Identity.", shapes.Message, StringComparison.Ordinal);
        Assert.Contains("NetB: input (6); First Dense 6 -> 11 Gelu; Second Dense 11 -> 7 Silu; Logits Dense 7 -> 4 Identity no bias.", shapes.Message, StringComparison.Ordinal);

        // The same widths, names and parameter count with another activation are another network too.
        var tanh = new NetATanh(cpu);
        Assert.Equal(new NetA(cpu).ParameterCount, tanh.ParameterCount);
        ParameterFileException activation = Refused(tanh, bytes);
        Assert.Equal(ParameterFileProblem.NetworkMismatch, activation.Problem);
        Assert.Contains("First Dense 7 -> 9 Tanh", activation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_bytes_and_newer_versions_are_refused_by_name()
    {
        using Device cpu = Device.Cpu(1);
        var network = new NetA(cpu);

        ParameterFileException csv = Refused(network, "label,x0,x1,x2\n3,0.5,0.25,1\n"u8.ToArray());
        Assert.Equal(ParameterFileProblem.NotAParameterFile, csv.Problem);
        Assert.Contains("not the magic \"DSLPARAM\"", csv.Message, StringComparison.Ordinal);
        Assert.Equal(ParameterFileProblem.NotAParameterFile, Refused(network, "abc"u8.ToArray()).Problem); // shorter than a header
        Assert.Equal(ParameterFileProblem.Truncated, Refused(network, "DSLP"u8.ToArray()).Problem);      // the magic's start

        byte[] newer = Saved(network);
        BinaryPrimitives.WriteUInt32LittleEndian(newer.AsSpan(8), ParameterFile.FormatVersion + 1);
        ParameterFileException version = Refused(network, newer);
        Assert.Equal(ParameterFileProblem.UnsupportedVersion, version.Problem);
        Assert.Contains("format version 5; this library reads versions 1 to 4", version.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_on_disk_round_trip_and_trailing_bytes_are_refused()
    {
        using Device cpu = Device.Cpu(1);
        NetA trained = Trained(cpu, seed: 1);
        string path = Path.Combine(Path.GetTempPath(), $"dsl-parameters-{Guid.NewGuid():N}.bin");
        try
        {
            File.WriteAllText(path, "an older file");
            ParameterFile.Save(trained, path); // replaces it
            Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(Path.GetDirectoryName(path)!, Path.GetFileName(path) + "*").Select(Path.GetFileName));
            var loaded = new NetA(cpu, seed: 4);
            ParameterFile.Load(loaded, path);
            Assert.Equal(trained.Parameters.ToArray(), loaded.Parameters.ToArray());

            File.AppendAllText(path, "x");
            var other = new NetA(cpu, seed: 5);
            float[] before = other.Parameters.ToArray();
            var error = Assert.Throws<ParameterFileException>(() => ParameterFile.Load(other, path));
            Assert.Equal(ParameterFileProblem.Corrupt, error.Problem);
            Assert.Contains("1 bytes after the end", error.Message, StringComparison.Ordinal);
            Assert.Equal(before, other.Parameters.ToArray());
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<FileNotFoundException>(() => ParameterFile.Load(new NetA(cpu), path));
        Assert.Throws<ArgumentNullException>(() => ParameterFile.Save(null!, new MemoryStream()));
        Assert.Throws<ArgumentNullException>(() => ParameterFile.Save(trained, (Stream)null!));
        Assert.Throws<ArgumentNullException>(() => ParameterFile.Load(trained, (string)null!));
    }

    [Fact]
    public void A_failed_save_to_a_path_leaves_the_previous_file_and_no_partial_file()
    {
        using Device cpu = Device.Cpu(1);
        string directory = Path.Combine(Path.GetTempPath(), $"dsl-parameters-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            string path = Path.Combine(directory, "model.params");
            ParameterFile.Save(new NetA(cpu, seed: 1), path);
            byte[] before = File.ReadAllBytes(path);

            Assert.Throws<IOException>(() => ParameterFile.Save(new UnreadableParameters(new NetA(cpu, seed: 2)), path));

            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Equal([path], Directory.GetFiles(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A network whose parameters cannot be read (as a device lost mid-save): everything else is the inner network's.</summary>
    private sealed class UnreadableParameters(INetwork inner) : INetwork
    {
        public Device Device => inner.Device;
        public int ParameterCount => inner.ParameterCount;
        public int InputSize => inner.InputSize;
        public int OutputSize => inner.OutputSize;
        public ReadOnlySpan<int> InputShape => inner.InputShape;
        public ReadOnlySpan<int> OutputShape => inner.OutputShape;
        public IReadOnlyList<Layer> Layers => inner.Layers;
        public Span<float> Parameters => throw new IOException("the parameters could not be read");
        public ReadOnlySpan<float> Gradients => inner.Gradients;
        public float LastLoss => inner.LastLoss;
        public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs) => inner.Predict(inputs, outputs);
        public void ResetParameters(ulong seed) => inner.ResetParameters(seed);
        public void TrainStep(DeviceDataSet data, int start, int count, Optimizer optimizer) => inner.TrainStep(data, start, count, optimizer);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public void Parameters_move_between_a_gpu_and_the_cpu()
    {
        using Device cpu = Device.Cpu(1);
        NetA onGpu = Trained(fixture.Simulator, seed: 1); // its parameters live on the device
        byte[] fromGpu = Saved(onGpu);
        var onCpu = new NetA(cpu, seed: 2);
        ParameterFile.Load(onCpu, new MemoryStream(fromGpu));
        Assert.Equal(onGpu.Parameters.ToArray(), onCpu.Parameters.ToArray());

        // A CPU-trained file loaded into a GPU network reaches the device: its predictions follow the loaded weights.
        NetA trainedOnCpu = Trained(cpu, seed: 3);
        ParameterFile.Load(onGpu, new MemoryStream(Saved(trainedOnCpu)));
        (float[] inputs, _) = TestData.Classification(6, onGpu.InputSize, seed: 9);
        float[] expected = new float[6 * onGpu.OutputSize];
        float[] actual = new float[6 * onGpu.OutputSize];
        trainedOnCpu.Predict(inputs, expected);
        onGpu.Predict(inputs, actual);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5f * (1 + Math.Abs(expected[i])));
        }

        onGpu.Dispose();
    }
}
