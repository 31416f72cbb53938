using System.Globalization;
using Dsl.Cpu;

namespace Dsl.Ops;

/// <summary>
/// The geometry of a two-dimensional convolution, as PyTorch's <c>nn.Conv2d</c> defines it: per sample an input
/// (InChannels, InHeight, InWidth), a weight (OutChannels, InChannels / Groups, KernelHeight, KernelWidth) and an output
/// (OutChannels, OutHeight, OutWidth), each axis sized as <see cref="Conv1dGeometry.OutputLength"/> sizes a length:
/// OutHeight = floor((InHeight + 2 PaddingHeight - DilationHeight (KernelHeight - 1) - 1) / StrideHeight) + 1, and
/// likewise OutWidth.
/// </summary>
public readonly record struct Conv2dGeometry(
    int InChannels, int InHeight, int InWidth, int OutChannels, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int PaddingHeight, int PaddingWidth, int DilationHeight, int DilationWidth, int Groups)
{
    /// <summary>Output rows per channel; 0 or less when the padded input is shorter than the dilated kernel.</summary>
    public int OutHeight => Conv1dGeometry.OutputLength(InHeight, KernelHeight, StrideHeight, PaddingHeight, DilationHeight);

    /// <summary>Output columns per channel; 0 or less when the padded input is narrower than the dilated kernel.</summary>
    public int OutWidth => Conv1dGeometry.OutputLength(InWidth, KernelWidth, StrideWidth, PaddingWidth, DilationWidth);

    /// <summary>Output positions per channel: OutHeight * OutWidth, row-major (oh, ow).</summary>
    public int OutPositions => OutHeight * OutWidth;

    /// <summary>Input channels each output channel reads: InChannels / Groups.</summary>
    public int GroupInChannels => InChannels / Groups;

    /// <summary>Output channels of each group: OutChannels / Groups.</summary>
    public int GroupOutChannels => OutChannels / Groups;

    /// <summary>
    /// One group's share of a column row, which is also one weight row (one output channel):
    /// (InChannels / Groups) * KernelHeight * KernelWidth floats in (c, kh, kw) order.
    /// </summary>
    public int GroupColumnWidth => GroupInChannels * KernelHeight * KernelWidth;

    /// <summary>Floats in the weight (OutChannels, InChannels / Groups, KernelHeight, KernelWidth): OutChannels * GroupColumnWidth.</summary>
    public int WeightLength => OutChannels * GroupColumnWidth;

    /// <summary>One column row (one output position): InChannels * KernelHeight * KernelWidth floats in (c, kh, kw) order, group by group.</summary>
    public int ColumnWidth => InChannels * KernelHeight * KernelWidth;

    /// <summary>Floats per sample of the input: InChannels * InHeight * InWidth.</summary>
    public int InputSize => InChannels * InHeight * InWidth;

    /// <summary>Floats per sample of the output: OutChannels * OutHeight * OutWidth.</summary>
    public int OutputSize => OutChannels * OutPositions;

    /// <summary>Throws unless every size is in range and the output has at least one position.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive (padding: negative), the channels do not divide into the groups, no output position fits, or a per-sample buffer exceeds 2^31 floats.</exception>
    public void Validate(string what)
    {
        string? problem = InChannels <= 0 || InHeight <= 0 || InWidth <= 0 ? $"its input ({InChannels}, {InHeight}, {InWidth}) has no elements"
            : OutChannels <= 0 ? $"it has {OutChannels} output channels"
            : KernelHeight <= 0 || KernelWidth <= 0 ? $"its kernel is ({KernelHeight}, {KernelWidth})"
            : StrideHeight <= 0 || StrideWidth <= 0 ? $"its stride is ({StrideHeight}, {StrideWidth})"
            : PaddingHeight < 0 || PaddingWidth < 0 ? $"its padding is ({PaddingHeight}, {PaddingWidth})"
            : DilationHeight <= 0 || DilationWidth <= 0 ? $"its dilation is ({DilationHeight}, {DilationWidth})"
            : Groups <= 0 ? $"it has {Groups} groups"
            : InChannels % Groups != 0 || OutChannels % Groups != 0 ? $"its {InChannels} input and {OutChannels} output channels do not both divide into {Groups} groups"
            : OutHeight <= 0 ? $"its input height {InHeight} with padding {PaddingHeight} is shorter than its kernel height {KernelHeight} at dilation {DilationHeight}"
            : OutWidth <= 0 ? $"its input width {InWidth} with padding {PaddingWidth} is narrower than its kernel width {KernelWidth} at dilation {DilationWidth}"
            : Exceeds(InChannels, InHeight, InWidth) || Exceeds(OutChannels, OutHeight, OutWidth)
                || Exceeds(InChannels, KernelHeight, KernelWidth, OutHeight, OutWidth) || Exceeds(OutChannels, GroupInChannels, KernelHeight, KernelWidth)
                ? "its input, output, weight or columns exceed 2^31 floats per sample"
            : null;
        if (problem is not null)
        {
            throw new ArgumentOutOfRangeException(what, string.Create(CultureInfo.InvariantCulture, $"{what}: {problem}."));
        }
    }

    /// <summary>Whether the product of the positive <paramref name="sizes"/> exceeds 2^31 - 1.</summary>
    private static bool Exceeds(params ReadOnlySpan<int> sizes)
    {
        long product = 1;
        foreach (int size in sizes)
        {
            product *= size;
            if (product > int.MaxValue)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// A two-dimensional convolution on the CPU, forward and backward side by side, in PyTorch's layout: x (batch,
/// InChannels, InHeight, InWidth), W (OutChannels, InChannels / Groups, KernelHeight, KernelWidth), b (OutChannels),
/// y (batch, OutChannels, OutHeight, OutWidth), each row-major. Lowered to the packed GEMM: the columns
/// X (batch * OutPositions, ColumnWidth) hold, at row (n, oh, ow) and column (c, kh, kw),
/// x[n, c, oh StrideHeight + kh DilationHeight - PaddingHeight, ow StrideWidth + kw DilationWidth - PaddingWidth]
/// (0 in the padding); then per group g the product Z_g = X_g W_g^T lands in a position-major buffer
/// (batch * OutPositions, OutChannels), and y is its transpose plus the bias.
/// </summary>
public static unsafe class Conv2d
{
    /// <summary>Fills the columns X (batch * OutPositions, ColumnWidth) from x (batch, InputSize).</summary>
    public static void Columns(Span<float> columns, ReadOnlySpan<float> input, int batch, in Conv2dGeometry g)
    {
        g.Validate(nameof(g));
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        CheckLength(columns, (long)batch * g.OutPositions * g.ColumnWidth, nameof(columns));
        CheckLength(input, (long)batch * g.InputSize, nameof(input));
        int outHeight = g.OutHeight, outWidth = g.OutWidth, inHeight = g.InHeight, inWidth = g.InWidth, plane = inHeight * inWidth;
        int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth, taps = kernelHeight * kernelWidth, channels = g.InChannels, width = g.ColumnWidth;
        int dilationHeight = g.DilationHeight, dilationWidth = g.DilationWidth;
        int spanHeight = (kernelHeight - 1) * dilationHeight, spanWidth = (kernelWidth - 1) * dilationWidth;
        fixed (float* x = input, columnsStart = columns)
        {
            float* row = columnsStart;
            for (int n = 0; n < batch; n++)
            {
                float* sample = x + ((long)n * g.InputSize);
                for (int oh = 0; oh < outHeight; oh++)
                {
                    int top = (oh * g.StrideHeight) - g.PaddingHeight;
                    bool rowsInside = top >= 0 && top + spanHeight < inHeight;
                    for (int ow = 0; ow < outWidth; ow++, row += width)
                    {
                        int left = (ow * g.StrideWidth) - g.PaddingWidth;
                        if (rowsInside && left >= 0 && left + spanWidth < inWidth)
                        {
                            // Every tap inside the input: no padding checks.
                            for (int c = 0; c < channels; c++)
                            {
                                float* source = sample + (c * plane) + (top * inWidth) + left;
                                float* target = row + (c * taps);
                                for (int kh = 0; kh < kernelHeight; kh++, source += dilationHeight * inWidth, target += kernelWidth)
                                {
                                    for (int kw = 0; kw < kernelWidth; kw++)
                                    {
                                        target[kw] = source[kw * dilationWidth];
                                    }
                                }
                            }

                            continue;
                        }

                        for (int c = 0; c < channels; c++)
                        {
                            float* channel = sample + (c * plane);
                            float* target = row + (c * taps);
                            for (int kh = 0; kh < kernelHeight; kh++, target += kernelWidth)
                            {
                                int h = top + (kh * dilationHeight);
                                if ((uint)h >= (uint)inHeight)
                                {
                                    new Span<float>(target, kernelWidth).Clear();
                                    continue;
                                }

                                float* line = channel + (h * inWidth);
                                for (int kw = 0; kw < kernelWidth; kw++)
                                {
                                    int w = left + (kw * dilationWidth);
                                    target[kw] = (uint)w < (uint)inWidth ? line[w] : 0f;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// z = conv(x, W) + b: fills <paramref name="columns"/> (kept for the weight gradient), multiplies each group into
    /// <paramref name="positionMajor"/> (batch * OutPositions, OutChannels) and writes z to <paramref name="output"/>
    /// (batch, OutChannels, OutHeight, OutWidth). <paramref name="bias"/> is (OutChannels) or empty for none. The caller
    /// applies the activation to z in place.
    /// </summary>
    public static void Forward(
        Span<float> output, Span<float> columns, Span<float> positionMajor, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int batch, in Conv2dGeometry g, CpuWorkers? workers)
    {
        Columns(columns, input, batch, g);
        CheckLength(weight, g.WeightLength, nameof(weight));
        CheckBias(bias, g.OutChannels, nameof(bias));
        CheckLength(positionMajor, (long)batch * g.OutputSize, nameof(positionMajor));
        CheckLength(output, (long)batch * g.OutputSize, nameof(output));
        int rows = batch * g.OutPositions;
        int groupIn = g.GroupColumnWidth, groupOut = g.GroupOutChannels;
        for (int group = 0; group < g.Groups; group++)
        {
            Gemm.Multiply(
                Transpose.No, Transpose.Yes, rows, groupOut, groupIn,
                columns[(group * groupIn)..], g.ColumnWidth, weight.Slice(group * groupOut * groupIn, groupOut * groupIn), groupIn,
                positionMajor[(group * groupOut)..], g.OutChannels, accumulate: false, default(NoEpilogue), workers);
        }

        ToChannelMajor(output, positionMajor, bias, batch, g);
    }

    /// <summary>
    /// From dz (batch, OutChannels, OutHeight, OutWidth): dW = dZ_g^T X_g per group (overwritten), db = sums of dz over
    /// batch and positions (overwritten; empty without bias), and, when <paramref name="dInput"/> is not empty,
    /// dx (+)= col2im(dZ_g W_g), added to dx when <paramref name="accumulate"/>, else overwriting it.
    /// <paramref name="columns"/> holds X from the forward on entry and is overwritten (it takes dX);
    /// <paramref name="positionMajor"/> is scratch (batch * OutPositions, OutChannels).
    /// </summary>
    public static void Backward(
        Span<float> dInput, Span<float> dWeight, Span<float> dBias, ReadOnlySpan<float> dOutput, Span<float> columns, Span<float> positionMajor,
        ReadOnlySpan<float> weight, int batch, in Conv2dGeometry g, bool accumulate, CpuWorkers? workers)
    {
        g.Validate(nameof(g));
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        CheckLength(columns, (long)batch * g.OutPositions * g.ColumnWidth, nameof(columns));
        CheckLength(dWeight, g.WeightLength, nameof(dWeight));
        CheckBias(dBias, g.OutChannels, nameof(dBias));
        if (!dInput.IsEmpty)
        {
            CheckLength(weight, g.WeightLength, nameof(weight));
            CheckLength(dInput, (long)batch * g.InputSize, nameof(dInput));
        }

        int rows = batch * g.OutPositions;
        int groupIn = g.GroupColumnWidth, groupOut = g.GroupOutChannels;
        ToPositionMajor(positionMajor, dBias, dOutput, batch, g);
        for (int group = 0; group < g.Groups; group++)
        {
            Gemm.Multiply(
                Transpose.Yes, Transpose.No, groupOut, groupIn, rows,
                positionMajor[(group * groupOut)..], g.OutChannels, columns[(group * groupIn)..], g.ColumnWidth,
                dWeight.Slice(group * groupOut * groupIn, groupOut * groupIn), groupIn, accumulate: false, default(NoEpilogue), workers);
        }

        if (dInput.IsEmpty)
        {
            return;
        }

        for (int group = 0; group < g.Groups; group++)
        {
            Gemm.Multiply(
                Transpose.No, Transpose.No, rows, groupIn, groupOut,
                positionMajor[(group * groupOut)..], g.OutChannels, weight.Slice(group * groupOut * groupIn, groupOut * groupIn), groupIn,
                columns[(group * groupIn)..], g.ColumnWidth, accumulate: false, default(NoEpilogue), workers);
        }

        AddColumns(dInput, columns, batch, g, accumulate);
    }

    /// <summary>
    /// col2im: dx[n, c, oh StrideHeight + kh DilationHeight - PaddingHeight, ow StrideWidth + kw DilationWidth - PaddingWidth]
    /// (+)= dX[(n, oh, ow), (c, kh, kw)], skipping the padding; dx is cleared first unless <paramref name="accumulate"/>.
    /// </summary>
    public static void AddColumns(Span<float> dInput, ReadOnlySpan<float> dColumns, int batch, in Conv2dGeometry g, bool accumulate)
    {
        g.Validate(nameof(g));
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        CheckLength(dInput, (long)batch * g.InputSize, nameof(dInput));
        CheckLength(dColumns, (long)batch * g.OutPositions * g.ColumnWidth, nameof(dColumns));
        if (!accumulate)
        {
            dInput[..(batch * g.InputSize)].Clear();
        }

        int outHeight = g.OutHeight, outWidth = g.OutWidth, inHeight = g.InHeight, inWidth = g.InWidth, plane = inHeight * inWidth;
        int kernelHeight = g.KernelHeight, kernelWidth = g.KernelWidth, taps = kernelHeight * kernelWidth, channels = g.InChannels, width = g.ColumnWidth;
        int dilationHeight = g.DilationHeight, dilationWidth = g.DilationWidth;
        int spanHeight = (kernelHeight - 1) * dilationHeight, spanWidth = (kernelWidth - 1) * dilationWidth;
        fixed (float* dx = dInput, columnsStart = dColumns)
        {
            float* row = columnsStart;
            for (int n = 0; n < batch; n++)
            {
                float* sample = dx + ((long)n * g.InputSize);
                for (int oh = 0; oh < outHeight; oh++)
                {
                    int top = (oh * g.StrideHeight) - g.PaddingHeight;
                    bool rowsInside = top >= 0 && top + spanHeight < inHeight;
                    for (int ow = 0; ow < outWidth; ow++, row += width)
                    {
                        int left = (ow * g.StrideWidth) - g.PaddingWidth;
                        if (rowsInside && left >= 0 && left + spanWidth < inWidth)
                        {
                            for (int c = 0; c < channels; c++)
                            {
                                float* target = sample + (c * plane) + (top * inWidth) + left;
                                float* source = row + (c * taps);
                                for (int kh = 0; kh < kernelHeight; kh++, target += dilationHeight * inWidth, source += kernelWidth)
                                {
                                    for (int kw = 0; kw < kernelWidth; kw++)
                                    {
                                        target[kw * dilationWidth] += source[kw];
                                    }
                                }
                            }

                            continue;
                        }

                        for (int c = 0; c < channels; c++)
                        {
                            float* channel = sample + (c * plane);
                            float* source = row + (c * taps);
                            for (int kh = 0; kh < kernelHeight; kh++, source += kernelWidth)
                            {
                                int h = top + (kh * dilationHeight);
                                if ((uint)h >= (uint)inHeight)
                                {
                                    continue;
                                }

                                float* line = channel + (h * inWidth);
                                for (int kw = 0; kw < kernelWidth; kw++)
                                {
                                    int w = left + (kw * dilationWidth);
                                    if ((uint)w < (uint)inWidth)
                                    {
                                        line[w] += source[kw];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>z[n, o, p] = Z[(n, p), o] + b[o] for positions p = (oh, ow): the GEMM's position-major product to PyTorch's layout, with the bias.</summary>
    private static void ToChannelMajor(Span<float> output, ReadOnlySpan<float> positionMajor, ReadOnlySpan<float> bias, int batch, in Conv2dGeometry g)
    {
        int positions = g.OutPositions, channels = g.OutChannels;
        CheckLength(output, (long)batch * g.OutputSize, nameof(output));
        CheckLength(positionMajor, (long)batch * g.OutputSize, nameof(positionMajor));
        fixed (float* z = output, product = positionMajor, b = bias)
        {
            for (int n = 0; n < batch; n++)
            {
                float* source = product + ((long)n * g.OutputSize);
                float* target = z + ((long)n * g.OutputSize);
                for (int o = 0; o < channels; o++, target += positions)
                {
                    float offset = b is null ? 0f : b[o];
                    float* column = source + o;
                    for (int p = 0; p < positions; p++, column += channels)
                    {
                        target[p] = *column + offset;
                    }
                }
            }
        }
    }

    /// <summary>dZ[(n, p), o] = dz[n, o, p], and db[o] = the sum of dz[., o, .] when <paramref name="dBias"/> is not empty.</summary>
    private static void ToPositionMajor(Span<float> positionMajor, Span<float> dBias, ReadOnlySpan<float> dOutput, int batch, in Conv2dGeometry g)
    {
        int positions = g.OutPositions, channels = g.OutChannels;
        CheckLength(positionMajor, (long)batch * g.OutputSize, nameof(positionMajor));
        CheckLength(dOutput, (long)batch * g.OutputSize, nameof(dOutput));
        dBias.Clear();
        fixed (float* product = positionMajor, dz = dOutput, db = dBias)
        {
            for (int n = 0; n < batch; n++)
            {
                float* source = dz + ((long)n * g.OutputSize);
                float* target = product + ((long)n * g.OutputSize);
                for (int o = 0; o < channels; o++, source += positions)
                {
                    float sum = 0f;
                    float* column = target + o;
                    for (int p = 0; p < positions; p++, column += channels)
                    {
                        float value = source[p];
                        *column = value;
                        sum += value;
                    }

                    if (db is not null)
                    {
                        db[o] += sum;
                    }
                }
            }
        }
    }

    private static void CheckBias(ReadOnlySpan<float> bias, int channels, string name)
    {
        if (!bias.IsEmpty)
        {
            CheckLength(bias, channels, name);
        }
    }

    private static void CheckLength(ReadOnlySpan<float> buffer, long needed, string name)
    {
        if (buffer.Length < needed)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} holds {buffer.Length} floats; the convolution needs {needed}."), name);
        }
    }
}
