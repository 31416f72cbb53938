using ILGPU.Runtime;
using ILGPU;

namespace Dsl.Gpu;

/// <summary>
/// From an <see cref="Activation"/> known only at run time to the GPU kernels specialised on its struct: the runtime's
/// sequences create their layers here. Each (widths, activation, previous activation) is its own set of kernels, so a
/// layer keeps every size and activation folded in, as kernels written for the network would.
/// </summary>
public static class GpuActivationDispatch
{
    /// <summary>A dense layer of widths <typeparamref name="TWidths"/> with activation phi after a layer with phiPrev.</summary>
    /// <param name="activation">phi, this layer's activation (<paramref name="slope"/> for LeakyRelu).</param>
    /// <param name="previous">phiPrev, whose derivative the layer's dX GEMM fuses; Identity for the first layer.</param>
    public static IGpuDenseLayer CreateDense<TWidths>(GpuAccelerator gpu, Activation activation, float slope, Activation previous, float previousSlope)
        where TWidths : struct, IDenseWidths
        => With<IGpuDenseLayer, DenseOfActivation<TWidths>>(activation, slope, new DenseOfActivation<TWidths>(gpu, previous, previousSlope));

    /// <summary>dz = dy * phi'(z) element-wise, for an activation whose derivative no GEMM fuses (the output layer's).</summary>
    public static IGpuActivationBackward CreateBackward(GpuAccelerator gpu, Activation activation, float slope)
        => With<IGpuActivationBackward, BackwardOf>(activation, slope, new BackwardOf(gpu));

    /// <summary>y = phi(x) element-wise, for a standalone activation layer.</summary>
    public static IGpuActivationForward CreateForward(GpuAccelerator gpu, Activation activation, float slope)
        => With<IGpuActivationForward, ForwardOf>(activation, slope, new ForwardOf(gpu));

    /// <summary>Calls <paramref name="user"/> with the GPU struct of <paramref name="activation"/>.</summary>
    private static TResult With<TResult, TUser>(Activation activation, float slope, TUser user)
        where TUser : IActivationUser<TResult>
        => activation switch
        {
            Activation.Identity => user.Use(new GpuIdentity()),
            Activation.Relu => user.Use(new GpuRelu()),
            Activation.LeakyRelu => user.Use(new GpuLeakyRelu(slope)),
            Activation.Gelu => user.Use(new GpuGelu()),
            Activation.Silu => user.Use(new GpuSilu()),
            Activation.Tanh => user.Use(new GpuTanh()),
            Activation.Sigmoid => user.Use(new GpuSigmoid()),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
        };

    private interface IActivationUser<TResult>
    {
        TResult Use<TActivation>(TActivation activation)
            where TActivation : struct, IGpuActivation;
    }

    private readonly struct DenseOfActivation<TWidths>(GpuAccelerator gpu, Activation previous, float previousSlope) : IActivationUser<IGpuDenseLayer>
        where TWidths : struct, IDenseWidths
    {
        public IGpuDenseLayer Use<TActivation>(TActivation activation)
            where TActivation : struct, IGpuActivation
            => With<IGpuDenseLayer, DenseAfter<TWidths, TActivation>>(previous, previousSlope, new DenseAfter<TWidths, TActivation>(gpu, activation));
    }

    private readonly struct DenseAfter<TWidths, TActivation>(GpuAccelerator gpu, TActivation activation) : IActivationUser<IGpuDenseLayer>
        where TWidths : struct, IDenseWidths
        where TActivation : struct, IGpuActivation
    {
        public IGpuDenseLayer Use<TPrevious>(TPrevious previous)
            where TPrevious : struct, IGpuActivation
            => new GpuDense<TWidths, TActivation, TPrevious>(gpu, activation, previous);
    }

    private readonly struct ForwardOf(GpuAccelerator gpu) : IActivationUser<IGpuActivationForward>
    {
        public IGpuActivationForward Use<TActivation>(TActivation activation)
            where TActivation : struct, IGpuActivation
            => new GpuActivationForward<TActivation>(gpu, activation);
    }

    private readonly struct BackwardOf(GpuAccelerator gpu) : IActivationUser<IGpuActivationBackward>
    {
        public IGpuActivationBackward Use<TActivation>(TActivation activation)
            where TActivation : struct, IGpuActivation
            => new GpuActivationBackward<TActivation>(gpu, activation);
    }
}

/// <summary>dz = dy * phi'(z, y) element-wise on the GPU, whatever phi (see <see cref="GpuActivationBackward{TActivation}"/>).</summary>
public interface IGpuActivationBackward
{
    /// <summary>True when phi' reads z, so <c>preActivation</c> must hold z rather than y.</summary>
    bool NeedsPreActivation { get; }

    void Apply(AcceleratorStream stream, ArrayView<float> dPreActivation, ArrayView<float> dOutput, ArrayView<float> preActivation, ArrayView<float> output, int count);
}
