using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Dsl.IO;

/// <summary>
/// Reads a parameter file or a training checkpoint from a stream: exact byte counts, each byte appended to a running
/// CRC-32, and a stream that ends early reported as <see cref="ParameterFileProblem.Truncated"/> with the offset
/// and the field it cut. Declared lengths are read in chunks, so a damaged length costs no more memory than the
/// stream holds.
/// </summary>
/// <param name="stream">The stream, read from its current position.</param>
/// <param name="document">What is read, for messages: "parameter file" or "checkpoint".</param>
internal sealed class ChecksummedReader(Stream stream, string document)
{
    private readonly Crc32 _crc = new();

    /// <summary>Bytes read so far.</summary>
    public long Position { get; private set; }

    /// <summary>CRC-32 of every byte read so far.</summary>
    public uint Checksum => _crc.GetCurrentHashAsUInt32();

    /// <summary>Reads up to destination's length (less only at the end of the stream); returns the count read.</summary>
    public int FillAtMost(Span<byte> destination)
    {
        int read = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        _crc.Append(destination[..read]);
        Position += read;
        return read;
    }

    /// <summary>Fills <paramref name="destination"/> exactly.</summary>
    public void Fill(Span<byte> destination, string what) => RequireFilled(FillAtMost(destination), destination.Length, what);

    /// <summary>Fills <paramref name="values"/> exactly from little-endian float32, put in this machine's byte order.</summary>
    public void FillFloats(Span<float> values, string what)
    {
        Fill(MemoryMarshal.AsBytes(values), what);
        if (!BitConverter.IsLittleEndian)
        {
            Span<int> bits = MemoryMarshal.Cast<float, int>(values);
            BinaryPrimitives.ReverseEndianness(bits, bits);
        }
    }

    /// <summary>Throws the truncation error unless the last read of <paramref name="wanted"/> bytes got them all.</summary>
    public void RequireFilled(int read, int wanted, string what)
    {
        if (read < wanted)
        {
            throw Truncated(what, wanted, Position - read);
        }
    }

    /// <summary><paramref name="count"/> bytes, read in chunks so that memory grows only with what the stream holds.</summary>
    public byte[] Read(long count, string what)
    {
        var bytes = new MemoryStream();
        ReadChunks(count, what, chunk => bytes.Write(chunk));
        return bytes.ToArray();
    }

    /// <summary>Reads and checksums <paramref name="count"/> bytes without keeping them.</summary>
    public void Skip(long count, string what) => ReadChunks(count, what, _ => { });

    private void ReadChunks(long count, string what, SpanAction keep)
    {
        long start = Position;
        var chunk = new byte[(int)Math.Clamp(count, 0, 1 << 16)];
        for (long left = count; left > 0;)
        {
            int wanted = (int)Math.Min(left, chunk.Length);
            int read = FillAtMost(chunk.AsSpan(0, wanted));
            keep(chunk.AsSpan(0, read));
            if (read < wanted)
            {
                throw Truncated(what, count, start);
            }

            left -= read;
        }
    }

    private delegate void SpanAction(ReadOnlySpan<byte> bytes);

    private ParameterFileException Truncated(string what, long count, long start)
        => new(ParameterFileProblem.Truncated, string.Create(CultureInfo.InvariantCulture,
            $"The {document} is truncated at offset {Position}: {what} should be {count} bytes from offset {start}, but the stream ended after {Position - start}."));
}
