using System.Globalization;
using Dsl.Data;

namespace Dsl.Ops;

/// <summary>
/// Inverted dropout on the CPU: forward and backward side by side. Shapes: x, y, dy and dx (rows, features).
/// In training y = x * keep / (1 - p), where keep is 1 for an element with probability 1 - p and 0 otherwise; in
/// evaluation dropout is the identity and is not called.
/// </summary>
/// <remarks>
/// The mask is not stored: it is a function of the layer's seed, the training step and the element's index in the
/// whole batch (<see cref="Keeps"/>), counter-based like Philox in cuRAND and JAX, so the backward recomputes it, a batch
/// split across threads or GPU tiles draws the same mask as one pass, and every device draws the same mask.
/// </remarks>
public static class Dropout
{
    /// <summary>
    /// Whether element <paramref name="index"/> (row * features + column, counting rows across the whole batch) is kept
    /// in training step <paramref name="step"/> of the dropout layer keyed by <paramref name="seed"/>:
    /// u = SplitMix64Mix(SplitMix64Mix(seed + step * Phi) + index * Phi) (Phi the golden-ratio increment, arithmetic
    /// modulo 2^64), its top 24 bits compared with p * 2^24: kept when (u &gt;&gt; 40) &gt;= <see cref="Threshold"/>(p).
    /// </summary>
    public static bool Keeps(ulong seed, long step, long index, float probability)
        => KeepsElement(StepKey(seed, step), index, Threshold(probability));

    /// <summary>The integer the top 24 bits of an element's draw must reach to keep it: round(p * 2^24).</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1).</exception>
    public static uint Threshold(float probability)
    {
        if (!(probability >= 0f && probability < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, string.Create(CultureInfo.InvariantCulture, $"A dropout probability is in [0, 1); got {probability}."));
        }

        return (uint)Math.Round(probability * (double)(1 << 24));
    }

    /// <summary>The per-step half of the draw, SplitMix64Mix(seed + step * Phi): one per step, shared by its elements.</summary>
    public static ulong StepKey(ulong seed, long step) => SplitMix64.Mix(unchecked(seed + ((ulong)step * SplitMix64.GoldenGamma)));

    /// <param name="output">y (rows, features), written (it may be the input itself).</param>
    /// <param name="input">x (rows, features).</param>
    /// <param name="firstRow">The index in the whole batch of these rows' first one.</param>
    public static void Forward(Span<float> output, ReadOnlySpan<float> input, int rows, int features, long firstRow, float probability, ulong seed, long step)
    {
        CheckShapes(output.Length, input.Length, rows, features);
        uint threshold = Threshold(probability);
        float scale = 1f / (1f - probability);
        ulong key = StepKey(seed, step);
        long first = firstRow * features;
        int count = rows * features;
        for (int i = 0; i < count; i++)
        {
            output[i] = KeepsElement(key, first + i, threshold) ? input[i] * scale : 0f;
        }
    }

    /// <summary>dx = dy * keep / (1 - p), with the forward's mask (the same seed, step and rows).</summary>
    /// <param name="dInput">dx (rows, features): added to when <paramref name="accumulate"/>, else overwritten (it may be dy itself then).</param>
    /// <param name="dOutput">dy (rows, features).</param>
    public static void Backward(Span<float> dInput, ReadOnlySpan<float> dOutput, int rows, int features, long firstRow, float probability, ulong seed, long step, bool accumulate)
    {
        CheckShapes(dInput.Length, dOutput.Length, rows, features);
        uint threshold = Threshold(probability);
        float scale = 1f / (1f - probability);
        ulong key = StepKey(seed, step);
        long first = firstRow * features;
        int count = rows * features;
        for (int i = 0; i < count; i++)
        {
            float gradient = KeepsElement(key, first + i, threshold) ? dOutput[i] * scale : 0f;
            dInput[i] = accumulate ? dInput[i] + gradient : gradient;
        }
    }

    private static bool KeepsElement(ulong stepKey, long index, uint threshold)
        => (uint)(SplitMix64.Mix(unchecked(stepKey + ((ulong)index * SplitMix64.GoldenGamma))) >> 40) >= threshold;

    private static void CheckShapes(int outputLength, int inputLength, int rows, int features)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long size = (long)rows * features;
        if (outputLength < size || inputLength < size)
        {
            throw new ArgumentException($"Both buffers must hold (rows, features) = {size} floats.");
        }
    }
}
