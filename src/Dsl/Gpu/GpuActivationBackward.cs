using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Gpu;

/// <summary>
/// dz = dy * phi'(z) element-wise on the GPU, for an activation whose derivative is not fused into a GEMM
/// (the last layer's, between the loss gradient and its Dense backward). The GPU twin of
/// <c>Dsl.Ops.ActivationBackward</c>.
/// </summary>
public sealed class GpuActivationBackward<TActivation> : IGpuActivationBackward
    where TActivation : struct, IGpuActivation
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, TActivation> _launch;
    private readonly TActivation _activation;

    /// <summary>Loads (once per accelerator) the kernel specialised for <typeparamref name="TActivation"/>.</summary>
    public GpuActivationBackward(GpuAccelerator gpu, TActivation activation)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        _activation = activation;
        _launch = gpu.Kernel(
            (Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, TActivation>)Kernel,
            accelerator => accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, TActivation>(Kernel));
    }

    /// <inheritdoc />
    public bool NeedsPreActivation => _activation.NeedsPreActivation;

    /// <summary>dz[i] = dy[i] * phi'(z[i], y[i]) for i in [0, count).</summary>
    /// <param name="dPreActivation">dz (count), overwritten.</param>
    /// <param name="dOutput">dy (count).</param>
    /// <param name="preActivation">z (count) when phi' reads z; otherwise y again.</param>
    /// <param name="output">y (count).</param>
    public void Apply(AcceleratorStream stream, ArrayView<float> dPreActivation, ArrayView<float> dOutput, ArrayView<float> preActivation, ArrayView<float> output, int count)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _launch(stream, count, dPreActivation, dOutput, preActivation, output, _activation);
    }

    /// <summary>One thread per element.</summary>
    internal static void Kernel(Index1D index, ArrayView<float> dPreActivation, ArrayView<float> dOutput, ArrayView<float> preActivation, ArrayView<float> output, TActivation activation)
        => dPreActivation[index] = dOutput[index] * activation.Derivative(preActivation[index], output[index]);
}
