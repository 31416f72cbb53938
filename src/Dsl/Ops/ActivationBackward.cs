using System.Runtime.Intrinsics;

namespace Dsl.Ops;

/// <summary>
/// dz = dy * phi'(z) element-wise, for an activation whose derivative is not fused into a GEMM
/// (the last layer's, between the loss gradient and its Dense backward).
/// </summary>
public static class ActivationBackward
{
    /// <param name="dPreActivation">dz (n), overwritten; it may be dOutput itself (element by element in place), and alias nothing else.</param>
    /// <param name="dOutput">dy (n).</param>
    /// <param name="preActivation">z (n) when phi' reads z; otherwise y again.</param>
    /// <param name="output">y (n).</param>
    public static void Apply<TActivation>(Span<float> dPreActivation, ReadOnlySpan<float> dOutput, ReadOnlySpan<float> preActivation, ReadOnlySpan<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        int n = dPreActivation.Length;
        if (dOutput.Length != n || preActivation.Length != n || output.Length != n)
        {
            throw new ArgumentException($"All buffers must hold {n} floats: dOutput {dOutput.Length}, preActivation {preActivation.Length}, output {output.Length}.");
        }

        int i = 0;
        for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256<float> derivative = activation.Derivative(Vector256.Create(preActivation.Slice(i, 8)), Vector256.Create(output.Slice(i, 8)));
            (Vector256.Create(dOutput.Slice(i, 8)) * derivative).CopyTo(dPreActivation.Slice(i, 8));
        }

        for (; i < n; i++)
        {
            dPreActivation[i] = dOutput[i] * activation.Derivative(preActivation[i], output[i]);
        }
    }
}
