using System.Globalization;

namespace Dsl.Ops;

/// <summary>
/// The geometry of a max or average pooling, as PyTorch's <c>nn.MaxPool2d</c> and <c>nn.AvgPool2d</c> define it
/// (ceil_mode false): per sample an input (Channels, InHeight, InWidth) and an output (Channels, OutHeight, OutWidth),
/// each channel pooled on its own, each axis sized as <see cref="Conv1dGeometry.OutputLength"/> sizes a length. The
/// window of output (oh, ow) reads rows oh StrideHeight - PaddingHeight + kh DilationHeight and columns
/// ow StrideWidth - PaddingWidth + kw DilationWidth for kh &lt; KernelHeight, kw &lt; KernelWidth. A one-dimensional
/// pooling over (Channels, length) is the case InHeight = KernelHeight = StrideHeight = DilationHeight = 1,
/// PaddingHeight = 0 (<see cref="OneDimensional"/>).
/// </summary>
public readonly record struct PoolGeometry(
    int Channels, int InHeight, int InWidth, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int PaddingHeight, int PaddingWidth, int DilationHeight, int DilationWidth)
{
    /// <summary>
    /// A pooling over (channels, length), as <c>nn.MaxPool1d</c> or <c>nn.AvgPool1d</c>: one input row, the kernel,
    /// stride, padding and dilation along it.
    /// </summary>
    public static PoolGeometry OneDimensional(int channels, int length, int kernel, int stride, int padding, int dilation)
        => new(channels, 1, length, 1, kernel, 1, stride, 0, padding, 1, dilation);

    /// <summary>Output rows per channel; 0 or less when the padded input is shorter than the dilated kernel.</summary>
    public int OutHeight => Conv1dGeometry.OutputLength(InHeight, KernelHeight, StrideHeight, PaddingHeight, DilationHeight);

    /// <summary>Output columns per channel; 0 or less when the padded input is narrower than the dilated kernel.</summary>
    public int OutWidth => Conv1dGeometry.OutputLength(InWidth, KernelWidth, StrideWidth, PaddingWidth, DilationWidth);

    /// <summary>Output positions per channel: OutHeight * OutWidth, row-major (oh, ow).</summary>
    public int OutPositions => OutHeight * OutWidth;

    /// <summary>Input positions per channel: InHeight * InWidth, row-major (h, w); a max pool's argmax indexes them.</summary>
    public int InPositions => InHeight * InWidth;

    /// <summary>Floats per sample of the input: Channels * InHeight * InWidth.</summary>
    public int InputSize => Channels * InPositions;

    /// <summary>Floats per sample of the output: Channels * OutHeight * OutWidth.</summary>
    public int OutputSize => Channels * OutPositions;

    /// <summary>
    /// Throws unless every size is positive (padding: non-negative), the padding is within PyTorch's limit on each
    /// axis (a max pool's at most half its dilated kernel, ((kernel - 1) dilation + 1) / 2; an average pool's at most
    /// kernel / 2, and an average pool has dilation 1), and the output has at least one position. The max pool's limit
    /// counts the dilation; PyTorch 1.13 takes kernel / 2 whatever the dilation, so a dilated max pool padded between
    /// the two limits runs here and is refused there.
    /// </summary>
    /// <param name="what">Names the pooling in the message.</param>
    /// <param name="average">Whether the geometry is an average pool's rather than a max pool's.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size, the padding or the dilation is out of range, no output position fits, or a per-sample buffer exceeds 2^31 floats.</exception>
    public void Validate(string what, bool average)
    {
        string? problem = Channels <= 0 || InHeight <= 0 || InWidth <= 0 ? $"its input ({Channels}, {InHeight}, {InWidth}) has no elements"
            : KernelHeight <= 0 || KernelWidth <= 0 ? $"its kernel is ({KernelHeight}, {KernelWidth})"
            : StrideHeight <= 0 || StrideWidth <= 0 ? $"its stride is ({StrideHeight}, {StrideWidth})"
            : PaddingHeight < 0 || PaddingWidth < 0 ? $"its padding is ({PaddingHeight}, {PaddingWidth})"
            : DilationHeight <= 0 || DilationWidth <= 0 ? $"its dilation is ({DilationHeight}, {DilationWidth})"
            : average && (DilationHeight != 1 || DilationWidth != 1) ? $"its dilation is ({DilationHeight}, {DilationWidth}), but an average pool has no dilation"
            : PaddingProblem("height", PaddingHeight, KernelHeight, DilationHeight, average)
                ?? PaddingProblem("width", PaddingWidth, KernelWidth, DilationWidth, average)
                ?? (OutHeight <= 0 ? $"its input height {InHeight} with padding {PaddingHeight} is shorter than its kernel height {KernelHeight} at dilation {DilationHeight}"
                : OutWidth <= 0 ? $"its input width {InWidth} with padding {PaddingWidth} is narrower than its kernel width {KernelWidth} at dilation {DilationWidth}"
                : (long)Channels * InHeight * InWidth > int.MaxValue || (long)Channels * OutHeight * OutWidth > int.MaxValue ? "its input or output exceeds 2^31 floats per sample"
                : null);
        if (problem is not null)
        {
            throw new ArgumentOutOfRangeException(what, string.Create(CultureInfo.InvariantCulture, $"{what}: {problem}."));
        }
    }

    /// <summary>PyTorch's limit on one axis's padding: half the dilated kernel for a max pool, half the kernel for an average pool.</summary>
    private static string? PaddingProblem(string axis, int padding, int kernel, int dilation, bool average)
    {
        if (average)
        {
            return padding > kernel / 2 ? $"its padding {axis} {padding} is more than half its kernel {axis} {kernel} (at most {kernel / 2})" : null;
        }

        long limit = (((long)kernel - 1) * dilation + 1) / 2;
        return padding > limit ? $"its padding {axis} {padding} is more than half its kernel {axis} {kernel} at dilation {dilation} (at most {limit})" : null;
    }

    /// <summary>
    /// The taps of a window along one axis that land inside the input: k in [<paramref name="first"/>,
    /// <paramref name="end"/>) are those with 0 &lt;= <paramref name="start"/> + k <paramref name="dilation"/> &lt;
    /// <paramref name="length"/>, k &lt; <paramref name="kernel"/>; empty (first &gt;= end) when every tap is padding.
    /// </summary>
    internal static void Taps(int start, int kernel, int dilation, int length, out int first, out int end)
    {
        first = start >= 0 ? 0 : (dilation - 1 - start) / dilation;
        long past = (long)length - start;
        end = past <= 0 ? 0 : (int)Math.Min(kernel, (past + dilation - 1) / dilation);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="name"/> when <paramref name="length"/> is below <paramref name="needed"/>.</summary>
    internal static void CheckLength(long length, long needed, string name, string unit)
    {
        if (length < needed)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} holds {length} {unit}; the pooling needs {needed}."), name);
        }
    }
}
