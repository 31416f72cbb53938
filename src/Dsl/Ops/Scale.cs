using System.Numerics.Tensors;

namespace Dsl.Ops;

/// <summary>
/// A constant scale on the CPU, y = factor * x, forward and backward side by side. Shapes: x, y, dy and dx (rows,
/// features), flat.
/// </summary>
public static class Scale
{
    /// <param name="output">y, written (it may be the input itself).</param>
    public static void Forward(Span<float> output, ReadOnlySpan<float> input, float factor)
    {
        CheckLengths(output.Length, input.Length);
        TensorPrimitives.Multiply(input, factor, output);
    }

    /// <summary>dx (+)= factor * dy.</summary>
    /// <param name="dInput">dx: added to when <paramref name="accumulate"/> (a value with several consumers), else overwritten.</param>
    public static void Backward(Span<float> dInput, ReadOnlySpan<float> dOutput, float factor, bool accumulate)
    {
        CheckLengths(dInput.Length, dOutput.Length);
        if (accumulate)
        {
            TensorPrimitives.MultiplyAdd(dOutput, factor, dInput, dInput);
        }
        else
        {
            TensorPrimitives.Multiply(dOutput, factor, dInput);
        }
    }

    private static void CheckLengths(int output, int input)
    {
        if (output != input)
        {
            throw new ArgumentException($"Both buffers must have one length; got {output} and {input}.");
        }
    }
}
