namespace Dsl.Cpu;

/// <summary>
/// What a GEMM does to its finished output, specialised at compile time: the GEMM is generic over
/// <c>TEpilogue : struct, IEpilogue</c>, so the JIT inlines <see cref="Apply"/> into the kernel.
/// </summary>
public interface IEpilogue
{
    /// <summary>
    /// Called exactly once for every finished stretch of output: <paramref name="values"/> holds
    /// C[row, column .. column + values.Length) after the whole K reduction (and after accumulation
    /// into the previous C when the GEMM accumulates). The epilogue may rewrite the values in place
    /// and may write side outputs (e.g. the pre-activation) at the same (row, column).
    /// </summary>
    void Apply(int row, int column, Span<float> values);
}

/// <summary>The epilogue that leaves C as the plain product.</summary>
public readonly struct NoEpilogue : IEpilogue
{
    public void Apply(int row, int column, Span<float> values) { }
}
