namespace Dsl;

/// <summary>
/// A one-dimensional convolution, as PyTorch's <c>nn.Conv1d</c>: it reads (channels, length) per sample and writes
/// (<paramref name="outChannels"/>, outLength) with outLength = floor((length + 2 Padding - Dilation (kernel - 1) - 1)
/// / Stride) + 1. Weight (outChannels, channels / Groups, kernel), bias (outChannels). Combine it with at most one
/// activation attribute on the same property (<c>[Conv1d(25, 5, Stride = 2, Padding = 1), Relu]</c>).
/// </summary>
/// <param name="outChannels">Output channels; a multiple of <see cref="Groups"/>.</param>
/// <param name="kernel">Taps of the kernel.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class Conv1dAttribute(int outChannels, int kernel) : Attribute
{
    public int OutChannels { get; } = outChannels;

    public int Kernel { get; } = kernel;

    /// <summary>Positions the kernel moves per output position (default 1).</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Zeros added at each end of the length (default 0).</summary>
    public int Padding { get; set; }

    /// <summary>Spacing between the kernel's taps (default 1).</summary>
    public int Dilation { get; set; } = 1;

    /// <summary>Channel groups: each output channel reads channels / Groups input channels of its group (default 1).</summary>
    public int Groups { get; set; } = 1;

    /// <summary>Whether the layer adds a bias per output channel (default true).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Weight initialiser (default: PyTorch's for <c>nn.Conv1d</c>, U(+-1/sqrt(fanIn)) with fanIn = channels / Groups * kernel).</summary>
    public Init Init { get; set; } = Init.TorchDefault;

    /// <summary>Which fan the He/Kaiming initialisers scale by (fan-in: channels / Groups * kernel; fan-out: outChannels * kernel).</summary>
    public Fan Fan { get; set; } = Fan.In;

    /// <summary>Standard deviation for <see cref="Init.Normal"/> (ignored by the others).</summary>
    public double InitStd { get; set; } = 0.01;
}

/// <summary>
/// Reads each sample as one vector of its elements in row-major order, PyTorch's <c>nn.Flatten()</c>: (channels, length)
/// becomes (channels * length), so a dense layer can follow a convolution. No parameters and no copy.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class FlattenAttribute : Attribute
{
}

/// <summary>
/// A two-dimensional convolution, as PyTorch's <c>nn.Conv2d</c>: it reads (channels, height, width) per sample and writes
/// (outChannels, outHeight, outWidth), each axis as a Conv1d's length:
/// out = floor((in + 2 padding - dilation (kernel - 1) - 1) / stride) + 1. Weight (outChannels, channels / Groups,
/// kernelHeight, kernelWidth), bias (outChannels). <see cref="Stride"/>, <see cref="Padding"/> and <see cref="Dilation"/>
/// set both axes; <c>StrideHeight</c>, <c>StrideWidth</c> and the like, where given, set one axis and win over them.
/// Combine it with at most one activation attribute on the same property (<c>[Conv2d(16, 3, Padding = 1), Relu]</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class Conv2dAttribute : Attribute
{
    /// <summary>A square kernel of <paramref name="kernel"/> by <paramref name="kernel"/> taps.</summary>
    /// <param name="outChannels">Output channels; a multiple of <see cref="Groups"/>.</param>
    public Conv2dAttribute(int outChannels, int kernel)
        : this(outChannels, kernel, kernel)
    {
    }

    /// <summary>A kernel of <paramref name="kernelHeight"/> rows by <paramref name="kernelWidth"/> columns.</summary>
    public Conv2dAttribute(int outChannels, int kernelHeight, int kernelWidth)
    {
        OutChannels = outChannels;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
    }

    public int OutChannels { get; }

    public int KernelHeight { get; }

    public int KernelWidth { get; }

    /// <summary>Positions the kernel moves per output position along both axes (default 1).</summary>
    public int Stride { get; set; } = 1;

    /// <summary>The stride along the height, where given (default: <see cref="Stride"/>).</summary>
    public int StrideHeight { get; set; } = 1;

    /// <summary>The stride along the width, where given (default: <see cref="Stride"/>).</summary>
    public int StrideWidth { get; set; } = 1;

    /// <summary>Zeros added at each end of both axes (default 0).</summary>
    public int Padding { get; set; }

    /// <summary>The padding of the height, where given (default: <see cref="Padding"/>).</summary>
    public int PaddingHeight { get; set; }

    /// <summary>The padding of the width, where given (default: <see cref="Padding"/>).</summary>
    public int PaddingWidth { get; set; }

    /// <summary>Spacing between the kernel's taps along both axes (default 1).</summary>
    public int Dilation { get; set; } = 1;

    /// <summary>The dilation along the height, where given (default: <see cref="Dilation"/>).</summary>
    public int DilationHeight { get; set; } = 1;

    /// <summary>The dilation along the width, where given (default: <see cref="Dilation"/>).</summary>
    public int DilationWidth { get; set; } = 1;

    /// <summary>Channel groups: each output channel reads channels / Groups input channels of its group (default 1).</summary>
    public int Groups { get; set; } = 1;

    /// <summary>Whether the layer adds a bias per output channel (default true).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Weight initialiser (default: PyTorch's for <c>nn.Conv2d</c>, U(+-1/sqrt(fanIn)) with fanIn = channels / Groups * kernelHeight * kernelWidth).</summary>
    public Init Init { get; set; } = Init.TorchDefault;

    /// <summary>Which fan the He/Kaiming initialisers scale by (fan-in: channels / Groups * taps; fan-out: outChannels * taps).</summary>
    public Fan Fan { get; set; } = Fan.In;

    /// <summary>Standard deviation for <see cref="Init.Normal"/> (ignored by the others).</summary>
    public double InitStd { get; set; } = 0.01;
}
