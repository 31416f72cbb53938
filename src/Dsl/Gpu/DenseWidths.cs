namespace Dsl.Gpu;

/// <summary>
/// A dense layer's widths as compile-time constants for its GEMM kernels
/// (<see cref="GpuDense{TWidths, TActivation, TPreviousActivation}"/>). A generated network declares one struct per
/// distinct (fanIn, units) of its layers whose properties return literals, so each layer's three GEMMs compile with every
/// size but the batch folded in; the batch stays a launch argument, so any batch size runs on the same kernels.
/// </summary>
public interface IDenseWidths
{
    /// <summary>False only for <see cref="LaunchWidths"/>: the widths then come from each launch.</summary>
    bool AreConstant { get; }

    /// <summary>Inputs per row: the previous layer's units, or the network's input width.</summary>
    int FanIn { get; }

    /// <summary>Outputs per row.</summary>
    int Units { get; }
}

/// <summary>No constant widths: the layer's kernels take them from each launch, so one kernel serves every layer shape.</summary>
public readonly struct LaunchWidths : IDenseWidths
{
    /// <inheritdoc />
    public bool AreConstant => false;

    /// <inheritdoc />
    public int FanIn => 0;

    /// <inheritdoc />
    public int Units => 0;
}

/// <summary>
/// The forward GEMM's sizes, z = x W^T: C (batch, units) from x (batch, fanIn) and W (units, fanIn) transposed,
/// i.e. m = batch from the launch, n = units, k = lda = ldb = fanIn.
/// </summary>
public readonly struct DenseForwardSizes<TWidths> : IGemmSizes
    where TWidths : struct, IDenseWidths
{
    /// <inheritdoc />
    public GemmShape Resolve(GemmShape launched)
    {
        TWidths widths = default;
        return widths.AreConstant
            ? new GemmShape(launched.M, widths.Units, widths.FanIn, widths.FanIn, widths.FanIn)
            : launched;
    }
}

/// <summary>
/// The input-gradient GEMM's sizes, dx = dz W: C (batch, fanIn) from dz (batch, units) and W (units, fanIn),
/// i.e. m = batch from the launch, n = fanIn, k = lda = units, ldb = fanIn.
/// </summary>
public readonly struct DenseInputGradientSizes<TWidths> : IGemmSizes
    where TWidths : struct, IDenseWidths
{
    /// <inheritdoc />
    public GemmShape Resolve(GemmShape launched)
    {
        TWidths widths = default;
        return widths.AreConstant
            ? new GemmShape(launched.M, widths.FanIn, widths.Units, widths.Units, widths.FanIn)
            : launched;
    }
}

/// <summary>
/// The weight-gradient GEMM's sizes, dW = dz^T x: C (units, fanIn) from dz (batch, units) transposed and x
/// (batch, fanIn), i.e. m = lda = units, n = ldb = fanIn, and the depth k = batch from the launch.
/// </summary>
public readonly struct DenseWeightGradientSizes<TWidths> : IGemmSizes
    where TWidths : struct, IDenseWidths
{
    /// <inheritdoc />
    public GemmShape Resolve(GemmShape launched)
    {
        TWidths widths = default;
        return widths.AreConstant
            ? new GemmShape(widths.Units, widths.FanIn, launched.K, widths.Units, widths.FanIn)
            : launched;
    }
}
