using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Training;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, with the
/// semantics of <c>torch.optim.SGD</c> (dampening 0):
/// g = grad + weightDecay p; b = momentum b + g (b = g on the first step); g = nesterov ? g + momentum b : b;
/// p -= learningRate g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private float[] _momentumBuffer = []; // (parameterCount), only with momentum

    // Device state while bound to a GPU: the momentum buffer, only with momentum.
    private MemoryBuffer1D<float, Stride1D.Dense>? _deviceMomentumBuffer; // (parameterCount)

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Step size; finite and non-negative.</param>
    /// <param name="momentum">Momentum factor in [0, 1); 0 is plain SGD.</param>
    /// <param name="nesterov">Nesterov momentum; needs a positive momentum.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient; finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range.</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum.</exception>
    public Sgd(float learningRate, float momentum = 0f, bool nesterov = false, float weightDecay = 0f)
        : base(learningRate)
    {
        RequireUnitInterval(momentum, nameof(momentum));
        RequireFiniteNonNegative(weightDecay, nameof(weightDecay));
        if (nesterov && momentum == 0f)
        {
            throw new ArgumentException("Nesterov momentum needs a positive momentum (got momentum = 0).", nameof(nesterov));
        }

        Momentum = momentum;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
    }

    /// <summary>Momentum factor (0: none).</summary>
    public float Momentum { get; }

    /// <summary>Whether the momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <summary>L2 penalty coefficient added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    protected override void AllocateState(int length) => _momentumBuffer = Momentum != 0f ? new float[length] : [];

    /// <inheritdoc />
    protected override void ReleaseState() => _momentumBuffer = [];

    /// <inheritdoc />
    private protected override int CheckpointBufferCount => Momentum != 0f ? 1 : 0;

    /// <inheritdoc />
    private protected override void CopyStateBuffer(int index, GpuAccelerator? place, Span<float> destination)
    {
        if (place is null)
        {
            _momentumBuffer.CopyTo(destination);
        }
        else if (!destination.IsEmpty)
        {
            _deviceMomentumBuffer!.View.AsContiguous().CopyToCPU(place.Accelerator.DefaultStream, destination);
            place.Accelerator.DefaultStream.Synchronize();
        }
    }

    /// <inheritdoc />
    private protected override void WriteStateBuffer(int index, GpuAccelerator? place, ReadOnlySpan<float> source)
    {
        if (place is null)
        {
            source.CopyTo(_momentumBuffer);
        }
        else if (!source.IsEmpty)
        {
            _deviceMomentumBuffer!.View.AsContiguous().CopyFromCPU(place.Accelerator.DefaultStream, source);
        }
    }

    /// <inheritdoc />
    private protected override GpuUpdateRule DeviceRule => GpuUpdateRule.Sgd;

    /// <inheritdoc />
    private protected override void AllocateDeviceState(GpuAccelerator gpu, AcceleratorStream stream, int length)
    {
        if (Momentum != 0f && length > 0)
        {
            _deviceMomentumBuffer = gpu.Accelerator.Allocate1D<float>(length);
            try
            {
                _deviceMomentumBuffer.View.MemSetToZero(stream);
            }
            catch
            {
                ReleaseDeviceState();
                throw;
            }
        }
    }

    /// <inheritdoc />
    private protected override void ReleaseDeviceState()
    {
        _deviceMomentumBuffer?.Dispose();
        _deviceMomentumBuffer = null;
    }

    /// <inheritdoc />
    private protected override GpuParameterUpdate DeviceUpdate(ArrayView<float> parameters)
    {
        var step = new SgdStep
        {
            LearningRate = StepLearningRate,
            Momentum = Momentum,
            WeightDecay = WeightDecay,
            HasMomentum = Momentum != 0f ? 1 : 0,
            Nesterov = Nesterov ? 1 : 0,
            HasDecay = WeightDecay != 0f ? 1 : 0,
        };
        ArrayView<float> momentumBuffer = _deviceMomentumBuffer is null ? ArrayView<float>.Empty : _deviceMomentumBuffer.View.AsContiguous();
        return GpuParameterUpdate.ForSgd(parameters, momentumBuffer, step);
    }

    /// <inheritdoc />
    protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients) => UpdateStretch(parameters, gradients, 0, decays: true);

    private protected override bool UpdatesStretches => true;

    internal override bool HasWeightDecay => WeightDecay != 0f;

    private protected override void UpdateStretch(Span<float> parameters, ReadOnlySpan<float> gradients, int start, bool decays)
    {
        float learningRate = StepLearningRate;
        float momentum = Momentum;
        float weightDecay = decays ? WeightDecay : 0f;
        bool hasMomentum = momentum != 0f;
        bool nesterov = Nesterov;
        bool hasDecay = weightDecay != 0f;

        ref float p = ref MemoryMarshal.GetReference(parameters);          // (parameterCount)
        ref float dp = ref MemoryMarshal.GetReference(gradients);          // (parameterCount)
        // The momentum buffer from this stretch's first position, (parameterCount) or empty without momentum.
        ref float b = ref hasMomentum ? ref _momentumBuffer[start] : ref MemoryMarshal.GetArrayDataReference(_momentumBuffer);
        nuint length = (nuint)parameters.Length;
        nuint i = 0;

        // The same operations lane by lane at every width, so the 512-bit, 256-bit and scalar loops give the same bits.
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            Vector512<float> rate = Vector512.Create(-learningRate);
            Vector512<float> mu = Vector512.Create(momentum);
            Vector512<float> decay = Vector512.Create(weightDecay);
            for (; i <= length - (nuint)Vector512<float>.Count; i += (nuint)Vector512<float>.Count)
            {
                Vector512<float> pv = Vector512.LoadUnsafe(ref p, i);
                Vector512<float> g = Vector512.LoadUnsafe(ref dp, i);
                if (hasDecay)
                {
                    g = Vector512.FusedMultiplyAdd(decay, pv, g);
                }

                if (hasMomentum)
                {
                    Vector512<float> bv = Vector512.FusedMultiplyAdd(mu, Vector512.LoadUnsafe(ref b, i), g);
                    bv.StoreUnsafe(ref b, i);
                    g = nesterov ? Vector512.FusedMultiplyAdd(mu, bv, g) : bv;
                }

                Vector512.FusedMultiplyAdd(rate, g, pv).StoreUnsafe(ref p, i);
            }
        }

        if (length - i >= (nuint)Vector256<float>.Count)
        {
            Vector256<float> rate = Vector256.Create(-learningRate);
            Vector256<float> mu = Vector256.Create(momentum);
            Vector256<float> decay = Vector256.Create(weightDecay);
            for (; i <= length - (nuint)Vector256<float>.Count; i += (nuint)Vector256<float>.Count)
            {
                Vector256<float> pv = Vector256.LoadUnsafe(ref p, i);
                Vector256<float> g = Vector256.LoadUnsafe(ref dp, i);
                if (hasDecay)
                {
                    g = Vector256.FusedMultiplyAdd(decay, pv, g);
                }

                if (hasMomentum)
                {
                    Vector256<float> bv = Vector256.FusedMultiplyAdd(mu, Vector256.LoadUnsafe(ref b, i), g);
                    bv.StoreUnsafe(ref b, i);
                    g = nesterov ? Vector256.FusedMultiplyAdd(mu, bv, g) : bv;
                }

                Vector256.FusedMultiplyAdd(rate, g, pv).StoreUnsafe(ref p, i);
            }
        }

        for (; i < length; i++)
        {
            float g = Unsafe.Add(ref dp, i);
            if (hasDecay)
            {
                g = MathF.FusedMultiplyAdd(weightDecay, Unsafe.Add(ref p, i), g);
            }

            if (hasMomentum)
            {
                float bv = MathF.FusedMultiplyAdd(momentum, Unsafe.Add(ref b, i), g);
                Unsafe.Add(ref b, i) = bv;
                g = nesterov ? MathF.FusedMultiplyAdd(momentum, bv, g) : bv;
            }

            Unsafe.Add(ref p, i) = MathF.FusedMultiplyAdd(-learningRate, g, Unsafe.Add(ref p, i));
        }
    }
}
