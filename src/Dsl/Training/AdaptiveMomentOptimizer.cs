using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Dsl.Gpu;
using ILGPU;
using ILGPU.Runtime;

namespace Dsl.Training;

/// <summary>
/// What <see cref="Adam"/> and <see cref="AdamW"/> share: the hyperparameters, the first and second
/// moment state, and the fused update pass. They differ only in how the weight decay enters.
/// </summary>
public abstract class AdaptiveMomentOptimizer : Optimizer
{
    private float[] _firstMoment = [];  // (parameterCount) m
    private float[] _secondMoment = []; // (parameterCount) v

    // Device state while bound to a GPU: m and v.
    private MemoryBuffer1D<float, Stride1D.Dense>? _deviceFirstMoment;  // (parameterCount) m
    private MemoryBuffer1D<float, Stride1D.Dense>? _deviceSecondMoment; // (parameterCount) v

    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range.</exception>
    private protected AdaptiveMomentOptimizer(float learningRate, float beta1, float beta2, float epsilon, float weightDecay)
        : base(learningRate)
    {
        RequireUnitInterval(beta1, nameof(beta1));
        RequireUnitInterval(beta2, nameof(beta2));
        RequireFiniteNonNegative(epsilon, nameof(epsilon));
        RequireFiniteNonNegative(weightDecay, nameof(weightDecay));
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>Decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>Weight decay coefficient (an L2 penalty for Adam, decoupled for AdamW).</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    protected override void AllocateState(int length)
    {
        _firstMoment = new float[length];
        _secondMoment = new float[length];
    }

    /// <inheritdoc />
    protected override void ReleaseState()
    {
        _firstMoment = [];
        _secondMoment = [];
    }

    /// <inheritdoc />
    private protected override int CheckpointBufferCount => 2;

    /// <inheritdoc />
    private protected override void CopyStateBuffer(int index, GpuAccelerator? place, Span<float> destination)
    {
        if (place is null)
        {
            (index == 0 ? _firstMoment : _secondMoment).CopyTo(destination);
        }
        else if (!destination.IsEmpty)
        {
            (index == 0 ? _deviceFirstMoment : _deviceSecondMoment)!.View.AsContiguous().CopyToCPU(place.Accelerator.DefaultStream, destination);
            place.Accelerator.DefaultStream.Synchronize();
        }
    }

    /// <inheritdoc />
    private protected override void WriteStateBuffer(int index, GpuAccelerator? place, ReadOnlySpan<float> source)
    {
        if (place is null)
        {
            source.CopyTo(index == 0 ? _firstMoment : _secondMoment);
        }
        else if (!source.IsEmpty)
        {
            (index == 0 ? _deviceFirstMoment : _deviceSecondMoment)!.View.AsContiguous().CopyFromCPU(place.Accelerator.DefaultStream, source);
        }
    }

    /// <inheritdoc />
    private protected override GpuUpdateRule DeviceRule => GpuUpdateRule.Adam;

    /// <inheritdoc />
    private protected override void AllocateDeviceState(GpuAccelerator gpu, AcceleratorStream stream, int length)
    {
        if (length == 0)
        {
            return;
        }

        _deviceFirstMoment = gpu.Accelerator.Allocate1D<float>(length);
        try
        {
            _deviceSecondMoment = gpu.Accelerator.Allocate1D<float>(length);
        }
        catch
        {
            ReleaseDeviceState();
            throw;
        }

        _deviceFirstMoment.View.MemSetToZero(stream);
        _deviceSecondMoment.View.MemSetToZero(stream);
    }

    /// <inheritdoc />
    private protected override void ReleaseDeviceState()
    {
        _deviceFirstMoment?.Dispose();
        _deviceSecondMoment?.Dispose();
        _deviceFirstMoment = null;
        _deviceSecondMoment = null;
    }

    /// <inheritdoc />
    private protected override GpuParameterUpdate DeviceUpdate(ArrayView<float> parameters)
    {
        (float l2Penalty, float shrink) = WeightDecayTerms();
        AdamStepScalars step = Scalars(StepLearningRate, Beta1, Beta2, Epsilon, l2Penalty, shrink, StepCount);
        // An empty buffer has no state buffers (and the update is never applied).
        ArrayView<float> firstMoment = _deviceFirstMoment is null ? ArrayView<float>.Empty : _deviceFirstMoment.View.AsContiguous();
        ArrayView<float> secondMoment = _deviceSecondMoment is null ? ArrayView<float>.Empty : _deviceSecondMoment.View.AsContiguous();
        return GpuParameterUpdate.ForAdam(parameters, firstMoment, secondMoment, step);
    }

    /// <summary>
    /// How the weight decay enters this optimizer's update: as an L2 penalty added to the gradient (Adam) or as a
    /// shrink factor on the parameter (AdamW); 0 and 1 for none.
    /// </summary>
    private protected abstract (float L2Penalty, float Shrink) WeightDecayTerms();

    /// <inheritdoc />
    protected sealed override void Update(Span<float> parameters, ReadOnlySpan<float> gradients) => UpdateStretch(parameters, gradients, 0, decays: true);

    private protected sealed override bool UpdatesStretches => true;

    internal sealed override bool HasWeightDecay => WeightDecay != 0f;

    private protected sealed override void UpdateStretch(Span<float> parameters, ReadOnlySpan<float> gradients, int start, bool decays)
    {
        (float l2Penalty, float shrink) = decays ? WeightDecayTerms() : (0f, 1f);
        AdamStep(
            parameters, _firstMoment.AsSpan(start, parameters.Length), _secondMoment.AsSpan(start, parameters.Length), gradients,
            StepLearningRate, Beta1, Beta2, Epsilon, l2Penalty, shrink, StepCount);
    }

    /// <summary>The scalars of update <paramref name="step"/> (from 1), bias corrections in double: shared by the host pass and the device kernel.</summary>
    private static AdamStepScalars Scalars(float learningRate, float beta1, float beta2, float epsilon, float l2Penalty, float shrink, long step)
    {
        double biasCorrection1 = 1.0 - Math.Pow(beta1, step);
        double biasCorrection2 = 1.0 - Math.Pow(beta2, step);
        return new AdamStepScalars
        {
            Beta1 = beta1,
            Beta2 = beta2,
            OneMinusBeta1 = 1f - beta1,
            OneMinusBeta2 = 1f - beta2,
            Epsilon = epsilon,
            L2Penalty = l2Penalty,
            Shrink = shrink,
            StepSize = (float)(learningRate / biasCorrection1),
            InverseRootCorrection2 = (float)(1.0 / Math.Sqrt(biasCorrection2)),
            HasPenalty = l2Penalty != 0f ? 1 : 0,
            HasShrink = shrink != 1f ? 1 : 0,
        };
    }

    /// <summary>
    /// One fused Adam pass, shared by <see cref="Adam"/> and <see cref="AdamW"/>: each parameter is first multiplied by
    /// <paramref name="shrink"/> (AdamW's decoupled decay; 1 for none), then <paramref name="l2Penalty"/> times it
    /// is added to its gradient (Adam's weight decay; 0 for none). Bias corrections for step
    /// <paramref name="step"/> (from 1) are computed in double.
    /// </summary>
    private protected static void AdamStep(
        Span<float> parameters,       // (parameterCount)
        Span<float> firstMoment,      // (parameterCount)
        Span<float> secondMoment,     // (parameterCount)
        ReadOnlySpan<float> gradients, // (parameterCount)
        float learningRate,
        float beta1,
        float beta2,
        float epsilon,
        float l2Penalty,
        float shrink,
        long step)
    {
        AdamStepScalars scalars = Scalars(learningRate, beta1, beta2, epsilon, l2Penalty, shrink, step);
        float stepSize = scalars.StepSize;
        float inverseRootCorrection2 = scalars.InverseRootCorrection2;
        float oneMinusBeta1 = scalars.OneMinusBeta1;
        float oneMinusBeta2 = scalars.OneMinusBeta2;
        bool hasPenalty = scalars.HasPenalty != 0;
        bool hasShrink = scalars.HasShrink != 0;

        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float m = ref MemoryMarshal.GetReference(firstMoment);
        ref float v = ref MemoryMarshal.GetReference(secondMoment);
        ref float dp = ref MemoryMarshal.GetReference(gradients);
        nuint length = (nuint)parameters.Length;
        nuint i = 0;

        // The same operations lane by lane at every width, so the 512-bit, 256-bit and scalar loops give the same bits.
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            Vector512<float> b1 = Vector512.Create(beta1);
            Vector512<float> b2 = Vector512.Create(beta2);
            Vector512<float> c1 = Vector512.Create(oneMinusBeta1);
            Vector512<float> c2 = Vector512.Create(oneMinusBeta2);
            Vector512<float> penalty = Vector512.Create(l2Penalty);
            Vector512<float> shrinkFactor = Vector512.Create(shrink);
            Vector512<float> eps = Vector512.Create(epsilon);
            Vector512<float> rootCorrection = Vector512.Create(inverseRootCorrection2);
            Vector512<float> negativeStep = Vector512.Create(-stepSize);
            for (; i <= length - (nuint)Vector512<float>.Count; i += (nuint)Vector512<float>.Count)
            {
                Vector512<float> pv = Vector512.LoadUnsafe(ref p, i);
                if (hasShrink)
                {
                    pv *= shrinkFactor;
                }

                Vector512<float> g = Vector512.LoadUnsafe(ref dp, i);
                if (hasPenalty)
                {
                    g = Vector512.FusedMultiplyAdd(penalty, pv, g);
                }

                Vector512<float> mv = Vector512.FusedMultiplyAdd(b1, Vector512.LoadUnsafe(ref m, i), c1 * g);
                Vector512<float> vv = Vector512.FusedMultiplyAdd(b2, Vector512.LoadUnsafe(ref v, i), c2 * g * g);
                mv.StoreUnsafe(ref m, i);
                vv.StoreUnsafe(ref v, i);
                Vector512<float> denominator = Vector512.FusedMultiplyAdd(Vector512.Sqrt(vv), rootCorrection, eps);
                Vector512.FusedMultiplyAdd(negativeStep, mv / denominator, pv).StoreUnsafe(ref p, i);
            }
        }

        if (length - i >= (nuint)Vector256<float>.Count)
        {
            Vector256<float> b1 = Vector256.Create(beta1);
            Vector256<float> b2 = Vector256.Create(beta2);
            Vector256<float> c1 = Vector256.Create(oneMinusBeta1);
            Vector256<float> c2 = Vector256.Create(oneMinusBeta2);
            Vector256<float> penalty = Vector256.Create(l2Penalty);
            Vector256<float> shrinkFactor = Vector256.Create(shrink);
            Vector256<float> eps = Vector256.Create(epsilon);
            Vector256<float> rootCorrection = Vector256.Create(inverseRootCorrection2);
            Vector256<float> negativeStep = Vector256.Create(-stepSize);
            for (; i <= length - (nuint)Vector256<float>.Count; i += (nuint)Vector256<float>.Count)
            {
                Vector256<float> pv = Vector256.LoadUnsafe(ref p, i);
                if (hasShrink)
                {
                    pv *= shrinkFactor;
                }

                Vector256<float> g = Vector256.LoadUnsafe(ref dp, i);
                if (hasPenalty)
                {
                    g = Vector256.FusedMultiplyAdd(penalty, pv, g);
                }

                Vector256<float> mv = Vector256.FusedMultiplyAdd(b1, Vector256.LoadUnsafe(ref m, i), c1 * g);
                Vector256<float> vv = Vector256.FusedMultiplyAdd(b2, Vector256.LoadUnsafe(ref v, i), c2 * g * g);
                mv.StoreUnsafe(ref m, i);
                vv.StoreUnsafe(ref v, i);
                Vector256<float> denominator = Vector256.FusedMultiplyAdd(Vector256.Sqrt(vv), rootCorrection, eps);
                Vector256.FusedMultiplyAdd(negativeStep, mv / denominator, pv).StoreUnsafe(ref p, i);
            }
        }

        for (; i < length; i++)
        {
            float pv = Unsafe.Add(ref p, i);
            if (hasShrink)
            {
                pv *= shrink;
            }

            float g = Unsafe.Add(ref dp, i);
            if (hasPenalty)
            {
                g = MathF.FusedMultiplyAdd(l2Penalty, pv, g);
            }

            float mv = MathF.FusedMultiplyAdd(beta1, Unsafe.Add(ref m, i), oneMinusBeta1 * g);
            float vv = MathF.FusedMultiplyAdd(beta2, Unsafe.Add(ref v, i), oneMinusBeta2 * g * g);
            Unsafe.Add(ref m, i) = mv;
            Unsafe.Add(ref v, i) = vv;
            float denominator = MathF.FusedMultiplyAdd(MathF.Sqrt(vv), inverseRootCorrection2, epsilon);
            Unsafe.Add(ref p, i) = MathF.FusedMultiplyAdd(-stepSize, mv / denominator, pv);
        }
    }
}
