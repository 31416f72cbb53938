using System.Globalization;
using Dsl.Cpu;

namespace Dsl.Ops;

/// <summary>
/// The geometry of a one-dimensional convolution, as PyTorch's <c>nn.Conv1d</c> defines it: per sample an input
/// (InChannels, InLength), a weight (OutChannels, InChannels / Groups, Kernel) and an output (OutChannels, OutLength)
/// with OutLength = floor((InLength + 2 Padding - Dilation (Kernel - 1) - 1) / Stride) + 1.
/// </summary>
public readonly record struct Conv1dGeometry(int InChannels, int InLength, int OutChannels, int Kernel, int Stride, int Padding, int Dilation, int Groups)
{
    /// <summary>Output positions per channel; 0 or less when the padded input is shorter than the dilated kernel.</summary>
    public int OutLength => OutputLength(InLength, Kernel, Stride, Padding, Dilation);

    /// <summary>Input channels each output channel reads: InChannels / Groups.</summary>
    public int GroupInChannels => InChannels / Groups;

    /// <summary>Output channels of each group: OutChannels / Groups.</summary>
    public int GroupOutChannels => OutChannels / Groups;

    /// <summary>Floats in the weight: OutChannels * (InChannels / Groups) * Kernel.</summary>
    public int WeightLength => OutChannels * GroupInChannels * Kernel;

    /// <summary>One column row (one output position): InChannels * Kernel floats, group by group.</summary>
    public int ColumnWidth => InChannels * Kernel;

    /// <summary>Floats per sample of the input: InChannels * InLength.</summary>
    public int InputWidth => InChannels * InLength;

    /// <summary>Floats per sample of the output: OutChannels * OutLength.</summary>
    public int OutputWidth => OutChannels * OutLength;

    /// <summary>floor((length + 2 padding - dilation (kernel - 1) - 1) / stride) + 1, in 64-bit so that no size overflows; below 1 when nothing fits.</summary>
    public static int OutputLength(int length, int kernel, int stride, int padding, int dilation)
    {
        long span = (long)length + (2L * padding) - ((long)dilation * (kernel - 1)) - 1;
        return span < 0 ? 0 : (int)Math.Min(int.MaxValue, (span / stride) + 1);
    }

    /// <summary>Throws unless every size is in range and the output has at least one position.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive (padding: negative), the channels do not divide into the groups, or no output position fits.</exception>
    public void Validate(string what)
    {
        string? problem = InChannels <= 0 || InLength <= 0 ? $"its input ({InChannels}, {InLength}) has no elements"
            : OutChannels <= 0 ? $"it has {OutChannels} output channels"
            : Kernel <= 0 ? $"its kernel is {Kernel}"
            : Stride <= 0 ? $"its stride is {Stride}"
            : Padding < 0 ? $"its padding is {Padding}"
            : Dilation <= 0 ? $"its dilation is {Dilation}"
            : Groups <= 0 ? $"it has {Groups} groups"
            : InChannels % Groups != 0 || OutChannels % Groups != 0 ? $"its {InChannels} input and {OutChannels} output channels do not both divide into {Groups} groups"
            : OutLength <= 0 ? $"its input length {InLength} with padding {Padding} is shorter than its kernel {Kernel} at dilation {Dilation}"
            : (long)OutChannels * OutLength > int.MaxValue || (long)InChannels * Kernel * OutLength > int.MaxValue ? "its output or its columns exceed 2^31 floats per sample"
            : null;
        if (problem is not null)
        {
            throw new ArgumentOutOfRangeException(what, string.Create(CultureInfo.InvariantCulture, $"{what}: {problem}."));
        }
    }
}

/// <summary>
/// A one-dimensional convolution on the CPU, forward and backward side by side, in PyTorch's layout: x (batch,
/// InChannels, InLength), W (OutChannels, InChannels / Groups, Kernel), b (OutChannels), y (batch, OutChannels,
/// OutLength), each row-major. Lowered to the packed GEMM: the columns X (batch * OutLength, InChannels * Kernel) hold,
/// at row (n, t) and column (c, k), x[n, c, t Stride + k Dilation - Padding] (0 in the padding); then per group g the
/// product Z_g = X_g W_g^T lands in a position-major buffer (batch * OutLength, OutChannels), and y is its transpose
/// plus the bias.
/// </summary>
public static unsafe class Conv1d
{
    /// <summary>Fills the columns X (batch * OutLength, ColumnWidth) from x (batch, InputWidth).</summary>
    public static void Columns(Span<float> columns, ReadOnlySpan<float> input, int batch, in Conv1dGeometry g)
    {
        CheckLength(columns, (long)batch * g.OutLength * g.ColumnWidth, nameof(columns));
        CheckLength(input, (long)batch * g.InputWidth, nameof(input));
        int outLength = g.OutLength, kernel = g.Kernel, inLength = g.InLength, width = g.ColumnWidth, channels = g.InChannels;
        int stride = g.Stride, dilation = g.Dilation, span = (kernel - 1) * dilation;
        fixed (float* x = input, columnsStart = columns)
        {
            float* row = columnsStart;
            for (int n = 0; n < batch; n++)
            {
                float* sample = x + ((long)n * g.InputWidth);
                for (int t = 0; t < outLength; t++, row += width)
                {
                    int start = (t * stride) - g.Padding;
                    if (start >= 0 && start + span < inLength)
                    {
                        // Every tap inside the input: no padding checks.
                        for (int c = 0; c < channels; c++)
                        {
                            float* source = sample + (c * inLength) + start;
                            float* target = row + (c * kernel);
                            for (int k = 0; k < kernel; k++)
                            {
                                target[k] = source[k * dilation];
                            }
                        }

                        continue;
                    }

                    for (int c = 0; c < channels; c++)
                    {
                        float* channel = sample + (c * inLength);
                        float* target = row + (c * kernel);
                        for (int k = 0; k < kernel; k++)
                        {
                            int position = start + (k * dilation);
                            target[k] = (uint)position < (uint)inLength ? channel[position] : 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// z = conv(x, W) + b: fills <paramref name="columns"/> (kept for the weight gradient), multiplies each group into
    /// <paramref name="positionMajor"/> (batch * OutLength, OutChannels) and writes z to <paramref name="output"/>
    /// (batch, OutChannels, OutLength). The caller applies the activation to z in place.
    /// </summary>
    public static void Forward(
        Span<float> output, Span<float> columns, Span<float> positionMajor, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int batch, in Conv1dGeometry g, CpuWorkers? workers)
    {
        Columns(columns, input, batch, g);
        int rows = batch * g.OutLength;
        int groupIn = g.GroupInChannels * g.Kernel, groupOut = g.GroupOutChannels;
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
    /// From dz (batch, OutChannels, OutLength): dW = dZ_g^T X_g per group (overwritten), db = sums of dz over batch
    /// and positions (overwritten; empty without bias), and, when <paramref name="dInput"/> is not empty,
    /// dx (+)= col2im(dZ_g W_g). <paramref name="columns"/> holds X from the forward on entry and is overwritten (it
    /// takes dX); <paramref name="positionMajor"/> is scratch (batch * OutLength, OutChannels).
    /// </summary>
    public static void Backward(
        Span<float> dInput, Span<float> dWeight, Span<float> dBias, ReadOnlySpan<float> dOutput, Span<float> columns, Span<float> positionMajor,
        ReadOnlySpan<float> weight, int batch, in Conv1dGeometry g, bool accumulate, CpuWorkers? workers)
    {
        int outLength = g.OutLength, rows = batch * outLength;
        int groupIn = g.GroupInChannels * g.Kernel, groupOut = g.GroupOutChannels;
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

    /// <summary>col2im: dx[n, c, t Stride + k Dilation - Padding] (+)= dX[(n, t), (c, k)], skipping the padding.</summary>
    public static void AddColumns(Span<float> dInput, ReadOnlySpan<float> dColumns, int batch, in Conv1dGeometry g, bool accumulate)
    {
        CheckLength(dInput, (long)batch * g.InputWidth, nameof(dInput));
        CheckLength(dColumns, (long)batch * g.OutLength * g.ColumnWidth, nameof(dColumns));
        if (!accumulate)
        {
            dInput[..(batch * g.InputWidth)].Clear();
        }

        int outLength = g.OutLength, kernel = g.Kernel, inLength = g.InLength, width = g.ColumnWidth, channels = g.InChannels;
        int stride = g.Stride, dilation = g.Dilation, span = (kernel - 1) * dilation;
        fixed (float* dx = dInput, columnsStart = dColumns)
        {
            float* row = columnsStart;
            for (int n = 0; n < batch; n++)
            {
                float* sample = dx + ((long)n * g.InputWidth);
                for (int t = 0; t < outLength; t++, row += width)
                {
                    int start = (t * stride) - g.Padding;
                    if (start >= 0 && start + span < inLength)
                    {
                        for (int c = 0; c < channels; c++)
                        {
                            float* target = sample + (c * inLength) + start;
                            float* source = row + (c * kernel);
                            for (int k = 0; k < kernel; k++)
                            {
                                target[k * dilation] += source[k];
                            }
                        }

                        continue;
                    }

                    for (int c = 0; c < channels; c++)
                    {
                        float* channel = sample + (c * inLength);
                        float* source = row + (c * kernel);
                        for (int k = 0; k < kernel; k++)
                        {
                            int position = start + (k * dilation);
                            if ((uint)position < (uint)inLength)
                            {
                                channel[position] += source[k];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>z[n, o, t] = Z[(n, t), o] + b[o]: the GEMM's position-major product to PyTorch's layout, with the bias.</summary>
    private static void ToChannelMajor(Span<float> output, ReadOnlySpan<float> positionMajor, ReadOnlySpan<float> bias, int batch, in Conv1dGeometry g)
    {
        int outLength = g.OutLength, channels = g.OutChannels;
        CheckLength(output, (long)batch * g.OutputWidth, nameof(output));
        CheckLength(positionMajor, (long)batch * g.OutputWidth, nameof(positionMajor));
        fixed (float* z = output, product = positionMajor, b = bias)
        {
            for (int n = 0; n < batch; n++)
            {
                float* source = product + ((long)n * g.OutputWidth);
                float* target = z + ((long)n * g.OutputWidth);
                for (int o = 0; o < channels; o++, target += outLength)
                {
                    float offset = b is null ? 0f : b[o];
                    for (int t = 0; t < outLength; t++)
                    {
                        target[t] = source[(t * channels) + o] + offset;
                    }
                }
            }
        }
    }

    /// <summary>dZ[(n, t), o] = dz[n, o, t], and db[o] = the sum of dz[., o, .] when <paramref name="dBias"/> is not empty.</summary>
    private static void ToPositionMajor(Span<float> positionMajor, Span<float> dBias, ReadOnlySpan<float> dOutput, int batch, in Conv1dGeometry g)
    {
        int outLength = g.OutLength, channels = g.OutChannels;
        CheckLength(positionMajor, (long)batch * g.OutputWidth, nameof(positionMajor));
        CheckLength(dOutput, (long)batch * g.OutputWidth, nameof(dOutput));
        dBias.Clear();
        fixed (float* product = positionMajor, dz = dOutput, db = dBias)
        {
            for (int n = 0; n < batch; n++)
            {
                float* source = dz + ((long)n * g.OutputWidth);
                float* target = product + ((long)n * g.OutputWidth);
                for (int o = 0; o < channels; o++, source += outLength)
                {
                    float sum = 0f;
                    for (int t = 0; t < outLength; t++)
                    {
                        float value = source[t];
                        target[(t * channels) + o] = value;
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

    private static void CheckLength(ReadOnlySpan<float> buffer, long needed, string name)
    {
        if (buffer.Length < needed)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} holds {buffer.Length} floats; the convolution needs {needed}."), name);
        }
    }
}
