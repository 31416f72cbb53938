using System.Collections.Generic;
using System.Globalization;
using Dsl.Generators.Model;

namespace Dsl.Generators.Graph;

/// <summary>A shape problem found by inference, at a layer (or at the network when LayerIndex is -1).</summary>
internal readonly record struct ShapeError(int LayerIndex, string Message, bool NeedsFlatten = false);

/// <summary>
/// Propagates one sample's shape from the declared input through every layer. Pure: used by the
/// generator (to size buffers) and by the analyzers (to report a mismatch at the attribute that causes it).
/// </summary>
internal static class ShapeInference
{
    /// <summary>
    /// Infers the output shape of each layer. Returns the errors found; <paramref name="outputs"/>
    /// holds one shape per layer up to the first error.
    /// </summary>
    public static List<ShapeError> Infer(IReadOnlyList<int> input, IReadOnlyList<LayerSpec> layers, LossKind loss, out List<int[]> outputs)
    {
        var errors = new List<ShapeError>();
        outputs = new List<int[]>(layers.Count);
        if (input.Count == 0)
        {
            errors.Add(new ShapeError(-1, "the network declares no input shape: set Input, e.g. [Network(Input = [40])]"));
            return errors;
        }

        int[] shape = new int[input.Count];
        for (int i = 0; i < input.Count; i++)
        {
            shape[i] = input[i];
        }

        for (int i = 0; i < layers.Count; i++)
        {
            LayerSpec layer = layers[i];
            switch (layer.Kind)
            {
                case LayerKind.Dense:
                    if (shape.Length != 1)
                    {
                        errors.Add(new ShapeError(i, string.Format(
                            CultureInfo.InvariantCulture,
                            "Dense layer '{0}' expects one-dimensional input (features), but receives shape {1}; insert [Flatten] public partial Layer Flatten {{ get; }} before it to read the {2} floats as features",
                            layer.PropertyName,
                            Format(shape),
                            Width(shape)), NeedsFlatten: true));
                        return errors;
                    }

                    shape = new[] { layer.Units };
                    break;
            }

            outputs.Add(shape);
        }

        if (loss == LossKind.SoftmaxCrossEntropy && layers.Count > 0 && (shape.Length != 1 || shape[0] < 2))
        {
            errors.Add(new ShapeError(layers.Count - 1, string.Format(
                CultureInfo.InvariantCulture,
                "softmax cross-entropy needs one output per class (at least 2), but the last layer '{0}' gives shape {1}",
                layers[layers.Count - 1].PropertyName,
                Format(shape))));
        }

        return errors;
    }

    private static long Width(int[] shape)
    {
        long width = 1;
        foreach (int dimension in shape)
        {
            width *= dimension;
        }

        return width;
    }

    public static string Format(IReadOnlyList<int> shape)
    {
        var parts = new string[shape.Count];
        for (int i = 0; i < shape.Count; i++)
        {
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(", ", parts) + "]";
    }
}
