using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
/// y (batch, OutChannels, OutHeight, OutWidth), each row-major. Lowered to the packed GEMM over the whole batch: the
/// columns X^T (ColumnWidth, batch * OutPositions) hold, at row (c, kh, kw) and column (n, oh, ow),
/// x[n, c, oh StrideHeight + kh DilationHeight - PaddingHeight, ow StrideWidth + kw DilationWidth - PaddingWidth]
/// (0 in the padding); per group g the product Z_g^T = W_g X_g^T lands with the bias in a channel-major buffer
/// (OutChannels, batch * OutPositions), and y is that buffer with its batch and channel axes swapped, a copy of
/// whole channel planes. Every GEMM is as wide as the batch's positions, and the im2col and col2im loops run along
/// output columns.
/// </summary>
public static unsafe class Conv2d
{
    /// <summary>Fills the columns X^T (ColumnWidth, batch * OutPositions) from x (batch, InputSize).</summary>
    public static void Columns(Span<float> columns, ReadOnlySpan<float> input, int batch, in Conv2dGeometry g)
    {
        g.Validate(nameof(g));
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        CheckLength(columns, (long)batch * g.OutPositions * g.ColumnWidth, nameof(columns));
        CheckLength(input, (long)batch * g.InputSize, nameof(input));
        fixed (float* x = input, columnsStart = columns)
        {
            Walk<CopyTap>(x, columnsStart, batch, g);
        }
    }

    /// <summary>
    /// z = conv(x, W) + b: fills <paramref name="columns"/> (kept for the weight gradient), multiplies each group into
    /// <paramref name="channelMajor"/> (OutChannels, batch * OutPositions) with the bias, and writes z to
    /// <paramref name="output"/> (batch, OutChannels, OutHeight, OutWidth). <paramref name="bias"/> is (OutChannels) or
    /// empty for none. The caller applies the activation to z in place.
    /// </summary>
    public static void Forward(
        Span<float> output, Span<float> columns, Span<float> channelMajor, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int batch, in Conv2dGeometry g, CpuWorkers? workers)
    {
        Columns(columns, input, batch, g);
        CheckLength(weight, g.WeightLength, nameof(weight));
        CheckBias(bias, g.OutChannels, nameof(bias));
        CheckLength(channelMajor, (long)batch * g.OutputSize, nameof(channelMajor));
        CheckLength(output, (long)batch * g.OutputSize, nameof(output));
        int positions = batch * g.OutPositions;
        if (positions == 0)
        {
            return;
        }

        int groupIn = g.GroupColumnWidth, groupOut = g.GroupOutChannels;
        fixed (float* b = bias)
        {
            for (int group = 0; group < g.Groups; group++)
            {
                // Z_g^T (groupOut, positions) = W_g (groupOut, groupIn) X_g^T (groupIn, positions), + b per row.
                var epilogue = new RowBias(b is null ? null : b + (group * groupOut));
                Gemm.Multiply(
                    Transpose.No, Transpose.No, groupOut, positions, groupIn,
                    weight.Slice(group * groupOut * groupIn, groupOut * groupIn), groupIn, columns[(group * groupIn * positions)..], positions,
                    channelMajor[(group * groupOut * positions)..], positions, accumulate: false, epilogue, workers);
            }
        }

        SwapBatchAndChannels(output, channelMajor, g.OutChannels, batch, g.OutPositions);
    }

    /// <summary>
    /// From dz (batch, OutChannels, OutHeight, OutWidth): dW_g = dZ_g^T X_g per group (overwritten), db = sums of dz over
    /// batch and positions (overwritten; empty without bias), and, when <paramref name="dInput"/> is not empty,
    /// dx (+)= col2im(W_g^T dZ_g^T), added to dx when <paramref name="accumulate"/>, else overwriting it.
    /// <paramref name="columns"/> holds X^T from the forward on entry and is overwritten (it takes dX^T);
    /// <paramref name="channelMajor"/> is scratch (OutChannels, batch * OutPositions).
    /// </summary>
    public static void Backward(
        Span<float> dInput, Span<float> dWeight, Span<float> dBias, ReadOnlySpan<float> dOutput, Span<float> columns, Span<float> channelMajor,
        ReadOnlySpan<float> weight, int batch, in Conv2dGeometry g, bool accumulate, CpuWorkers? workers)
    {
        g.Validate(nameof(g));
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        CheckLength(columns, (long)batch * g.OutPositions * g.ColumnWidth, nameof(columns));
        CheckLength(dWeight, g.WeightLength, nameof(dWeight));
        CheckBias(dBias, g.OutChannels, nameof(dBias));
        CheckLength(channelMajor, (long)batch * g.OutputSize, nameof(channelMajor));
        CheckLength(dOutput, (long)batch * g.OutputSize, nameof(dOutput));
        if (!dInput.IsEmpty)
        {
            CheckLength(weight, g.WeightLength, nameof(weight));
            CheckLength(dInput, (long)batch * g.InputSize, nameof(dInput));
        }

        int positions = batch * g.OutPositions;
        int groupIn = g.GroupColumnWidth, groupOut = g.GroupOutChannels;
        SwapBatchAndChannels(channelMajor, dOutput, batch, g.OutChannels, g.OutPositions);
        SumRows(dBias, channelMajor, g.OutChannels, positions);
        for (int group = 0; group < g.Groups; group++)
        {
            // dW_g (groupOut, groupIn) = dZ_g^T (groupOut, positions) (X_g^T)^T.
            Gemm.Multiply(
                Transpose.No, Transpose.Yes, groupOut, groupIn, positions,
                channelMajor[(group * groupOut * positions)..], positions, columns[(group * groupIn * positions)..], positions,
                dWeight.Slice(group * groupOut * groupIn, groupOut * groupIn), groupIn, accumulate: false, default(NoEpilogue), workers);
        }

        if (dInput.IsEmpty)
        {
            return;
        }

        for (int group = 0; group < g.Groups; group++)
        {
            // dX_g^T (groupIn, positions) = W_g^T (groupIn, groupOut) dZ_g^T (groupOut, positions).
            Gemm.Multiply(
                Transpose.Yes, Transpose.No, groupIn, positions, groupOut,
                weight.Slice(group * groupOut * groupIn, groupOut * groupIn), groupIn, channelMajor[(group * groupOut * positions)..], positions,
                columns[(group * groupIn * positions)..], positions, accumulate: false, default(NoEpilogue), workers);
        }

        AddColumns(dInput, columns, batch, g, accumulate);
    }

    /// <summary>
    /// col2im: dx[n, c, oh StrideHeight + kh DilationHeight - PaddingHeight, ow StrideWidth + kw DilationWidth - PaddingWidth]
    /// (+)= dX^T[(c, kh, kw), (n, oh, ow)], skipping the padding; dx is cleared first unless <paramref name="accumulate"/>.
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

        fixed (float* dx = dInput, columnsStart = dColumns)
        {
            Walk<AddTap>(dx, columnsStart, batch, g);
        }
    }

    /// <summary>What <see cref="Walk{TTap}"/> does along one tap's output row in every sample: im2col's copy or col2im's add.</summary>
    private interface ITap
    {
        /// <summary>
        /// For each of <paramref name="samples"/> samples n: columns [start, end) of the output row at
        /// <paramref name="column"/> + n <paramref name="columnStride"/> against the input row at <paramref name="line"/>
        /// + n <paramref name="lineStride"/>, column ow facing input column ow <paramref name="stride"/> +
        /// <paramref name="offset"/>; the columns before start and from end on (<paramref name="width"/> in all) face the
        /// padding.
        /// </summary>
        static abstract void Run(float* column, long columnStride, float* line, long lineStride, int samples, int start, int end, int width, int stride, int offset);

        /// <summary>The same output row of every sample when the tap falls in the padding for every column.</summary>
        static abstract void Padding(float* column, long columnStride, int samples, int width);
    }

    private readonly struct CopyTap : ITap
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(float* column, long columnStride, float* line, long lineStride, int samples, int start, int end, int width, int stride, int offset)
        {
            for (int n = 0; n < samples; n++, column += columnStride, line += lineStride)
            {
                // The padded stretches are a few columns at most: plain loops, no calls.
                for (int ow = 0; ow < start; ow++)
                {
                    column[ow] = 0f;
                }

                float* source = line + (start * stride) + offset;
                for (int ow = start; ow < end; ow++, source += stride)
                {
                    column[ow] = *source;
                }

                for (int ow = end; ow < width; ow++)
                {
                    column[ow] = 0f;
                }
            }
        }

        public static void Padding(float* column, long columnStride, int samples, int width)
        {
            for (int n = 0; n < samples; n++, column += columnStride)
            {
                new Span<float>(column, width).Clear();
            }
        }
    }

    private readonly struct AddTap : ITap
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(float* column, long columnStride, float* line, long lineStride, int samples, int start, int end, int width, int stride, int offset)
        {
            for (int n = 0; n < samples; n++, column += columnStride, line += lineStride)
            {
                float* target = line + (start * stride) + offset;
                for (int ow = start; ow < end; ow++, target += stride)
                {
                    *target += column[ow];
                }
            }
        }

        public static void Padding(float* column, long columnStride, int samples, int width)
        {
        }
    }

    /// <summary>
    /// Visits every (tap (c, kh, kw), output row oh) of the columns X^T (ColumnWidth, batch * OutPositions) with the
    /// input row it reads in each sample, x[n, c, oh StrideHeight + kh DilationHeight - PaddingHeight, .], and the
    /// output columns whose input column lies inside it (computed once per tap along the width).
    /// </summary>
    private static void Walk<TTap>(float* x, float* columns, int batch, in Conv2dGeometry g)
        where TTap : struct, ITap
    {
        int outHeight = g.OutHeight, outWidth = g.OutWidth, inHeight = g.InHeight, inWidth = g.InWidth, plane = inHeight * inWidth;
        int positions = g.OutPositions, inputSize = g.InputSize;
        long rowLength = (long)batch * positions;
        float* row = columns;
        for (int c = 0; c < g.InChannels; c++)
        {
            for (int kh = 0; kh < g.KernelHeight; kh++)
            {
                for (int kw = 0; kw < g.KernelWidth; kw++, row += rowLength)
                {
                    // Input column ow StrideWidth + offset is inside [0, InWidth) exactly for ow in [start, end).
                    int offset = (kw * g.DilationWidth) - g.PaddingWidth;
                    int start = Math.Min(outWidth, offset >= 0 ? 0 : (-offset + g.StrideWidth - 1) / g.StrideWidth);
                    int end = Math.Max(start, Math.Min(outWidth, inWidth - offset <= 0 ? 0 : ((inWidth - offset - 1) / g.StrideWidth) + 1));
                    for (int oh = 0; oh < outHeight; oh++)
                    {
                        float* column = row + ((long)oh * outWidth);
                        int h = (oh * g.StrideHeight) + (kh * g.DilationHeight) - g.PaddingHeight;
                        if ((uint)h >= (uint)inHeight)
                        {
                            TTap.Padding(column, positions, batch, outWidth);
                            continue;
                        }

                        TTap.Run(column, positions, x + ((long)c * plane) + ((long)h * inWidth), inputSize, batch, start, end, outWidth, g.StrideWidth, offset);
                    }
                }
            }
        }
    }

    /// <summary>C[row, .] += b[row]: the bias of one group's output channels, added as the GEMM finishes each stretch.</summary>
    private readonly struct RowBias(float* bias) : IEpilogue
    {
        private readonly float* _bias = bias;

        public void Apply(int row, int column, Span<float> values)
        {
            if (_bias is not null)
            {
                float offset = _bias[row];
                ref float start = ref MemoryMarshal.GetReference(values);
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var b = Vector256.Create(offset);
                    for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                    {
                        (Vector256.LoadUnsafe(ref start, (nuint)i) + b).StoreUnsafe(ref start, (nuint)i);
                    }
                }

                for (; i < values.Length; i++)
                {
                    Unsafe.Add(ref start, i) += offset;
                }
            }
        }
    }

    /// <summary>
    /// target (inner, outer, plane) = source (outer, inner, plane) with the two outer axes swapped, a copy of whole
    /// planes: (batch, channels, positions) to (channels, batch, positions) and back.
    /// </summary>
    private static void SwapBatchAndChannels(Span<float> target, ReadOnlySpan<float> source, int outer, int inner, int plane)
    {
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                source.Slice(((o * inner) + i) * plane, plane).CopyTo(target.Slice(((i * outer) + o) * plane, plane));
            }
        }
    }

    /// <summary>db[o] = the sum of row o of dZ^T (channels, positions); nothing without bias.</summary>
    private static void SumRows(Span<float> dBias, ReadOnlySpan<float> rows, int channels, int positions)
    {
        if (dBias.IsEmpty)
        {
            return;
        }

        for (int o = 0; o < channels; o++)
        {
            dBias[o] = System.Numerics.Tensors.TensorPrimitives.Sum(rows.Slice(o * positions, positions));
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
