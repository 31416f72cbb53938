namespace Dsl;

/// <summary>
/// Max pooling over (channels, length), PyTorch's <c>nn.MaxPool1d</c>: each output is the maximum of
/// <paramref name="kernel"/> taps, <see cref="Dilation"/> apart; out = floor((length + 2 Padding - Dilation (kernel - 1)
/// - 1) / Stride) + 1. Padding is never chosen. No parameters.
/// </summary>
/// <param name="kernel">Taps of the window.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class MaxPool1dAttribute(int kernel) : Attribute
{
    public int Kernel { get; } = kernel;

    /// <summary>Positions the window moves per output (default: the kernel, as PyTorch's).</summary>
    public int Stride { get; set; } = kernel;

    /// <summary>Positions added at each end, never chosen (default 0; at most half the dilated window).</summary>
    public int Padding { get; set; }

    /// <summary>Spacing between the window's taps (default 1).</summary>
    public int Dilation { get; set; } = 1;
}

/// <summary>
/// Max pooling over (channels, height, width), PyTorch's <c>nn.MaxPool2d</c>: each axis as <see cref="MaxPool1dAttribute"/>'s
/// length. <see cref="Stride"/>, <see cref="Padding"/> and <see cref="Dilation"/> set both axes; <c>StrideHeight</c>,
/// <c>StrideWidth</c> and the like, where given, set one axis and win over them. No parameters.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class MaxPool2dAttribute : Attribute
{
    /// <summary>A square window of <paramref name="kernel"/> by <paramref name="kernel"/>.</summary>
    public MaxPool2dAttribute(int kernel)
        : this(kernel, kernel)
    {
    }

    /// <summary>A window of <paramref name="kernelHeight"/> rows by <paramref name="kernelWidth"/> columns.</summary>
    public MaxPool2dAttribute(int kernelHeight, int kernelWidth)
    {
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
        Stride = kernelHeight;
        StrideHeight = kernelHeight;
        StrideWidth = kernelWidth;
    }

    public int KernelHeight { get; }

    public int KernelWidth { get; }

    /// <summary>Positions the window moves per output along both axes (default: the kernel, as PyTorch's).</summary>
    public int Stride { get; set; }

    /// <summary>The stride along the height, where given (default: <see cref="Stride"/>, else the kernel's height).</summary>
    public int StrideHeight { get; set; }

    /// <summary>The stride along the width, where given (default: <see cref="Stride"/>, else the kernel's width).</summary>
    public int StrideWidth { get; set; }

    /// <summary>Positions added at each end of both axes, never chosen (default 0).</summary>
    public int Padding { get; set; }

    /// <summary>The padding of the height, where given (default: <see cref="Padding"/>).</summary>
    public int PaddingHeight { get; set; }

    /// <summary>The padding of the width, where given (default: <see cref="Padding"/>).</summary>
    public int PaddingWidth { get; set; }

    /// <summary>Spacing between the window's taps along both axes (default 1).</summary>
    public int Dilation { get; set; } = 1;

    /// <summary>The dilation along the height, where given (default: <see cref="Dilation"/>).</summary>
    public int DilationHeight { get; set; } = 1;

    /// <summary>The dilation along the width, where given (default: <see cref="Dilation"/>).</summary>
    public int DilationWidth { get; set; } = 1;
}

/// <summary>
/// Average pooling over (channels, length), PyTorch's <c>nn.AvgPool1d</c> with its defaults: each output is the sum of
/// <paramref name="kernel"/> consecutive taps divided by the kernel, padding counted as zeros. No parameters.
/// </summary>
/// <param name="kernel">Taps of the window.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class AvgPool1dAttribute(int kernel) : Attribute
{
    public int Kernel { get; } = kernel;

    /// <summary>Positions the window moves per output (default: the kernel, as PyTorch's).</summary>
    public int Stride { get; set; } = kernel;

    /// <summary>Zeros added at each end, counted in the mean (default 0; at most half the kernel).</summary>
    public int Padding { get; set; }
}

/// <summary>
/// Average pooling over (channels, height, width), PyTorch's <c>nn.AvgPool2d</c> with its defaults (padding counted).
/// <see cref="Stride"/> and <see cref="Padding"/> set both axes; the per-axis properties, where given, win. No parameters.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class AvgPool2dAttribute : Attribute
{
    /// <summary>A square window of <paramref name="kernel"/> by <paramref name="kernel"/>.</summary>
    public AvgPool2dAttribute(int kernel)
        : this(kernel, kernel)
    {
    }

    /// <summary>A window of <paramref name="kernelHeight"/> rows by <paramref name="kernelWidth"/> columns.</summary>
    public AvgPool2dAttribute(int kernelHeight, int kernelWidth)
    {
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
        Stride = kernelHeight;
        StrideHeight = kernelHeight;
        StrideWidth = kernelWidth;
    }

    public int KernelHeight { get; }

    public int KernelWidth { get; }

    /// <summary>Positions the window moves per output along both axes (default: the kernel, as PyTorch's).</summary>
    public int Stride { get; set; }

    /// <summary>The stride along the height, where given (default: <see cref="Stride"/>, else the kernel's height).</summary>
    public int StrideHeight { get; set; }

    /// <summary>The stride along the width, where given (default: <see cref="Stride"/>, else the kernel's width).</summary>
    public int StrideWidth { get; set; }

    /// <summary>Zeros added at each end of both axes, counted in the mean (default 0).</summary>
    public int Padding { get; set; }

    /// <summary>The padding of the height, where given (default: <see cref="Padding"/>).</summary>
    public int PaddingHeight { get; set; }

    /// <summary>The padding of the width, where given (default: <see cref="Padding"/>).</summary>
    public int PaddingWidth { get; set; }
}

/// <summary>
/// The mean of each channel over all its positions, (channels, length) or (channels, height, width) to (channels), as
/// <c>x.mean(dim=(2, 3))</c> or <c>nn.AdaptiveAvgPool2d(1)</c> followed by a flatten. No parameters.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class GlobalAvgPoolAttribute : Attribute
{
}
