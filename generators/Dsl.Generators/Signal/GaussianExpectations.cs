using System;

namespace Dsl.Signal;

/// <summary>
/// Expectations of an activation over a Gaussian pre-activation z ~ N(mean, variance): E[phi(z)], E[phi(z)^2],
/// E[phi'(z)] and E[phi'(z)^2]. Identity, ReLU and leaky ReLU are exact (closed forms in the normal CDF); GELU, SiLU, tanh and
/// sigmoid are integrated numerically (composite Simpson over the standard normal on [-10, 10], 800 intervals: the
/// integrands are smooth, so the error is far below what the analysis needs).
/// </summary>
internal static class GaussianExpectations
{
    private const double InverseSqrtTwoPi = 0.3989422804014327;
    private const double Limit = 10.0;
    private const int Intervals = 800;

    /// <summary>E[phi(z)], E[phi(z)^2], E[phi'(z)], E[phi'(z)^2] for z ~ N(mean, variance).</summary>
    public static (double Mean, double Square, double Derivative, double DerivativeSquare) Of(SignalActivation activation, double slope, double mean, double variance)
    {
        double sigma = Math.Sqrt(Math.Max(variance, 0.0));
        switch (activation)
        {
            case SignalActivation.Identity:
                return (mean, (mean * mean) + (sigma * sigma), 1.0, 1.0);
            case SignalActivation.Relu:
                return Rectifier(0.0, mean, sigma);
            case SignalActivation.LeakyRelu:
                return Rectifier(slope, mean, sigma);
        }

        double h = 2 * Limit / Intervals;
        double first = 0, second = 0, slopeSum = 0, derivative = 0;
        for (int i = 0; i <= Intervals; i++)
        {
            double u = -Limit + (i * h);
            double weight = (i == 0 || i == Intervals ? 1.0 : i % 2 == 1 ? 4.0 : 2.0) * InverseSqrtTwoPi * Math.Exp(-0.5 * u * u);
            double z = mean + (sigma * u);
            (double value, double slopeAt) = Evaluate(activation, z);
            first += weight * value;
            second += weight * value * value;
            slopeSum += weight * slopeAt;
            derivative += weight * slopeAt * slopeAt;
        }

        double scale = h / 3.0;
        return (first * scale, second * scale, slopeSum * scale, derivative * scale);
    }

    /// <summary>phi(z) and phi'(z) of a smooth activation.</summary>
    private static (double Value, double Derivative) Evaluate(SignalActivation activation, double z)
    {
        switch (activation)
        {
            case SignalActivation.Gelu:
            {
                double cdf = NormalCdf(z);
                double density = InverseSqrtTwoPi * Math.Exp(-0.5 * z * z);
                return (z * cdf, cdf + (z * density));
            }

            case SignalActivation.Silu:
            {
                double s = Logistic(z);
                return (z * s, s * (1 + (z * (1 - s))));
            }

            case SignalActivation.Tanh:
            {
                double t = Math.Tanh(z);
                return (t, 1 - (t * t));
            }

            default:
            {
                double s = Logistic(z);
                return (s, s * (1 - s));
            }
        }
    }

    /// <summary>
    /// phi(z) = max(z, 0) + slope min(z, 0) over N(mu, sigma^2): with a = mu / sigma, Phi = Phi(a), p = phi(a),
    /// E[max(z,0)] = mu Phi + sigma p, E[max(z,0)^2] = (mu^2 + sigma^2) Phi + mu sigma p, and the negative part by symmetry.
    /// </summary>
    private static (double, double, double, double) Rectifier(double slope, double mu, double sigma)
    {
        if (sigma == 0)
        {
            double value = mu >= 0 ? mu : slope * mu;
            double d = mu >= 0 ? 1.0 : slope;
            return (value, value * value, d, d * d);
        }

        double a = mu / sigma;
        double cdf = NormalCdf(a);
        double density = InverseSqrtTwoPi * Math.Exp(-0.5 * a * a);
        double second = (mu * mu) + (sigma * sigma);
        double positiveMean = (mu * cdf) + (sigma * density);
        double positiveSquare = (second * cdf) + (mu * sigma * density);
        double negativeMean = mu - positiveMean;           // E[min(z, 0)]
        double negativeSquare = second - positiveSquare;   // E[min(z, 0)^2]
        return (positiveMean + (slope * negativeMean), positiveSquare + (slope * slope * negativeSquare), cdf + (slope * (1 - cdf)), cdf + (slope * slope * (1 - cdf)));
    }

    private static double Logistic(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>The standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2.</summary>
    public static double NormalCdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2.0));

    /// <summary>
    /// erfc(x) to about 1e-7 relative: Numerical Recipes' Chebyshev fit erfc(|x|) = t exp(-x^2 + P(t)), t = 1/(1 + |x|/2),
    /// with erfc(-x) = 2 - erfc(x).
    /// </summary>
    private static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + (0.5 * z));
        double poly = -1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418 + (t * (-0.18628806
            + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587 + (t * (-0.82215223 + (t * 0.17087277)))))))))))))))));
        double value = t * Math.Exp((-z * z) + poly);
        return x >= 0 ? value : 2 - value;
    }
}
