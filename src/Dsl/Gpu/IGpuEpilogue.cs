namespace Dsl.Gpu;

/// <summary>
/// What a GPU GEMM does with each finished output element, specialised at compile time: the GEMM kernel is
/// generic over <c>TEpilogue : struct, IGpuEpilogue</c>, so ILGPU inlines <see cref="Store"/> into it. The
/// struct carries the views it writes (the output C, side outputs such as the pre-activation) as fields.
/// </summary>
/// <remarks>
/// The CPU GEMM's <c>Dsl.Cpu.IEpilogue</c> works on pinned stretches of a row (spans and pointers, which ILGPU
/// cannot compile), so the two backends have separate epilogue structs; what they share is the math inside
/// them: the activation structs (<c>Dsl.Ops.IActivation</c>), whose scalar forms both backends call.
/// </remarks>
public interface IGpuEpilogue
{
    /// <summary>
    /// Called exactly once for every output element C[row, column] with the whole K reduction in
    /// <paramref name="sum"/>; stores it (after whatever the epilogue does) and any side outputs.
    /// </summary>
    void Store(int row, int column, float sum);
}
