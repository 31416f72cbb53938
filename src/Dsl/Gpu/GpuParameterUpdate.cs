using System.Globalization;
using ILGPU;

namespace Dsl.Gpu;

/// <summary>
/// One optimizer step's update for parameters on the device, as a value: which rule (<see cref="GpuUpdateRule"/>), views of
/// the parameter buffer and of the optimizer's state buffers laid out like it, and the step's scalars. A kernel that
/// finishes gradients takes the matching rule struct (<see cref="Sgd"/>, <see cref="Adam"/>, or <see cref="NoUpdate"/>) as a
/// type parameter and applies it to each parameter the moment its gradient is final. The standalone update kernel
/// (<see cref="GpuOptimizerKernels"/>) applies it to every parameter of the buffer; the generated training steps apply it where
/// the gradients are finished, so no separate update pass runs: layer by layer inside each weight-gradient GEMM
/// epilogue and bias reduction, fully fused inside the reduction of the groups' gradient slots (<see cref="FusedMlpLauncher"/>).
/// </summary>
/// <remarks>
/// <para>
/// Obtained from <see cref="Dsl.Training.Optimizer.BeginDeviceStep"/> (which checks, binds the optimizer's state and
/// counts the step) or <see cref="None"/> (gradients only). <see cref="At"/> shifts the origin to a layer's slice, so the
/// kernel that computes the slice's gradients indexes from 0.
/// </para>
/// <para>
/// Contract for whoever applies it: exactly once for every parameter of the buffer, each after the step's last read
/// of that parameter's old value (a layer's input gradient reads W, so it runs before that layer's weight-gradient
/// kernel). Every rule is element-wise: parameter i's update reads and writes only index i.
/// </para>
/// </remarks>
public readonly struct GpuParameterUpdate
{
    private readonly long _origin;                  // index in the whole buffer of this value's index 0
    private readonly ArrayView<float> _parameters;  // (parameterCount)
    private readonly ArrayView<float> _firstState;  // SGD: momentum buffer, or empty without momentum; Adam: m. (parameterCount)
    private readonly ArrayView<float> _secondState; // Adam: v (parameterCount); else empty
    private readonly SgdStep _sgd;
    private readonly AdamStepScalars _adam;

    private GpuParameterUpdate(GpuUpdateRule rule, long origin, ArrayView<float> parameters, ArrayView<float> firstState, ArrayView<float> secondState, SgdStep sgd, AdamStepScalars adam)
    {
        Rule = rule;
        _origin = origin;
        _parameters = parameters;
        _firstState = firstState;
        _secondState = secondState;
        _sgd = sgd;
        _adam = adam;
    }

    /// <summary>No update: kernels that take one only compute and store gradients.</summary>
    public static GpuParameterUpdate None => default;

    /// <summary>Which rule this update applies.</summary>
    public GpuUpdateRule Rule { get; }

    /// <summary>True for <see cref="None"/>.</summary>
    public bool IsNone => Rule == GpuUpdateRule.None;

    /// <summary>The SGD rule, for a kernel specialised for it; only when <see cref="Rule"/> is <see cref="GpuUpdateRule.Sgd"/>.</summary>
    /// <exception cref="InvalidOperationException">The rule is another one.</exception>
    public SgdUpdate Sgd => Rule == GpuUpdateRule.Sgd
        ? new SgdUpdate(_origin, _parameters, _firstState, _sgd)
        : throw new InvalidOperationException($"This update is {Rule}, not SGD.");

    /// <summary>The Adam/AdamW rule, for a kernel specialised for it; only when <see cref="Rule"/> is <see cref="GpuUpdateRule.Adam"/>.</summary>
    /// <exception cref="InvalidOperationException">The rule is another one.</exception>
    public AdamUpdate Adam => Rule == GpuUpdateRule.Adam
        ? new AdamUpdate(_origin, _parameters, _firstState, _secondState, _adam)
        : throw new InvalidOperationException($"This update is {Rule}, not Adam.");

    /// <summary>torch.optim.SGD's update (dampening 0) of <paramref name="parameters"/>, with the momentum buffer when it has one.</summary>
    internal static GpuParameterUpdate ForSgd(ArrayView<float> parameters, ArrayView<float> momentumBuffer, SgdStep step)
        => new(GpuUpdateRule.Sgd, 0, parameters, momentumBuffer, ArrayView<float>.Empty, step, default);

    /// <summary>Adam's or AdamW's update of <paramref name="parameters"/> with moments m and v.</summary>
    internal static GpuParameterUpdate ForAdam(ArrayView<float> parameters, ArrayView<float> firstMoment, ArrayView<float> secondMoment, AdamStepScalars step)
        => new(GpuUpdateRule.Adam, 0, parameters, firstMoment, secondMoment, default, step);

    /// <summary>The same update with index 0 at <paramref name="offset"/> of this one: for the slice of a layer's weights or bias.</summary>
    public GpuParameterUpdate At(long offset)
        => new(Rule, _origin + offset, _parameters, _firstState, _secondState, _sgd, _adam);

    /// <summary>The same update without weight decay (SGD's and Adam's L2 penalty, AdamW's shrink): for biases and norm parameters.</summary>
    public GpuParameterUpdate WithoutDecay()
    {
        SgdStep sgd = _sgd;
        sgd.HasDecay = 0;
        sgd.WeightDecay = 0f;
        AdamStepScalars adam = _adam;
        adam.HasPenalty = 0;
        adam.L2Penalty = 0f;
        adam.HasShrink = 0;
        adam.Shrink = 1f;
        return new(Rule, _origin, _parameters, _firstState, _secondState, sgd, adam);
    }

    /// <summary>
    /// Throws unless this update is <see cref="None"/> or its buffer holds parameters [origin, origin + <paramref name="count"/>):
    /// a kernel about to apply it to <paramref name="count"/> parameters calls this before launching, since a GPU would
    /// write past a short buffer without an error.
    /// </summary>
    /// <exception cref="ArgumentException">The update's buffer does not hold the range.</exception>
    public void CheckCovers(long count, string parameterName)
    {
        if (!IsNone && (_origin < 0 || count < 0 || _origin + count > _parameters.Length))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The update's parameter buffer holds {_parameters.Length} floats; this kernel would update [{_origin}, {_origin + count})."),
                parameterName);
        }
    }
}
