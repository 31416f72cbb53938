using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// y = phi(x) element-wise on the GPU, for an activation no GEMM epilogue takes (a standalone activation layer). Its
/// backward is <see cref="GpuActivationBackward{TActivation}"/> with z = x.
/// </summary>
public sealed class GpuActivationForward<TActivation> : IGpuActivationForward
    where TActivation : struct, IGpuActivation
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, TActivation> _launch;
    private readonly TActivation _activation;

    /// <summary>Loads (once per accelerator) the kernel specialised for <typeparamref name="TActivation"/>.</summary>
    public GpuActivationForward(GpuAccelerator gpu, TActivation activation)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _activation = activation;
        _launch = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, TActivation>)Kernel,
            static a => a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, TActivation>(Kernel));
    }

    /// <summary>y[i] = phi(x[i]) for i in [0, count).</summary>
    public void Apply(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, int count)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (count > 0)
        {
            _launch(stream, count, output, input, _activation);
        }
    }

    internal static void Kernel(Index1D i, ArrayView<float> y, ArrayView<float> x, TActivation activation) => y[i] = activation.Forward(x[i]);
}

/// <summary>y = phi(x) element-wise on the GPU, whatever phi (see <see cref="GpuActivationForward{TActivation}"/>).</summary>
public interface IGpuActivationForward
{
    void Apply(AcceleratorStream stream, ArrayView<float> output, ArrayView<float> input, int count);
}
