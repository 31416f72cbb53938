using System.Globalization;

namespace Dsl.Ops;

/// <summary>
/// Max pooling on the CPU, forward and backward side by side, as PyTorch's <c>nn.MaxPool1d</c> and <c>nn.MaxPool2d</c>
/// (ceil_mode false) compute it: x (batch, Channels, InHeight, InWidth) to y (batch, Channels, OutHeight, OutWidth),
/// each row-major, and argmax of y's shape holding, for each output, the index h InWidth + w within its channel's
/// input plane of the element it took. Padding is -infinity and never taken. Within a window the taps are visited in
/// row-major (kh, kw) order and a tap is taken when it is greater than the maximum so far or NaN, as PyTorch's CPU
/// kernel does: ties keep the first, and a NaN propagates (the last NaN of the window is taken). A window whose taps
/// all fall in the padding (possible only with dilation) yields -infinity and argmax -1, which the backward skips.
/// </summary>
public static unsafe class MaxPool
{
    /// <summary>y = maxpool(x) and the argmax of each output, both (batch, Channels, OutHeight, OutWidth).</summary>
    public static void Forward(Span<float> output, Span<int> argmax, ReadOnlySpan<float> input, int batch, in PoolGeometry g)
    {
        g.Validate(nameof(g), average: false);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        PoolGeometry.CheckLength(output.Length, (long)batch * g.OutputSize, nameof(output), "floats");
        PoolGeometry.CheckLength(argmax.Length, (long)batch * g.OutputSize, nameof(argmax), "indices");
        PoolGeometry.CheckLength(input.Length, (long)batch * g.InputSize, nameof(input), "floats");
        int planes = batch * g.Channels, inPositions = g.InPositions, outPositions = g.OutPositions;
        int outHeight = g.OutHeight, outWidth = g.OutWidth, inHeight = g.InHeight, inWidth = g.InWidth;
        int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth, dilationHeight = g.DilationHeight, dilationWidth = g.DilationWidth;
        fixed (float* x = input, y = output)
        fixed (int* indices = argmax)
        {
            for (int p = 0; p < planes; p++)
            {
                float* plane = x + ((long)p * inPositions);
                float* target = y + ((long)p * outPositions);
                int* chosen = indices + ((long)p * outPositions);
                for (int oh = 0; oh < outHeight; oh++)
                {
                    int top = (oh * g.StrideHeight) - g.PaddingHeight;
                    PoolGeometry.Taps(top, kernelHeight, dilationHeight, inHeight, out int khFirst, out int khEnd);
                    for (int ow = 0; ow < outWidth; ow++, target++, chosen++)
                    {
                        int left = (ow * g.StrideWidth) - g.PaddingWidth;
                        PoolGeometry.Taps(left, kernelWidth, dilationWidth, inWidth, out int kwFirst, out int kwEnd);
                        float max = float.NegativeInfinity;
                        int index = -1;
                        if (khFirst < khEnd && kwFirst < kwEnd)
                        {
                            int h0 = top + (khFirst * dilationHeight), w0 = left + (kwFirst * dilationWidth);
                            index = (h0 * inWidth) + w0; // taken when every tap is -infinity
                            int row = index;
                            for (int kh = khFirst; kh < khEnd; kh++, row += dilationHeight * inWidth)
                            {
                                float* line = plane + row;
                                for (int kw = kwFirst, offset = 0; kw < kwEnd; kw++, offset += dilationWidth)
                                {
                                    float value = line[offset];
                                    if (value > max || float.IsNaN(value))
                                    {
                                        max = value;
                                        index = row + offset;
                                    }
                                }
                            }
                        }

                        *target = max;
                        *chosen = index;
                    }
                }
            }
        }
    }

    /// <summary>
    /// dx[n, c, argmax[n, c, oh, ow]] (+)= dy[n, c, oh, ow] over every output (overlapping windows add); dx is cleared
    /// first unless <paramref name="accumulate"/>. Outputs with argmax -1 add nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is too short, or an argmax is neither -1 nor an index into its plane.</exception>
    public static void Backward(Span<float> dInput, ReadOnlySpan<float> dOutput, ReadOnlySpan<int> argmax, int batch, in PoolGeometry g, bool accumulate)
    {
        g.Validate(nameof(g), average: false);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        PoolGeometry.CheckLength(dInput.Length, (long)batch * g.InputSize, nameof(dInput), "floats");
        PoolGeometry.CheckLength(dOutput.Length, (long)batch * g.OutputSize, nameof(dOutput), "floats");
        PoolGeometry.CheckLength(argmax.Length, (long)batch * g.OutputSize, nameof(argmax), "indices");
        if (!accumulate)
        {
            dInput[..(batch * g.InputSize)].Clear();
        }

        int planes = batch * g.Channels, inPositions = g.InPositions, outPositions = g.OutPositions;
        fixed (float* dx = dInput, dy = dOutput)
        fixed (int* indices = argmax)
        {
            for (int p = 0; p < planes; p++)
            {
                float* plane = dx + ((long)p * inPositions);
                float* source = dy + ((long)p * outPositions);
                int* chosen = indices + ((long)p * outPositions);
                for (int o = 0; o < outPositions; o++)
                {
                    int index = chosen[o];
                    if ((uint)index < (uint)inPositions)
                    {
                        plane[index] += source[o];
                    }
                    else if (index != -1)
                    {
                        throw new ArgumentException(
                            string.Create(CultureInfo.InvariantCulture, $"{nameof(argmax)}[{((long)p * outPositions) + o}] is {index}, neither -1 nor an index into a plane of {inPositions} inputs."),
                            nameof(argmax));
                    }
                }
            }
        }
    }
}
