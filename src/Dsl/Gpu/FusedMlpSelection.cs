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

    /// <summary>
    /// Whether a network that <paramref name="fits"/> (or not) runs the fused kernel. Also checks
    /// <see cref="TileRowsVariable"/>, so that a typo in it is reported whichever sequence runs.
    /// </summary>
    /// <exception cref="ArgumentException">DSL_GPU_FUSED is set to something other than 0 or 1, or DSL_GPU_FUSED_TILE_ROWS to something other than 1 to 16.</exception>
    public static bool UseFused(bool fits)
    {
        _ = TileRowsFromEnvironment();
        string? forced = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return forced?.Trim() switch
        {
            null or "" => fits,
            "0" => false,
            "1" => fits,
            _ => throw new ArgumentException($"{EnvironmentVariable} must be 0 (layer-by-layer kernels) or 1 (fused kernel where the network qualifies), not '{forced}'."),
        };
    }

    /// <summary>
    /// The environment variable that fixes the fused kernel's rows per tile (1 to <see cref="FusedMlp.TileRows"/>) instead
    /// of <see cref="FusedMlp.RowsPerTile"/>'s choice per batch; read when a network's launcher is loaded. For the bench.
    /// </summary>
    public const string TileRowsVariable = "DSL_GPU_FUSED_TILE_ROWS";

    /// <summary><see cref="TileRowsVariable"/>'s value: null when unset or empty, else its rows per tile.</summary>
    /// <exception cref="ArgumentException">The variable is set to something other than 1 to 16.</exception>
    public static int? TileRowsFromEnvironment() => ParseTileRows(Environment.GetEnvironmentVariable(TileRowsVariable));

    /// <summary>A <see cref="TileRowsVariable"/> value: null for null or blank, else a whole number in [1, <see cref="FusedMlp.TileRows"/>].</summary>
    /// <exception cref="ArgumentException">Anything else.</exception>
    public static int? ParseTileRows(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int rows)
            && rows >= 1 && rows <= FusedMlp.TileRows
            ? rows
            : throw new ArgumentException($"{TileRowsVariable} must be a whole number of rows per tile from 1 to {FusedMlp.TileRows}, not '{value}'.");
    }
}
