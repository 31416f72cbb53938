namespace Dsl.Ops;

/// <summary>
/// Average pooling on the CPU, forward and backward side by side, as PyTorch's <c>nn.AvgPool1d</c> and
/// <c>nn.AvgPool2d</c> compute it with their defaults (ceil_mode false, count_include_pad true): x (batch, Channels,
/// InHeight, InWidth) to y (batch, Channels, OutHeight, OutWidth), each row-major, every output the sum of its window's
/// taps inside the input divided by KernelHeight * KernelWidth, padding counted as zeros. The geometry has dilation 1.
/// </summary>
public static unsafe class AvgPool
{
    /// <summary>y[n, c, oh, ow] = (the sum of x over the window of (oh, ow)) / (KernelHeight * KernelWidth).</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> input, int batch, in PoolGeometry g)
    {
        g.Validate(nameof(g), average: true);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        PoolGeometry.CheckLength(output.Length, (long)batch * g.OutputSize, nameof(output), "floats");
        PoolGeometry.CheckLength(input.Length, (long)batch * g.InputSize, nameof(input), "floats");
        int planes = batch * g.Channels, inPositions = g.InPositions, outPositions = g.OutPositions;
        int outHeight = g.OutHeight, outWidth = g.OutWidth, inHeight = g.InHeight, inWidth = g.InWidth;
        int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth;
        float divisor = (float)kernelHeight * kernelWidth;
        fixed (float* x = input, y = output)
        {
            for (int p = 0; p < planes; p++)
            {
                float* plane = x + ((long)p * inPositions);
                float* target = y + ((long)p * outPositions);
                for (int oh = 0; oh < outHeight; oh++)
                {
                    int top = (oh * g.StrideHeight) - g.PaddingHeight;
                    PoolGeometry.Taps(top, kernelHeight, 1, inHeight, out int khFirst, out int khEnd);
                    for (int ow = 0; ow < outWidth; ow++, target++)
                    {
                        int left = (ow * g.StrideWidth) - g.PaddingWidth;
                        PoolGeometry.Taps(left, kernelWidth, 1, inWidth, out int kwFirst, out int kwEnd);
                        float sum = 0f;
                        float* line = plane + ((top + khFirst) * inWidth) + left;
                        for (int kh = khFirst; kh < khEnd; kh++, line += inWidth)
                        {
                            for (int kw = kwFirst; kw < kwEnd; kw++)
                            {
                                sum += line[kw];
                            }
                        }

                        *target = sum / divisor;
                    }
                }
            }
        }
    }

    /// <summary>
    /// dx[n, c, h, w] (+)= the sum, over the windows holding (h, w), of dy / (KernelHeight * KernelWidth); dx is cleared
    /// first unless <paramref name="accumulate"/>.
    /// </summary>
    public static void Backward(Span<float> dInput, ReadOnlySpan<float> dOutput, int batch, in PoolGeometry g, bool accumulate)
    {
        g.Validate(nameof(g), average: true);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        PoolGeometry.CheckLength(dInput.Length, (long)batch * g.InputSize, nameof(dInput), "floats");
        PoolGeometry.CheckLength(dOutput.Length, (long)batch * g.OutputSize, nameof(dOutput), "floats");
        if (!accumulate)
        {
            dInput[..(batch * g.InputSize)].Clear();
        }

        int planes = batch * g.Channels, inPositions = g.InPositions, outPositions = g.OutPositions;
        int outHeight = g.OutHeight, outWidth = g.OutWidth, inHeight = g.InHeight, inWidth = g.InWidth;
        int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth;
        float divisor = (float)kernelHeight * kernelWidth;
        fixed (float* dx = dInput, dy = dOutput)
        {
            for (int p = 0; p < planes; p++)
            {
                float* plane = dx + ((long)p * inPositions);
                float* source = dy + ((long)p * outPositions);
                for (int oh = 0; oh < outHeight; oh++)
                {
                    int top = (oh * g.StrideHeight) - g.PaddingHeight;
                    PoolGeometry.Taps(top, kernelHeight, 1, inHeight, out int khFirst, out int khEnd);
                    for (int ow = 0; ow < outWidth; ow++, source++)
                    {
                        int left = (ow * g.StrideWidth) - g.PaddingWidth;
                        PoolGeometry.Taps(left, kernelWidth, 1, inWidth, out int kwFirst, out int kwEnd);
                        float share = *source / divisor;
                        float* line = plane + ((top + khFirst) * inWidth) + left;
                        for (int kh = khFirst; kh < khEnd; kh++, line += inWidth)
                        {
                            for (int kw = kwFirst; kw < kwEnd; kw++)
                            {
                                line[kw] += share;
                            }
                        }
                    }
                }
            }
        }
    }
}
