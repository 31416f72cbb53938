namespace Dsl.Data;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014; the generator Java's SplittableRandom and xoshiro's
/// seeding use): a 64-bit counter advanced by the golden-ratio increment and passed through a
/// bijective mixer. Small, fast, fully determined by its seed, and equal on every platform.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed)
    {
        _state = seed;
    }

    /// <summary>The next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        return Mix(unchecked(_state += GoldenGamma));
    }

    /// <summary>The counter's increment, 2^64 divided by the golden ratio.</summary>
    internal const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    /// <summary>SplitMix64's output function, a bijection of 64-bit words (also used to seed other generators).</summary>
    internal static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>
    /// An integer uniform in [0, bound), without modulo bias (Lemire's multiply-and-reject:
    /// the high word of a 64x64-bit product, rejecting the 2^64 mod bound low words that would
    /// favour small results).
    /// </summary>
    public int NextInt(int bound)
    {
        if (bound <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bound), bound, "The bound must be positive.");
        }
        ulong range = (ulong)bound;
        ulong high = Math.BigMul(NextUInt64(), range, out ulong low);
        if (low < range)
        {
            ulong threshold = unchecked(0UL - range) % range;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), range, out low);
            }
        }
        return (int)high;
    }
}
