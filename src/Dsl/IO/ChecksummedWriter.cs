using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Dsl.IO;

/// <summary>
/// Writes a parameter file or a training checkpoint: every byte goes to the stream and into a running CRC-32, floats
/// as little-endian float32, and <see cref="WriteChecksum"/> ends the file with the CRC of everything before it.
/// The counterpart of <see cref="ChecksummedReader"/>.
/// </summary>
internal sealed class ChecksummedWriter(Stream stream)
{
    private readonly Crc32 _crc = new();

    public void Write(ReadOnlySpan<byte> bytes)
    {
        _crc.Append(bytes);
        stream.Write(bytes);
    }

    /// <summary>The values as little-endian float32, whatever this machine's byte order.</summary>
    public void WriteFloats(ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            Write(MemoryMarshal.AsBytes(values));
            return;
        }

        var swapped = new int[values.Length];
        BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(values), swapped);
        Write(MemoryMarshal.AsBytes(swapped.AsSpan()));
    }

    /// <summary>The CRC-32 of every byte written so far (little-endian uint32), not itself checksummed.</summary>
    public void WriteChecksum()
    {
        Span<byte> checksum = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(checksum, _crc.GetCurrentHashAsUInt32());
        stream.Write(checksum);
    }
}
