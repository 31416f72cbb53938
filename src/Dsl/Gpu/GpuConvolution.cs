using System.Globalization;
using Dsl.Ops;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// The GPU twin of <see cref="Conv2d"/>, forward and backward side by side, in PyTorch's layout, batch first, each
/// row-major: x (batch, InChannels, InHeight, InWidth), W (OutChannels, InChannels / Groups, KernelHeight, KernelWidth),
/// b (OutChannels) or none, z (batch, OutChannels, OutHeight, OutWidth). A Conv1d is the geometry of height 1
/// (<see cref="Conv1dGeometry.AsConv2d"/>). The caller applies the activation to z.
/// </summary>
/// <remarks>
/// Direct convolution, one thread per element written, with no columns and no GEMM: the forward one thread per output
/// (n, oc, oh, ow) summing its group's (ic, kh, kw) taps inside the input, then adding b[oc]; dW one thread per weight
/// (oc, ic, kh, kw) summing over the batch and the output positions in (n, oh, ow) order; db one thread per output
/// channel; dx one thread per input (n, ic, ih, iw) gathering, over its group's output channels and the taps (kh, kw),
/// the outputs whose window puts that tap on it: oh = (ih + PaddingHeight - kh DilationHeight) / StrideHeight when that
/// division is exact and oh is in range, and likewise ow. Every thread sums in a fixed order and owns the one element it
/// writes: deterministic, no atomics, no shared memory. The CPU op sums through the packed GEMM in another order, so
/// results agree to float rounding. Shapes reach the kernels as a <see cref="ConvolutionShape"/> of ints.
/// </remarks>
public sealed class GpuConvolution
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape, int> _forward;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape> _weightGradient;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ConvolutionShape> _biasGradient;
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape, int> _inputGradient;

    /// <summary>Loads (once per accelerator) the four kernels.</summary>
    public GpuConvolution(GpuAccelerator gpu)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _forward = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape, int>)ForwardKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape, int>(ForwardKernel));
        _weightGradient = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape>)WeightGradientKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape>(WeightGradientKernel));
        _biasGradient = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ConvolutionShape>)BiasGradientKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvolutionShape>(BiasGradientKernel));
        _inputGradient = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape, int>)InputGradientKernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvolutionShape, int>(InputGradientKernel));
    }

    /// <summary>z = conv(x, W) + b.</summary>
    /// <param name="output">z (batch, OutChannels, OutHeight, OutWidth), overwritten.</param>
    /// <param name="input">x (batch, InChannels, InHeight, InWidth).</param>
    /// <param name="weight">W (OutChannels, InChannels / Groups, KernelHeight, KernelWidth).</param>
    /// <param name="bias">b (OutChannels), or empty for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">The geometry is invalid, the batch negative, or a batch's input or output exceeds 2^31 floats.</exception>
    /// <exception cref="ArgumentException">A view is shorter than the geometry needs.</exception>
    public void Forward(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, int batch, in Conv2dGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ConvolutionShape shape = Check(batch, geometry);
        CheckLength(output, (long)batch * geometry.OutputSize, nameof(output));
        CheckLength(input, (long)batch * geometry.InputSize, nameof(input));
        CheckLength(weight, geometry.WeightLength, nameof(weight));
        CheckOptional(bias, geometry.OutChannels, nameof(bias));
        if (batch > 0)
        {
            _forward(stream, batch * geometry.OutputSize, output, input, weight, bias, shape, bias.Length > 0 ? 1 : 0);
        }
    }

    /// <summary>
    /// From dz: dW (overwritten), db (overwritten, when not empty) and dx (+)= the gradient through the convolution (when
    /// not empty): added to dx when <paramref name="accumulate"/>, else overwriting it.
    /// </summary>
    /// <param name="dInput">dx (batch, InChannels, InHeight, InWidth), or empty when the input needs no gradient.</param>
    /// <param name="dWeight">dW (OutChannels, InChannels / Groups, KernelHeight, KernelWidth).</param>
    /// <param name="dBias">db (OutChannels), or empty without bias.</param>
    /// <param name="dOutput">dz (batch, OutChannels, OutHeight, OutWidth): the gradient at the pre-activation.</param>
    /// <param name="input">x, as in the forward.</param>
    /// <param name="weight">W, as in the forward.</param>
    /// <exception cref="ArgumentOutOfRangeException">The geometry is invalid, the batch negative, or a batch's input or output exceeds 2^31 floats.</exception>
    /// <exception cref="ArgumentException">A view is shorter than the geometry needs.</exception>
    public void Backward(
        AcceleratorStream stream, ArrayView<float> dInput, ArrayView<float> dWeight, ArrayView<float> dBias, ArrayView<float> dOutput,
        ArrayView<float> input, ArrayView<float> weight, int batch, in Conv2dGeometry geometry, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ConvolutionShape shape = Check(batch, geometry);
        CheckOptional(dInput, (long)batch * geometry.InputSize, nameof(dInput));
        CheckLength(dWeight, geometry.WeightLength, nameof(dWeight));
        CheckOptional(dBias, geometry.OutChannels, nameof(dBias));
        CheckLength(dOutput, (long)batch * geometry.OutputSize, nameof(dOutput));
        CheckLength(input, (long)batch * geometry.InputSize, nameof(input));
        CheckLength(weight, geometry.WeightLength, nameof(weight));

        // With no rows the sums are empty: dW and db are written as zeros, dx (no elements) is untouched.
        _weightGradient(stream, geometry.WeightLength, dWeight, dOutput, input, shape);
        if (dBias.Length > 0)
        {
            _biasGradient(stream, geometry.OutChannels, dBias, dOutput, shape);
        }

        if (dInput.Length > 0 && batch > 0)
        {
            _inputGradient(stream, batch * geometry.InputSize, dInput, dOutput, weight, shape, accumulate ? 1 : 0);
        }
    }

    /// <summary>The kernels' shape, after checking the geometry and that a batch's input and output index in 32 bits.</summary>
    private static ConvolutionShape Check(int batch, in Conv2dGeometry geometry)
    {
        geometry.Validate(nameof(geometry));
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if ((long)batch * geometry.InputSize > int.MaxValue || (long)batch * geometry.OutputSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, string.Create(CultureInfo.InvariantCulture,
                $"A batch of {batch} convolves {(long)batch * geometry.InputSize} inputs to {(long)batch * geometry.OutputSize} outputs; the GPU kernels index at most 2^31 - 1."));
        }

        return new ConvolutionShape(batch, geometry);
    }

    private static void CheckLength(ArrayView<float> view, long needed, string name)
    {
        if (view.Length < needed)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} holds {view.Length} floats; the convolution needs {needed}."), name);
        }
    }

    private static void CheckOptional(ArrayView<float> view, long needed, string name)
    {
        if (view.Length > 0)
        {
            CheckLength(view, needed, name);
        }
    }

    /// <summary>One thread per output (n, oc, oh, ow): the sum over its group's input channels and taps, plus the bias.</summary>
    internal static void ForwardKernel(Index1D index, ArrayView<float> z, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ConvolutionShape s, int hasBias)
    {
        int i = index;
        int ow = i % s.OutWidth;
        int rest = i / s.OutWidth;
        int oh = rest % s.OutHeight;
        rest /= s.OutHeight;
        int oc = rest % s.OutChannels;
        int n = rest / s.OutChannels;
        int top = (oh * s.StrideHeight) - s.PaddingHeight;
        int left = (ow * s.StrideWidth) - s.PaddingWidth;
        int firstChannel = (oc / s.GroupOutChannels) * s.GroupInChannels;
        int taps = s.KernelHeight * s.KernelWidth;
        float sum = 0f;
        for (int c = 0; c < s.GroupInChannels; c++)
        {
            int channelRow = ((n * s.InChannels) + firstChannel + c) * s.InHeight; // the plane's first row
            int filter = ((oc * s.GroupInChannels) + c) * taps; // W[oc, c, 0, 0]
            for (int kh = 0; kh < s.KernelHeight; kh++)
            {
                int h = top + (kh * s.DilationHeight);
                if (h < 0 || h >= s.InHeight)
                {
                    continue;
                }

                int line = (channelRow + h) * s.InWidth;
                int kernelRow = filter + (kh * s.KernelWidth);
                for (int kw = 0; kw < s.KernelWidth; kw++)
                {
                    int w = left + (kw * s.DilationWidth);
                    if (w >= 0 && w < s.InWidth)
                    {
                        sum += x[line + w] * weight[kernelRow + kw];
                    }
                }
            }
        }

        z[i] = hasBias != 0 ? sum + bias[oc] : sum;
    }

    /// <summary>One thread per weight (oc, ic, kh, kw): the sum over (n, oh, ow) of dz[n, oc, oh, ow] times the input under the tap.</summary>
    internal static void WeightGradientKernel(Index1D index, ArrayView<float> dWeight, ArrayView<float> dz, ArrayView<float> x, ConvolutionShape s)
    {
        int i = index;
        int kw = i % s.KernelWidth;
        int rest = i / s.KernelWidth;
        int kh = rest % s.KernelHeight;
        rest /= s.KernelHeight;
        int c = rest % s.GroupInChannels;
        int oc = rest / s.GroupInChannels;
        int channel = ((oc / s.GroupOutChannels) * s.GroupInChannels) + c;
        int rowOffset = (kh * s.DilationHeight) - s.PaddingHeight;
        int columnOffset = (kw * s.DilationWidth) - s.PaddingWidth;
        float sum = 0f;
        for (int n = 0; n < s.Batch; n++)
        {
            int outPlane = ((n * s.OutChannels) + oc) * s.OutHeight;
            int inPlane = ((n * s.InChannels) + channel) * s.InHeight;
            for (int oh = 0; oh < s.OutHeight; oh++)
            {
                int h = (oh * s.StrideHeight) + rowOffset;
                if (h < 0 || h >= s.InHeight)
                {
                    continue;
                }

                int outLine = (outPlane + oh) * s.OutWidth;
                int inLine = (inPlane + h) * s.InWidth;
                for (int ow = 0; ow < s.OutWidth; ow++)
                {
                    int w = (ow * s.StrideWidth) + columnOffset;
                    if (w >= 0 && w < s.InWidth)
                    {
                        sum += dz[outLine + ow] * x[inLine + w];
                    }
                }
            }
        }

        dWeight[i] = sum;
    }

    /// <summary>One thread per output channel: db[oc] = the sum of dz[., oc, ., .] in (n, oh, ow) order.</summary>
    internal static void BiasGradientKernel(Index1D index, ArrayView<float> dBias, ArrayView<float> dz, ConvolutionShape s)
    {
        int oc = index;
        int positions = s.OutHeight * s.OutWidth;
        float sum = 0f;
        for (int n = 0; n < s.Batch; n++)
        {
            int plane = ((n * s.OutChannels) + oc) * positions;
            for (int p = 0; p < positions; p++)
            {
                sum += dz[plane + p];
            }
        }

        dBias[oc] = sum;
    }

    /// <summary>
    /// One thread per input (n, ic, ih, iw): over its group's output channels and every tap (kh, kw), dz at the output
    /// whose window puts that tap on (ih, iw), times the tap's weight; added to dx when <paramref name="accumulate"/> is 1.
    /// </summary>
    internal static void InputGradientKernel(Index1D index, ArrayView<float> dx, ArrayView<float> dz, ArrayView<float> weight, ConvolutionShape s, int accumulate)
    {
        int i = index;
        int w = i % s.InWidth;
        int rest = i / s.InWidth;
        int h = rest % s.InHeight;
        rest /= s.InHeight;
        int channel = rest % s.InChannels;
        int n = rest / s.InChannels;
        int group = channel / s.GroupInChannels;
        int c = channel - (group * s.GroupInChannels);
        int taps = s.KernelHeight * s.KernelWidth;
        float sum = 0f;
        for (int g = 0; g < s.GroupOutChannels; g++)
        {
            int oc = (group * s.GroupOutChannels) + g;
            int outPlane = ((n * s.OutChannels) + oc) * s.OutHeight;
            int filter = ((oc * s.GroupInChannels) + c) * taps; // W[oc, c, 0, 0]
            for (int kh = 0; kh < s.KernelHeight; kh++)
            {
                // Output row oh puts tap kh on row h when oh StrideHeight - PaddingHeight + kh DilationHeight = h.
                int th = h + s.PaddingHeight - (kh * s.DilationHeight);
                if (th < 0)
                {
                    break; // th falls with kh
                }

                int oh = th / s.StrideHeight;
                if (oh * s.StrideHeight != th || oh >= s.OutHeight)
                {
                    continue;
                }

                int outLine = (outPlane + oh) * s.OutWidth;
                int kernelRow = filter + (kh * s.KernelWidth);
                for (int kw = 0; kw < s.KernelWidth; kw++)
                {
                    int tw = w + s.PaddingWidth - (kw * s.DilationWidth);
                    if (tw < 0)
                    {
                        break;
                    }

                    int ow = tw / s.StrideWidth;
                    if (ow * s.StrideWidth == tw && ow < s.OutWidth)
                    {
                        sum += dz[outLine + ow] * weight[kernelRow + kw];
                    }
                }
            }
        }

        dx[i] = accumulate != 0 ? dx[i] + sum : sum;
    }
}

/// <summary>
/// A convolution's sizes as the GPU kernels read them: the batch and <see cref="Conv2dGeometry"/>'s sizes, with the
/// output's height and width and the channels per group worked out once on the host. Public because ILGPU's CPU
/// accelerator emits, in an assembly of its own, a launcher that takes it as an argument.
/// </summary>
public readonly struct ConvolutionShape
{
    public readonly int Batch;
    public readonly int InChannels;
    public readonly int InHeight;
    public readonly int InWidth;
    public readonly int OutChannels;
    public readonly int OutHeight;
    public readonly int OutWidth;
    public readonly int KernelHeight;
    public readonly int KernelWidth;
    public readonly int StrideHeight;
    public readonly int StrideWidth;
    public readonly int PaddingHeight;
    public readonly int PaddingWidth;
    public readonly int DilationHeight;
    public readonly int DilationWidth;
    public readonly int GroupInChannels;
    public readonly int GroupOutChannels;

    /// <summary>The shape of <paramref name="batch"/> samples of the (validated) <paramref name="g"/>.</summary>
    internal ConvolutionShape(int batch, in Conv2dGeometry g)
    {
        Batch = batch;
        InChannels = g.InChannels;
        InHeight = g.InHeight;
        InWidth = g.InWidth;
        OutChannels = g.OutChannels;
        OutHeight = g.OutHeight;
        OutWidth = g.OutWidth;
        KernelHeight = g.KernelHeight;
        KernelWidth = g.KernelWidth;
        StrideHeight = g.StrideHeight;
        StrideWidth = g.StrideWidth;
        PaddingHeight = g.PaddingHeight;
        PaddingWidth = g.PaddingWidth;
        DilationHeight = g.DilationHeight;
        DilationWidth = g.DilationWidth;
        GroupInChannels = g.GroupInChannels;
        GroupOutChannels = g.GroupOutChannels;
    }
}
