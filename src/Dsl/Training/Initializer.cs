using System.Globalization;
using Dsl.Data;

namespace Dsl.Training;

/// <summary>
/// Draws a dense layer's initial parameters from its declared <see cref="Init"/>, deterministically and
/// identically on every machine: a xoshiro256** generator keyed by (seed, the layer's path) through SplitMix64,
/// doubles in [0, 1) from 53 bits, normals by Marsaglia's polar form of Box–Muller with a logarithm built
/// from IEEE arithmetic only (no C library call), each value rounded to float once at the end.
/// </summary>
public static class Initializer
{
    /// <summary>
    /// Fills <paramref name="weight"/> (row-major, one row per output unit) and, when given,
    /// <paramref name="bias"/>. Weights are drawn first, then the bias, from the same stream, keyed by the layer's
    /// path (<c>Blocks[3].Up</c>): inserting a layer does not change the values any other layer draws. The bias is
    /// drawn from U(+-1/sqrt(fanIn)) for <see cref="Init.TorchDefault"/> and zero for every other initialiser.
    /// </summary>
    /// <param name="weight">Weights, (fanOut, fanIn); overwritten.</param>
    /// <param name="bias">Bias, (fanOut), or empty for a layer without bias; overwritten.</param>
    /// <param name="init">The distribution.</param>
    /// <param name="fan">Which fan <see cref="Init.He"/> and <see cref="Init.HeUniform"/> divide by.</param>
    /// <param name="std">Standard deviation for <see cref="Init.Normal"/>; ignored by the others.</param>
    /// <param name="fanIn">Inputs of the layer; positive.</param>
    /// <param name="fanOut">Outputs (units) of the layer; positive.</param>
    /// <param name="seed">The network's seed.</param>
    /// <param name="path">The layer's path in its network; not empty. The stream's key is <see cref="PathKey"/> of it.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the fans, or the path is empty.</exception>
    public static void Fill(Span<float> weight, Span<float> bias, Init init, Fan fan, double std, int fanIn, int fanOut, ulong seed, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Fill(weight, bias, init, fan, std, fanIn, fanOut, seed, PathKey(path));
    }

    /// <summary>
    /// Fills a convolution's weight (outChannels, groupInChannels, kernel) and, when given, its bias (outChannels), as
    /// <see cref="Fill(Span{float}, Span{float}, Init, Fan, double, int, int, ulong, string)"/> does, with PyTorch's fans
    /// for a convolution: fanIn = groupInChannels * kernel and fanOut = outChannels * kernel.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    /// <exception cref="ArgumentException">A buffer's length does not match the shape, or the path is empty.</exception>
    public static void FillConvolution(Span<float> weight, Span<float> bias, Init init, Fan fan, double std, int outChannels, int groupInChannels, int kernel, ulong seed, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupInChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        if (weight.Length != (long)outChannels * groupInChannels * kernel || (bias.Length != 0 && bias.Length != outChannels))
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected weight ({outChannels}, {groupInChannels}, {kernel}) and bias ({outChannels}) or none; got {weight.Length} and {bias.Length} floats."));
        }

        int fanIn = checked(groupInChannels * kernel);
        Draw(weight, bias, init, Variance(init, fan, std, fanIn, checked(outChannels * kernel)), fanIn, seed, PathKey(path));
    }

    /// <summary>The 64-bit FNV-1a hash of the UTF-8 bytes of <paramref name="path"/>.</summary>
    public static ulong PathKey(string path)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(path))
        {
            hash = unchecked((hash ^ b) * 0x100000001B3UL);
        }

        return hash;
    }

    private static void Fill(Span<float> weight, Span<float> bias, Init init, Fan fan, double std, int fanIn, int fanOut, ulong seed, ulong streamKey)
    {
        double variance = Variance(init, fan, std, fanIn, fanOut);
        if (weight.Length != (long)fanIn * fanOut || (bias.Length != 0 && bias.Length != fanOut))
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Expected weight ({fanOut}, {fanIn}) and bias ({fanOut}) or none; got {weight.Length} and {bias.Length} floats."));
        }

        Draw(weight, bias, init, variance, fanIn, seed, streamKey);
    }

    /// <summary>Weights of variance <paramref name="variance"/> first, then the bias (U(+-1/sqrt(fanIn)) for TorchDefault, else zero), from the stream of (seed, key).</summary>
    private static void Draw(Span<float> weight, Span<float> bias, Init init, double variance, int fanIn, ulong seed, ulong streamKey)
    {
        var random = new Xoshiro256StarStar(seed, streamKey);
        switch (init)
        {
            case Init.Zero:
                weight.Clear();
                break;
            case Init.TorchDefault:
            case Init.HeUniform:
            case Init.XavierUniform:
                // U(-b, b) has variance b^2 / 3.
                FillUniform(weight, Math.Sqrt(3.0 * variance), ref random);
                break;
            default:
                FillNormal(weight, Math.Sqrt(variance), ref random);
                break;
        }

        if (init == Init.TorchDefault)
        {
            FillUniform(bias, 1.0 / Math.Sqrt(fanIn), ref random);
        }
        else
        {
            bias.Clear();
        }
    }

    /// <summary>
    /// The variance s2 of the weights <paramref name="init"/> draws (all are zero-mean): TorchDefault 1/(3 fanIn);
    /// He and HeUniform 2/fan; Xavier and XavierUniform 2/(fanIn + fanOut); LeCun 1/fanIn; Zero 0; Normal std^2.
    /// </summary>
    /// <param name="init">The distribution.</param>
    /// <param name="fan">Which fan <see cref="Init.He"/> and <see cref="Init.HeUniform"/> divide by.</param>
    /// <param name="std">Standard deviation for <see cref="Init.Normal"/>; finite and non-negative; ignored by the others.</param>
    /// <param name="fanIn">Inputs of the layer; positive.</param>
    /// <param name="fanOut">Outputs of the layer; positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public static double Variance(Init init, Fan fan, double std, int fanIn, int fanOut)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanOut);
        if (fan is not (Fan.In or Fan.Out))
        {
            throw new ArgumentOutOfRangeException(nameof(fan), fan, "Unknown fan.");
        }

        int heFan = fan == Fan.In ? fanIn : fanOut;
        return init switch
        {
            Init.TorchDefault => 1.0 / (3.0 * fanIn),
            Init.He or Init.HeUniform => 2.0 / heFan,
            Init.Xavier or Init.XavierUniform => 2.0 / ((double)fanIn + fanOut),
            Init.LeCun => 1.0 / fanIn,
            Init.Zero => 0.0,
            Init.Normal when double.IsFinite(std) && std >= 0.0 => std * std,
            Init.Normal => throw new ArgumentOutOfRangeException(nameof(std), std, "The standard deviation must be finite and non-negative."),
            _ => throw new ArgumentOutOfRangeException(nameof(init), init, "Unknown initialiser."),
        };
    }

    /// <summary>values[i] = (2u - 1) bound, u uniform in [0, 1).</summary>
    private static void FillUniform(Span<float> values, double bound, ref Xoshiro256StarStar random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((2.0 * random.NextDouble() - 1.0) * bound);
        }
    }

    /// <summary>values[i] ~ N(0, std^2), two per accepted polar pair (the second is dropped for an odd count).</summary>
    private static void FillNormal(Span<float> values, double std, ref Xoshiro256StarStar random)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            double v1, v2, s;
            do
            {
                v1 = 2.0 * random.NextDouble() - 1.0;
                v2 = 2.0 * random.NextDouble() - 1.0;
                s = v1 * v1 + v2 * v2;
            }
            while (s >= 1.0 || s == 0.0);

            double factor = std * Math.Sqrt(-2.0 * NaturalLog(s) / s);
            values[i] = (float)(v1 * factor);
            if (i + 1 < values.Length)
            {
                values[i + 1] = (float)(v2 * factor);
            }
        }
    }

    /// <summary>
    /// ln x for a positive normal x from IEEE arithmetic only, so it gives the same bits everywhere
    /// (relative error about 1e-16): x = m 2^e with m in [sqrt(1/2), sqrt 2), ln m = 2 atanh(s),
    /// s = (m - 1)/(m + 1), |s| &lt;= 0.172, by its series to s^25.
    /// </summary>
    private static double NaturalLog(double x)
    {
        const double Ln2 = 0.693147180559945309417;
        const double Sqrt2 = 1.41421356237309504880;
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7FF) - 1023;
        double mantissa = BitConverter.Int64BitsToDouble((bits & 0x000F_FFFF_FFFF_FFFFL) | 0x3FF0_0000_0000_0000L);
        if (mantissa > Sqrt2)
        {
            mantissa *= 0.5;
            exponent++;
        }

        double s = (mantissa - 1.0) / (mantissa + 1.0);
        double s2 = s * s;
        double series = 1.0 / 25.0;
        for (int k = 11; k >= 0; k--)
        {
            series = series * s2 + 1.0 / (2 * k + 1);
        }

        return exponent * Ln2 + 2.0 * s * series;
    }

    /// <summary>
    /// xoshiro256** (Blackman and Vigna 2018), its state filled by SplitMix64 from the seed mixed with
    /// the stream key (the hash of the layer's path), so each (seed, layer) pair has its own stream.
    /// </summary>
    private struct Xoshiro256StarStar
    {
        private ulong _s0, _s1, _s2, _s3;

        public Xoshiro256StarStar(ulong seed, ulong streamKey)
        {
            ulong state = seed ^ SplitMix64.Mix(streamKey);
            _s0 = SplitMix64.Mix(state += SplitMix64.GoldenGamma);
            _s1 = SplitMix64.Mix(state += SplitMix64.GoldenGamma);
            _s2 = SplitMix64.Mix(state += SplitMix64.GoldenGamma);
            _s3 = SplitMix64.Mix(state + SplitMix64.GoldenGamma);
        }

        /// <summary>A double uniform in [0, 1): the top 53 bits over 2^53.</summary>
        public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

        public ulong NextUInt64()
        {
            ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            ulong t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }
    }
}
