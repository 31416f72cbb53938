namespace Dsl.Gpu;

/// <summary>Which kernel a GPU GEMM launch uses.</summary>
public enum GemmTile
{
    /// <summary>Decide per launch from the size of C (<see cref="GemmTileSelection.UsesWide"/>), unless the environment forces one.</summary>
    Auto,

    /// <summary>The 64 x 64 tile, 4 x 4 accumulators per thread: four times as many groups, for small and medium products.</summary>
    Standard,

    /// <summary>The 128 x 128 tile, 8 x 8 accumulators per thread: half the shared-memory reads per multiply-add, for large products.</summary>
    Wide,
}

/// <summary>
/// The choice between the GEMM's 64 x 64 and 128 x 128 kernels. <see cref="GemmTile.Auto"/> takes the wide kernel when
/// C has at least one 128 x 128 tile per multiprocessor, so that a launch still fills the GPU with a quarter as many
/// groups. The environment variable forces either kernel, for the bench to compare them.
/// </summary>
/// <remarks>
/// Neither kernel, nor this rule, has been timed on a GPU yet (none was available when they were written): the
/// rule is the usual occupancy argument, to be replaced by measurements (the bench runs W3 and W4 with both).
/// </remarks>
public static class GemmTileSelection
{
    /// <summary>The environment variable: "standard" or "wide" forces that kernel for every GEMM; unset or "auto" decides per launch.</summary>
    public const string EnvironmentVariable = "DSL_GPU_GEMM_TILE";

    /// <summary>The tile the environment asks for: <see cref="GemmTile.Auto"/> when the variable is unset.</summary>
    /// <exception cref="ArgumentException">The variable holds something other than auto, standard or wide.</exception>
    public static GemmTile FromEnvironment() => Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The tile a value of <see cref="EnvironmentVariable"/> names (case-insensitive; null or empty: <see cref="GemmTile.Auto"/>).</summary>
    /// <exception cref="ArgumentException">The value is something other than auto, standard or wide.</exception>
    public static GemmTile Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => GemmTile.Auto,
        "standard" => GemmTile.Standard,
        "wide" => GemmTile.Wide,
        _ => throw new ArgumentException($"{EnvironmentVariable} must be auto, standard or wide, not '{value}'."),
    };

    /// <summary>Whether a launch computing an <paramref name="m"/> x <paramref name="n"/> C uses the wide kernel.</summary>
    /// <param name="tile">The launcher's tile (<see cref="GemmTile.Auto"/>: decide here).</param>
    /// <param name="multiprocessors">The GPU's multiprocessor count.</param>
    public static bool UsesWide(GemmTile tile, int m, int n, int multiprocessors) => tile switch
    {
        GemmTile.Wide => true,
        GemmTile.Standard => false,
        _ => (long)((m + GpuGemm.WideTile - 1) / GpuGemm.WideTile) * ((n + GpuGemm.WideTile - 1) / GpuGemm.WideTile) >= Math.Max(1, multiprocessors),
    };
}
