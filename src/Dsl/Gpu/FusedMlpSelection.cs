namespace Dsl.Gpu;

/// <summary>
/// Which GPU sequence a network's training step runs: the fully fused kernel (<see cref="FusedMlp"/>, one
/// launch for forward, loss and backward per batch tile) or the layer-by-layer kernels (a tiled GEMM per
/// product, with fused epilogues). Read once, when a network is created.
/// </summary>
/// <remarks>
/// Default: fused whenever the network qualifies (<see cref="FusedMlp.Fits(int, ReadOnlySpan{int}, ReadOnlySpan{Activation})"/>),
/// because a small network's layer-by-layer step is a dozen launches of a few microseconds each. This default
/// has not yet been measured on a GPU (no GPU was available when it was written); DSL_GPU_FUSED=0 or 1
/// forces either sequence so the bench can compare them per size.
/// </remarks>
public static class FusedMlpSelection
{
    /// <summary>The environment variable: "0" forces the layer-by-layer kernels, "1" the fused kernel where the network qualifies.</summary>
    public const string EnvironmentVariable = "DSL_GPU_FUSED";

    /// <summary>Whether a network that <paramref name="fits"/> (or not) runs the fused kernel.</summary>
    /// <exception cref="ArgumentException">DSL_GPU_FUSED is set to something other than 0 or 1.</exception>
    public static bool UseFused(bool fits)
    {
        string? forced = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return forced?.Trim() switch
        {
            null or "" => fits,
            "0" => false,
            "1" => fits,
            _ => throw new ArgumentException($"{EnvironmentVariable} must be 0 (layer-by-layer kernels) or 1 (fused kernel where the network qualifies), not '{forced}'."),
        };
    }
}
