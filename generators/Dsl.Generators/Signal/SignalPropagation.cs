using System;
using System.Collections.Generic;

namespace Dsl.Signal;

/// <summary>
/// The moments of one value at initialisation, per element: <see cref="Forward"/> = E[v^2] and <see cref="Mean"/> = E[v]
/// (both averaged over the batch and the features), <see cref="Offset"/> = the mean over features of (E_batch v_j)^2,
/// the part of the second moment that is constant across a batch (a dense layer reading a ReLU's output gives each
/// feature its own batch mean w_j . E[x]), and <see cref="Backward"/> = E[g^2] of the loss gradient g of the value, for a
/// unit Gaussian gradient at the network's output. Mean^2 &lt;= Offset &lt;= Forward.
/// </summary>
internal readonly struct SignalMoments
{
    public SignalMoments(double forward, double mean, double offset, double backward)
    {
        Forward = forward;
        Mean = mean;
        Offset = offset;
        Backward = backward;
    }

    public double Forward { get; }

    public double Mean { get; }

    public double Offset { get; }

    public double Backward { get; }
}

/// <summary>
/// Predicts, before any run, the second moments of every value of a network and of its gradient at initialisation
/// (mean-field signal propagation: zero-mean independent weights, standardised inputs, a unit gradient at the output,
/// the gradient taken independent of the forward values). One rule per op, forward in run order, backward in reverse;
/// a value read by several nodes receives the sum of their gradient moments. Each value carries E[v^2] (q), E[v] (m) and
/// the batch-constant part c (see <see cref="SignalMoments"/>): a per-sample norm (LayerNorm, RMSNorm) sees the variance
/// q - m^2 over a sample's features, a per-feature norm (BatchNorm) the variance q - c over the batch. The rules, with
/// z ~ N(m, q - m^2) where an activation reads it:
/// <list type="bullet">
/// <item>linear: z's second moment = taps per output * s2 * q + bias variance, mean 0, c = taps * s2 * c_x + bias
/// variance; y = phi(z) by <see cref="GaussianExpectations"/>, c_y = E[phi]^2 + E[phi']^2 (c_z - m_z^2) (the features'
/// spread of batch means passes through phi's mean slope); backward E[gx^2] += taps per input * s2 * E[phi'(z)^2] E[gy^2];</item>
/// <item>LayerNorm: q = v/(v + eps) with v = q - m^2, m = 0, c = (c - m^2)/(v + eps); backward E[g^2] / (v + eps) (d - 2)/d
/// over d features;</item>
/// <item>BatchNorm in training: q = v/(v + eps) with v = q - c, m = c = 0; backward E[g^2] / (v + eps) (B - 2)/(B - 3) at batch
/// size B (Yang et al., ICLR 2019). After a ReLU, v is the variance, not the second moment: the source of the gradient's
/// growth by pi/(pi - 1) per Dense-BatchNorm-ReLU layer;</item>
/// <item>RMSNorm: y = x / sqrt(q + eps); backward E[g^2] / (q + eps) (d - 1)/d;</item>
/// <item>dropout keeping p: forward and backward second moments / p (the mean and c kept); scale f: f^2;</item>
/// <item>add skip + f branch: E[y^2] = E[s^2] + f^2 E[b^2] + 2 f E[s] E[b], c likewise; the skip's gradient gets E[g^2], the
/// branch's f^2 E[g^2];</item>
/// <item>pools, positions taken uncorrelated: the max of k Gaussians by quadrature; a mean of k values has second moment
/// c + (q - c)/k; the gradient reaches one input per window (max) or each of its k inputs divided by k (mean).</item>
/// </list>
/// Gains of norms and biases are their initial values (1 and 0).
/// </summary>
internal static class SignalPropagation
{
    /// <summary>The default batch size BatchNorm's rule assumes.</summary>
    public const int DefaultBatchSize = 128;

    /// <summary>The moments of every value, index = node, for <paramref name="batchSize"/> rows per batch (BatchNorm reads it; at least 4).</summary>
    public static SignalMoments[] Propagate(IReadOnlyList<SignalNode> nodes, int batchSize = DefaultBatchSize)
    {
        int count = nodes.Count;
        var forward = new double[count];
        var mean = new double[count];
        var offset = new double[count];
        var backward = new double[count];
        // Per linear or activation node: E[phi'(z)^2].
        var derivative = new double[count];
        for (int i = 0; i < count; i++)
        {
            SignalNode node = nodes[i];
            if (node.Op == SignalOp.Input)
            {
                forward[i] = 1;
                continue;
            }

            double q = forward[node.Input];
            double m = mean[node.Input];
            double c = offset[node.Input];
            double sampleVariance = Math.Max(q - (m * m), 0.0);
            double batchVariance = Math.Max(q - c, 0.0);
            switch (node.Op)
            {
                case SignalOp.Linear:
                {
                    double pre = (node.TapsPerOutput * node.WeightVariance * q) + node.BiasVariance;
                    double preOffset = (node.TapsPerOutput * node.WeightVariance * c) + node.BiasVariance;
                    (mean[i], forward[i], offset[i], derivative[i]) = Activate(node, 0.0, pre, preOffset);
                    break;
                }

                case SignalOp.Activation:
                    (mean[i], forward[i], offset[i], derivative[i]) = Activate(node, m, q, c);
                    break;
                case SignalOp.LayerNorm:
                    forward[i] = sampleVariance / (sampleVariance + node.Epsilon);
                    offset[i] = Math.Max(c - (m * m), 0.0) / (sampleVariance + node.Epsilon);
                    break;
                case SignalOp.BatchNorm:
                    forward[i] = batchVariance / (batchVariance + node.Epsilon);
                    break;
                case SignalOp.RmsNorm:
                    forward[i] = q / (q + node.Epsilon);
                    mean[i] = m / Math.Sqrt(q + node.Epsilon);
                    offset[i] = c / (q + node.Epsilon);
                    break;
                case SignalOp.Dropout:
                    forward[i] = q / node.Keep;
                    mean[i] = m;
                    offset[i] = c;
                    break;
                case SignalOp.Scale:
                {
                    double square = node.Factor * node.Factor;
                    forward[i] = square * q;
                    mean[i] = node.Factor * m;
                    offset[i] = square * c;
                    break;
                }

                case SignalOp.Add:
                {
                    double f = node.Factor, cross = 2 * f * mean[node.Skip] * m;
                    forward[i] = forward[node.Skip] + (f * f * q) + cross;
                    mean[i] = mean[node.Skip] + (f * m);
                    offset[i] = offset[node.Skip] + (f * f * c) + cross;
                    break;
                }

                case SignalOp.MaxPool:
                {
                    // The max of k samples of each position's batch distribution; each feature keeps its batch mean's spread.
                    double spread = Math.Max(c - (m * m), 0.0);
                    (double maxMean, double maxSquare) = MaxOfGaussians(node.Window, m, batchVariance);
                    mean[i] = maxMean;
                    forward[i] = maxSquare + spread;
                    offset[i] = (maxMean * maxMean) + spread;
                    break;
                }

                default: // AvgPool
                    mean[i] = m;
                    offset[i] = c;
                    forward[i] = c + (batchVariance / node.Window);
                    break;
            }

            (forward[i], mean[i], offset[i]) = (Bounded(forward[i]), Math.Max(-Ceiling, Math.Min(Ceiling, mean[i])), Bounded(offset[i]));
        }

        backward[count - 1] = 1;
        for (int i = count - 1; i > 0; i--)
        {
            SignalNode node = nodes[i];
            double g = backward[i];
            int input = node.Input;
            double q = forward[input];
            switch (node.Op)
            {
                case SignalOp.Linear:
                    backward[input] += node.TapsPerInput * node.WeightVariance * derivative[i] * g;
                    break;
                case SignalOp.Activation:
                    backward[input] += derivative[i] * g;
                    break;
                case SignalOp.LayerNorm:
                {
                    double variance = Math.Max(q - (mean[input] * mean[input]), 0.0);
                    backward[input] += g / (variance + node.Epsilon) * Math.Max(node.Features - 2, 0) / node.Features;
                    break;
                }

                case SignalOp.BatchNorm:
                {
                    double variance = Math.Max(q - offset[input], 0.0);
                    backward[input] += g / (variance + node.Epsilon) * (batchSize - 2.0) / (batchSize - 3.0);
                    break;
                }

                case SignalOp.RmsNorm:
                    backward[input] += g / (q + node.Epsilon) * (node.Features - 1.0) / node.Features;
                    break;
                case SignalOp.Dropout:
                    backward[input] += g / node.Keep;
                    break;
                case SignalOp.Scale:
                    backward[input] += node.Factor * node.Factor * g;
                    break;
                case SignalOp.Add:
                    backward[node.Skip] += g;
                    backward[input] += node.Factor * node.Factor * g;
                    break;
                case SignalOp.MaxPool:
                    // Each window's gradient reaches one of its inputs: the per-input share is outputs / inputs.
                    backward[input] += g * node.Width / nodes[input].Width;
                    break;
                default: // AvgPool: each output gives g / k to each of its k inputs.
                    backward[input] += g * node.Width / ((double)node.Window * nodes[input].Width);
                    break;
            }

            backward[input] = Bounded(backward[input]);
            if (node.Op == SignalOp.Add)
            {
                backward[node.Skip] = Bounded(backward[node.Skip]);
            }
        }

        var moments = new SignalMoments[count];
        for (int i = 0; i < count; i++)
        {
            moments[i] = new SignalMoments(forward[i], mean[i], offset[i], backward[i]);
        }

        return moments;
    }

    /// <summary>
    /// y = phi(z) for z of second moment q, mean m and batch-constant part c: y's mean, second moment and batch-constant
    /// part, and E[phi'(z)^2]. Identity passes c through exactly; otherwise c_y = E[phi]^2 + E[phi']^2 (c - m^2).
    /// </summary>
    private static (double Mean, double Square, double Offset, double DerivativeSquare) Activate(SignalNode node, double m, double q, double c)
    {
        (double mean, double square, double slope, double derivativeSquare) =
            GaussianExpectations.Of(node.Activation, node.Slope, m, Math.Max(q - (m * m), 0.0));
        double offset = node.Activation == SignalActivation.Identity ? c : (mean * mean) + (slope * slope * Math.Max(c - (m * m), 0.0));
        return (mean, square, Math.Min(offset, square), derivativeSquare);
    }

    /// <summary>Where a moment stops growing: a network deep enough to overflow a double reads as exploding, never as NaN.</summary>
    private const double Ceiling = 1e300;

    /// <summary>A moment kept finite and non-negative.</summary>
    private static double Bounded(double value) => double.IsNaN(value) ? Ceiling : Math.Max(0.0, Math.Min(Ceiling, value));

    /// <summary>The forward gain of the network: E[y^2] of the output over E[x^2] of the input.</summary>
    public static double ForwardGain(IReadOnlyList<SignalMoments> moments) => moments[moments.Count - 1].Forward / moments[0].Forward;

    /// <summary>
    /// The backward gain: the squared norm of the input's gradient over the output's, per sample (E[g^2] times width,
    /// so that a narrow head reading a wide layer is not read as a vanishing gradient).
    /// </summary>
    public static double BackwardGain(IReadOnlyList<SignalNode> nodes, IReadOnlyList<SignalMoments> moments)
        => moments[0].Backward * nodes[0].Width / (moments[moments.Count - 1].Backward * nodes[nodes.Count - 1].Width);

    /// <summary>E[max] and E[max^2] of k independent N(mean, variance): the density of the max is k phi(u) Phi(u)^(k-1).</summary>
    private static (double Mean, double Square) MaxOfGaussians(int k, double mean, double variance)
    {
        double sigma = Math.Sqrt(variance);
        double first = 0, second = 0;
        foreach ((double u, double weight) in GaussianExpectations.Integrate(1.0))
        {
            double w = weight * k * Math.Pow(GaussianExpectations.NormalCdf(u), k - 1);
            double z = mean + (sigma * u);
            first += w * z;
            second += w * z * z;
        }

        return (first, second);
    }
}
