using System.Numerics.Tensors;

namespace Dsl.Ops;

/// <summary>
/// The residual connection on the CPU, y = skip + scale * branch (x + f(x) with scale 1; a scaled branch such as
/// x + f(x) / sqrt(depth) otherwise): forward and backward side by side. Shapes: all (rows, features), flat.
/// </summary>
/// <remarks>
/// skip is a value with two consumers (the branch and this add), so its gradient is the sum of both: the backward adds
/// dy into dSkip when asked to accumulate, as llm.c's residual backward does.
/// </remarks>
public static class ResidualAdd
{
    /// <param name="output">y, written (it may be skip or branch itself).</param>
    public static void Forward(Span<float> output, ReadOnlySpan<float> skip, ReadOnlySpan<float> branch, float scale)
    {
        CheckLengths(output.Length, skip.Length, branch.Length);
        if (scale == 1f)
        {
            TensorPrimitives.Add(skip, branch, output);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(branch, scale, skip, output);
        }
    }

    /// <summary>dSkip (+)= dy; dBranch = scale * dy.</summary>
    /// <param name="dSkip">Added to when <paramref name="accumulateSkip"/>, else overwritten.</param>
    /// <param name="dBranch">Overwritten (it may be dy itself).</param>
    public static void Backward(Span<float> dSkip, Span<float> dBranch, ReadOnlySpan<float> dOutput, float scale, bool accumulateSkip)
    {
        CheckLengths(dOutput.Length, dSkip.Length, dBranch.Length);
        if (accumulateSkip)
        {
            TensorPrimitives.Add(dSkip, dOutput, dSkip);
        }
        else
        {
            dOutput.CopyTo(dSkip);
        }

        TensorPrimitives.Multiply(dOutput, scale, dBranch);
    }

    private static void CheckLengths(int output, int skip, int branch)
    {
        if (skip != output || branch != output)
        {
            throw new ArgumentException($"All three buffers must have one length; got {output}, {skip} and {branch}.");
        }
    }
}
