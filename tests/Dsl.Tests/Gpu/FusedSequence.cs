namespace Dsl.Tests.Gpu;

/// <summary>Creates a network with DSL_GPU_FUSED set (a network chooses its GPU sequence once, when it is created).</summary>
internal static class FusedSequence
{
    public const string Variable = "DSL_GPU_FUSED";

    /// <summary>Runs <paramref name="create"/> with DSL_GPU_FUSED = <paramref name="value"/> ("0": layer by layer, "1": fused).</summary>
    public static T With<T>(string value, Func<T> create)
    {
        string? saved = Environment.GetEnvironmentVariable(Variable);
        try
        {
            Environment.SetEnvironmentVariable(Variable, value);
            return create();
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, saved);
        }
    }
}
