using System;
using System.Collections.Generic;

namespace Dsl.Signal;

/// <summary>
/// Expectations of an activation over a Gaussian pre-activation z ~ N(mean, variance): E[phi(z)], E[phi(z)^2],
/// E[phi'(z)] and E[phi'(z)^2]. Identity, ReLU and leaky ReLU are exact (closed forms in the normal CDF); GELU, SiLU, tanh and
/// sigmoid are integrated numerically by the trapezoid rule over the standard normal on [-10, 10] (see <see cref="Integrate"/>).
/// </summary>
internal static class GaussianExpectations
{
    private const double InverseSqrtTwoPi = 0.3989422804014327;
    private const double Limit = 10.0;

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

        double first = 0, second = 0, slopeSum = 0, derivative = 0;
        foreach ((double u, double weight) in Integrate(sigma))
        {
            (double value, double slopeAt) = Evaluate(activation, mean + (sigma * u));
            first += weight * value;
            second += weight * value * value;
            slopeSum += weight * slopeAt;
            derivative += weight * slopeAt * slopeAt;
        }

        return (first, second, slopeSum, derivative);
    }

    /// <summary>
    /// The nodes u and weights of E[f(mean + sigma u)] = sum of weight f(mean + sigma u), u ~ N(0, 1): the trapezoid rule
    /// on [-10, 10]. For an integrand analytic in a strip around the real axis the rule converges geometrically in
    /// 1/h (here h = 0.1, or 0.1/sigma above sigma = 1, so tanh's poles at +-i pi/(2 sigma) stay many steps away); its
    /// error is then far below the float64 rounding of the sum, far better than a polynomial rule's at the same cost.
    /// </summary>
    public static IEnumerable<(double U, double Weight)> Integrate(double sigma)
    {
        int intervals = (int)Math.Min(2000, 200 * Math.Max(1.0, Math.Ceiling(sigma)));
        if (intervals == 200)
        {
            return StandardGrid;
        }

        return Grid(intervals);
    }

    private static readonly (double U, double Weight)[] StandardGrid = Grid(200);

    private static (double U, double Weight)[] Grid(int intervals)
    {
        double h = 2 * Limit / intervals;
        var grid = new (double, double)[intervals + 1];
        for (int i = 0; i <= intervals; i++)
        {
            double u = -Limit + (i * h);
            grid[i] = (u, (i == 0 || i == intervals ? 0.5 : 1.0) * h * InverseSqrtTwoPi * Math.Exp(-0.5 * u * u));
        }

        return grid;
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
    /// erfc(x) to about 1e-13: for |x| &lt; 3 as 1 - erf(x) from erf's Maclaurin series, sum over n of
    /// (-1)^n x^(2n+1) / (n! (2n+1)) times 2/sqrt(pi) (the largest term is below 1e4, so cancellation costs at most four
    /// digits); beyond, from the continued fraction erfc(a) = e^(-a^2)/sqrt(pi) / (a + (1/2)/(a + (2/2)/(a + (3/2)/...))),
    /// evaluated from its 80th level up, and erfc(-a) = 2 - erfc(a).
    /// </summary>
    private static double Erfc(double x)
    {
        double a = Math.Abs(x);
        double value;
        if (a < 3)
        {
            double sum = 0, term = a;
            for (int n = 0; n < 120 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                sum += term / ((2 * n) + 1);
                term *= -a * a / (n + 1);
            }

            value = 1 - (2 / Math.Sqrt(Math.PI) * sum);
        }
        else
        {
            double fraction = a;
            for (int k = 80; k >= 1; k--)
            {
                fraction = a + (k / 2.0 / fraction);
            }

            value = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / fraction;
        }

        return x >= 0 ? value : 2 - value;
    }
}
