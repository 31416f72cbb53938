namespace Dsl.Data;

/// <summary>
/// numpy's legacy <c>np.random.RandomState</c>, reproduced draw for draw: an MT19937 generator
/// seeded by <c>init_genrand</c>, with numpy's rules for turning its 32-bit outputs into doubles,
/// bounded integers, normal deviates and permutations. Same seed, same calls, same numbers as
/// numpy (the Gaussian goes through the C library's <c>log</c>, as numpy's does).
/// </summary>
public sealed class RandomState
{
    private const int StateLength = 624;
    private const int ShiftSize = 397;
    private const uint MatrixA = 0x9908b0df;
    private const uint UpperMask = 0x80000000;
    private const uint LowerMask = 0x7fffffff;

    // MT19937 key; position == StateLength means the next draw regenerates all 624 words.
    private readonly uint[] _key = new uint[StateLength];
    private int _position;

    // Marsaglia's polar method yields normals in pairs; the second waits here for the next Randn().
    private bool _hasCachedGaussian;
    private double _cachedGaussian;

    /// <summary>Same state as <c>np.random.RandomState(seed)</c>.</summary>
    public RandomState(uint seed)
    {
        // init_genrand: mt[0] = seed; mt[i] = 1812433253 (mt[i-1] ^ (mt[i-1] >> 30)) + i, mod 2^32.
        _key[0] = seed;
        for (int i = 1; i < StateLength; i++)
        {
            uint previous = _key[i - 1];
            _key[i] = unchecked(1812433253u * (previous ^ (previous >> 30)) + (uint)i);
        }
        _position = StateLength;
    }

    /// <summary>The next tempered 32-bit MT19937 output.</summary>
    public uint NextUInt32()
    {
        if (_position == StateLength)
        {
            Regenerate();
        }
        uint y = _key[_position++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >> 18;
        return y;
    }

    /// <summary>
    /// <c>rand()</c>: a double in [0, 1) with 53 random bits, from two outputs a, b as
    /// ((a &gt;&gt; 5) 2^26 + (b &gt;&gt; 6)) / 2^53.
    /// </summary>
    public double Rand()
    {
        uint a = NextUInt32() >> 5;
        uint b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary>
    /// <c>randn()</c>: a standard normal deviate by Marsaglia's polar method. Each accepted pair
    /// (x1, x2) returns f x2 now and f x1 on the following call.
    /// </summary>
    public double Randn()
    {
        if (_hasCachedGaussian)
        {
            _hasCachedGaussian = false;
            return _cachedGaussian;
        }
        double x1, x2, r2;
        do
        {
            x1 = 2.0 * Rand() - 1.0;
            x2 = 2.0 * Rand() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        }
        while (r2 >= 1.0 || r2 == 0.0);
        double f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        _cachedGaussian = f * x1;
        _hasCachedGaussian = true;
        return f * x2;
    }

    /// <summary>
    /// <c>randint(low, high)</c>: an integer in [low, high) by masked rejection. A range of one
    /// value consumes no output, as in numpy.
    /// </summary>
    public int RandInt(int low, int high)
    {
        if (high <= low)
        {
            throw new ArgumentException($"RandInt needs low < high; got low {low}, high {high}.", nameof(high));
        }
        // high - low - 1 <= 2^32 - 2, so the 32-bit path of numpy's bounded integers applies.
        uint range = (uint)((long)high - low - 1);
        return (int)(low + (long)BoundedUInt32(range));
    }

    /// <summary><c>choice(populationSize)</c> without weights: the same draw as <c>randint(0, populationSize)</c>.</summary>
    public int Choice(int populationSize)
    {
        if (populationSize <= 0)
        {
            throw new ArgumentException($"Choice needs a population of at least 1; got {populationSize}.", nameof(populationSize));
        }
        return RandInt(0, populationSize);
    }

    /// <summary>
    /// <c>permutation(n)</c>: 0..n-1 shuffled by numpy's Fisher-Yates, i = n-1 down to 1 swapping
    /// a[i] with a[j], j uniform in [0, i] by masked rejection.
    /// </summary>
    public int[] Permutation(int n)
    {
        if (n < 0)
        {
            throw new ArgumentException($"Permutation needs n >= 0; got {n}.", nameof(n));
        }
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        for (int i = n - 1; i >= 1; i--)
        {
            int j = (int)BoundedUInt32((uint)i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>
    /// A value in [0, max]: draw outputs AND the smallest 2^k - 1 mask &gt;= max until one is &lt;= max.
    /// max == 0 returns 0 without drawing.
    /// </summary>
    private uint BoundedUInt32(uint max)
    {
        if (max == 0)
        {
            return 0;
        }
        uint mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        do
        {
            value = NextUInt32() & mask;
        }
        while (value > max);
        return value;
    }

    private void Regenerate()
    {
        uint[] mt = _key;
        int i = 0;
        uint y;
        for (; i < StateLength - ShiftSize; i++)
        {
            y = (mt[i] & UpperMask) | (mt[i + 1] & LowerMask);
            mt[i] = mt[i + ShiftSize] ^ (y >> 1) ^ ((y & 1) == 0 ? 0u : MatrixA);
        }
        for (; i < StateLength - 1; i++)
        {
            y = (mt[i] & UpperMask) | (mt[i + 1] & LowerMask);
            mt[i] = mt[i + ShiftSize - StateLength] ^ (y >> 1) ^ ((y & 1) == 0 ? 0u : MatrixA);
        }
        y = (mt[StateLength - 1] & UpperMask) | (mt[0] & LowerMask);
        mt[StateLength - 1] = mt[ShiftSize - 1] ^ (y >> 1) ^ ((y & 1) == 0 ? 0u : MatrixA);
        _position = 0;
    }
}
