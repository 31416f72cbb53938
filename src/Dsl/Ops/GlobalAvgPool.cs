using System.Globalization;
using System.Numerics.Tensors;

namespace Dsl.Ops;

/// <summary>
/// Global average pooling on the CPU, forward and backward side by side, as PyTorch's <c>x.mean(spatial dims)</c>
/// (or <c>nn.AdaptiveAvgPool2d(1)</c> flattened) computes it: x (batch, channels, positions), row-major, with the
/// positions of a channel contiguous (a (height, width) plane or a length), to y (batch, channels), the mean over
/// positions.
/// </summary>
public static class GlobalAvgPool
{
    /// <summary>y[n, c] = (the sum of x[n, c, .]) / positions.</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> input, int batch, int channels, int positions)
    {
        long planes = CheckSizes(batch, channels, positions);
        PoolGeometry.CheckLength(output.Length, planes, nameof(output), "floats");
        PoolGeometry.CheckLength(input.Length, planes * positions, nameof(input), "floats");
        float count = positions;
        for (int p = 0; p < (int)planes; p++)
        {
            output[p] = TensorPrimitives.Sum(input.Slice(p * positions, positions)) / count;
        }
    }

    /// <summary>dx[n, c, .] (+)= dy[n, c] / positions; dx is overwritten unless <paramref name="accumulate"/>.</summary>
    public static void Backward(Span<float> dInput, ReadOnlySpan<float> dOutput, int batch, int channels, int positions, bool accumulate)
    {
        long planes = CheckSizes(batch, channels, positions);
        PoolGeometry.CheckLength(dInput.Length, planes * positions, nameof(dInput), "floats");
        PoolGeometry.CheckLength(dOutput.Length, planes, nameof(dOutput), "floats");
        float count = positions;
        for (int p = 0; p < (int)planes; p++)
        {
            Span<float> plane = dInput.Slice(p * positions, positions);
            float share = dOutput[p] / count;
            if (accumulate)
            {
                TensorPrimitives.Add(plane, share, plane);
            }
            else
            {
                plane.Fill(share);
            }
        }
    }

    /// <summary>batch * channels, after checking that batch and channels are non-negative and positions positive.</summary>
    private static long CheckSizes(int batch, int channels, int positions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        if (positions <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(positions), string.Create(CultureInfo.InvariantCulture, $"Global average pooling over {positions} positions: a channel needs at least one."));
        }

        return (long)batch * channels;
    }
}
