using System.Collections.Generic;
using System.Globalization;
using Dsl.Generators.Model;

namespace Dsl.Generators.Graph;

internal static partial class GraphLowering
{
    /// <summary>The shape rules of convolutions and pools: each spatial axis by PyTorch's output-length formula.</summary>
    private sealed partial class Walk
    {
        /// <summary>
        /// Conv1d: (channels, length) -> (out channels, out length); Conv2d: (channels, height, width) -> (out channels,
        /// out height, out width); each axis floor((in + 2 padding - dilation (kernel - 1) - 1) / stride) + 1.
        /// </summary>
        private bool Convolution(LayerSpec layer, string path, List<int> origin)
        {
            bool twoDimensional = layer.Kind == LayerKind.Conv2d;
            string what = twoDimensional ? "Conv2d" : "Conv1d";
            if (!SpatialRank(what, path, twoDimensional, origin))
            {
                return false;
            }

            int channels = Shape[0];
            if (channels % layer.Groups != 0 || layer.Units % layer.Groups != 0)
            {
                return Error(origin, string.Format(
                    CultureInfo.InvariantCulture,
                    "{0} '{1}' of network '{2}' has {3} groups, but {4} input and {5} output channels; both must divide into the groups",
                    what, path, _network, layer.Groups, channels, layer.Units));
            }

            if (!OutputAxes(what, path, layer, twoDimensional, "kernel", origin, out long[] outAxes))
            {
                return false;
            }

            long positions = 1;
            foreach (long axis in outAxes)
            {
                positions *= axis;
            }

            long taps = (long)layer.KernelHeight * layer.Kernel;
            if (layer.Units * positions > int.MaxValue || channels * taps * positions > int.MaxValue)
            {
                _graph.Errors.Add(new GraphError(new EquatableArray<int>(origin.ToArray()), string.Format(
                    CultureInfo.InvariantCulture, "{0} '{1}' of network '{2}' writes {3} x {4} floats per sample; at most {5} fit", what, path, _network, layer.Units, positions, int.MaxValue), IsSize: true));
                return false;
            }

            long parameters = ((long)layer.Units * (channels / layer.Groups) * taps) + (layer.HasBias ? layer.Units : 0);
            var shape = new int[outAxes.Length + 1];
            shape[0] = layer.Units;
            for (int i = 0; i < outAxes.Length; i++)
            {
                shape[i + 1] = (int)outAxes[i];
            }

            return Add(twoDimensional ? NodeOp.Conv2d : NodeOp.Conv1d, path, layer, new EquatableArray<int>(shape), parameters, -1, 0, origin);
        }

        /// <summary>MaxPool and AvgPool, 1d and 2d: (channels, spatial...) -> (channels, out spatial...), no parameters.</summary>
        private bool Pool(LayerSpec layer, string path, List<int> origin)
        {
            bool twoDimensional = layer.Kind is LayerKind.MaxPool2d or LayerKind.AvgPool2d;
            string what = layer.Kind.ToString();
            if (!SpatialRank(what, path, twoDimensional, origin) || !OutputAxes(what, path, layer, twoDimensional, "window", origin, out long[] outAxes))
            {
                return false;
            }

            var shape = new int[outAxes.Length + 1];
            shape[0] = Shape[0];
            for (int i = 0; i < outAxes.Length; i++)
            {
                shape[i + 1] = (int)outAxes[i]; // each at most its input axis: padding is at most half the window
            }

            return Add(layer.Kind is LayerKind.MaxPool1d or LayerKind.MaxPool2d ? NodeOp.MaxPool : NodeOp.AvgPool, path, layer, new EquatableArray<int>(shape), 0, -1, 0, origin);
        }

        /// <summary>(channels, spatial...) -> (channels): the mean of each channel over its positions.</summary>
        private bool GlobalAvgPool(LayerSpec layer, string path, List<int> origin)
        {
            if (Shape.Count < 2)
            {
                return Error(origin, string.Format(
                    CultureInfo.InvariantCulture,
                    "GlobalAvgPool '{0}' of network '{1}' reads (channels, length) or (channels, height, width) per sample, but receives shape {2}; it has no positions to average",
                    path, _network, Format(Shape)));
            }

            return Add(NodeOp.GlobalAvgPool, path, layer, Vector(Shape[0]), 0, -1, 0, origin);
        }

        /// <summary>A one-dimensional op reads (channels, length); a two-dimensional one (channels, height, width).</summary>
        private bool SpatialRank(string what, string path, bool twoDimensional, List<int> origin)
        {
            int rank = twoDimensional ? 3 : 2;
            if (Shape.Count == rank)
            {
                return true;
            }

            string hint = Shape.Count == 1 && !twoDimensional
                ? string.Format(CultureInfo.InvariantCulture, "; declare a one-channel input as [1, {0}]", Width)
                : Shape.Count == 2 && twoDimensional
                    ? string.Format(CultureInfo.InvariantCulture, "; declare a one-channel image as [1, {0}, {1}]", Shape[0], Shape[1])
                    : string.Empty;
            return Error(origin, string.Format(
                CultureInfo.InvariantCulture,
                "{0} '{1}' of network '{2}' reads {3} per sample, but receives shape {4}{5}",
                what, path, _network, twoDimensional ? "(channels, height, width)" : "(channels, length)", Format(Shape), hint));
        }

        /// <summary>Each spatial axis's output length; an error naming the axis where no output position fits.</summary>
        private bool OutputAxes(string what, string path, LayerSpec layer, bool twoDimensional, string window, List<int> origin, out long[] outAxes)
        {
            (string Name, int In, int Kernel, int Stride, int Padding, int Dilation)[] axes = twoDimensional
                ? new[]
                {
                    ("height", Shape[1], layer.KernelHeight, layer.StrideHeight, layer.PaddingHeight, layer.DilationHeight),
                    ("width", Shape[2], layer.Kernel, layer.Stride, layer.Padding, layer.Dilation),
                }
                : new[] { ("length", Shape[1], layer.Kernel, layer.Stride, layer.Padding, layer.Dilation) };
            outAxes = new long[axes.Length];
            for (int i = 0; i < axes.Length; i++)
            {
                (string name, int size, int kernel, int stride, int padding, int dilation) = axes[i];
                long covered = ((long)dilation * (kernel - 1)) + 1;
                long span = (long)size + (2L * padding) - covered;
                if (span < 0)
                {
                    return Error(origin, string.Format(
                        CultureInfo.InvariantCulture,
                        "{0} '{1}' of network '{2}' receives {3} {4}, which with padding {5} is shorter than its {6} spans ({7} taps at dilation {8} cover {9}); no output position fits",
                        what, path, _network, name, size, padding, window, kernel, dilation, covered));
                }

                outAxes[i] = (span / stride) + 1;
            }

            return true;
        }
    }
}
