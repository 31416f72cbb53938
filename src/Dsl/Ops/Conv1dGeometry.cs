using System.Globalization;

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

    /// <summary>
    /// The same convolution as a two-dimensional one of height 1 (kernel height 1, stride 1, padding 0, dilation 1), which
    /// <see cref="Conv2d"/> computes: a Conv1d's input (InChannels, InLength) is (InChannels, 1, InLength), its weight
    /// (OutChannels, InChannels / Groups, Kernel) is (OutChannels, InChannels / Groups, 1, Kernel), the same floats.
    /// </summary>
    public Conv2dGeometry AsConv2d() => new(InChannels, 1, InLength, OutChannels, 1, Kernel, 1, Stride, 0, Padding, 1, Dilation, Groups);

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
