using Dsl;

namespace Dsl.Tests.Networks;

/// <summary>
/// A naive float64 evaluation of any generated network, read from its <see cref="INetwork.Layers"/>
/// metadata: the reference the generated float32 kernels are checked against.
/// </summary>
internal static class ReferenceNetwork
{
    /// <summary>Network outputs (batch, OutputSize) for parameters laid out as <see cref="INetwork.Parameters"/>.</summary>
    public static double[] Forward(INetwork network, double[] parameters, double[] x, int batch)
    {
        double[] activations = x;
        foreach (Layer layer in network.Layers)
        {
            var next = new double[batch * layer.Units];
            for (int b = 0; b < batch; b++)
            {
                for (int o = 0; o < layer.Units; o++)
                {
                    double z = layer.HasBias ? parameters[layer.BiasOffset + o] : 0;
                    for (int i = 0; i < layer.FanIn; i++)
                    {
                        z += activations[(b * layer.FanIn) + i] * parameters[layer.WeightOffset + (o * layer.FanIn) + i];
                    }

                    next[(b * layer.Units) + o] = Activate(layer, z);
                }
            }

            activations = next;
        }

        return activations;
    }

    /// <summary>Mean softmax cross-entropy over the batch.</summary>
    public static double CrossEntropy(double[] logits, int[] labels, int classes)
    {
        double sum = 0;
        for (int b = 0; b < labels.Length; b++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                max = Math.Max(max, logits[(b * classes) + c]);
            }

            double total = 0;
            for (int c = 0; c < classes; c++)
            {
                total += Math.Exp(logits[(b * classes) + c] - max);
            }

            sum += Math.Log(total) + max - logits[(b * classes) + labels[b]];
        }

        return sum / labels.Length;
    }

    /// <summary>Mean over all elements of (output - target)^2.</summary>
    public static double MeanSquaredError(double[] outputs, double[] targets)
    {
        double sum = 0;
        for (int i = 0; i < outputs.Length; i++)
        {
            double d = outputs[i] - targets[i];
            sum += d * d;
        }

        return sum / outputs.Length;
    }

    public static double Activate(Layer layer, double z) => layer.Activation switch
    {
        Activation.Identity => z,
        Activation.Relu => Math.Max(z, 0),
        Activation.LeakyRelu => z > 0 ? z : layer.Slope * z,
        Activation.Gelu => 0.5 * z * (1 + Erf(z / Math.Sqrt(2))),
        Activation.Silu => z / (1 + Math.Exp(-z)),
        Activation.Tanh => Math.Tanh(z),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-z)),
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer.Activation, "unknown activation"),
    };

    /// <summary>erf in float64: Maclaurin series for |x| &lt; 3 (error ~1e-13), continued fraction for erfc beyond.</summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        double result;
        if (a < 3)
        {
            double term = a, sum = a, square = a * a;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -square / n;
                sum += term / ((2 * n) + 1);
            }

            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))), evaluated bottom-up.
            double fraction = 0;
            for (int k = 60; k >= 1; k--)
            {
                fraction = k / 2.0 / (a + fraction);
            }

            result = 1 - (Math.Exp(-a * a) / Math.Sqrt(Math.PI) / (a + fraction));
        }

        return x < 0 ? -result : result;
    }
}
