using Dsl;
using Dsl.Ops;
using Dsl.Tests.Networks;
using Xunit;

namespace Dsl.Tests.Ops;

/// <summary>
/// Dense forward (GEMM + bias + activation epilogue, pre-activation kept where needed) and backward
/// (dW, db, and dX with the previous activation's derivative fused into the GEMM epilogue), each
/// against a naive float64 reference at odd sizes, for every activation, with and without threads.
/// </summary>
public sealed class DenseTests
{
    public static TheoryData<Activation, int, int, int, bool, int> Cases()
    {
        var cases = new TheoryData<Activation, int, int, int, bool, int>();
        int[][] shapes = [[1, 1, 1], [7, 3, 5], [33, 17, 9], [100, 40, 100], [129, 100, 10]];
        foreach (Activation activation in Enum.GetValues<Activation>())
        {
            foreach (int[] shape in shapes)
            {
                cases.Add(activation, shape[0], shape[1], shape[2], shape[0] % 2 == 1, 1);
            }

            cases.Add(activation, 257, 300, 129, true, 2);
        }

        return cases;
    }

    [Theory]
    [InlineData(37, 19, 23, 1f, true)]
    [InlineData(9, 70, 13, 0.5f, true)]
    [InlineData(300, 33, 17, 0.25f, false)]
    public void The_residual_epilogue_gives_the_bits_of_the_dense_layer_and_the_add_run_apart(int batch, int fanIn, int units, float scale, bool bias)
    {
        var random = new Random(batch + fanIn + units);
        float[] Draw(int count) => [.. Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        float[] x = Draw(batch * fanIn);
        float[] w = Draw(units * fanIn);
        float[] b = bias ? Draw(units) : [];
        float[] skip = Draw(batch * units);

        var branch = new float[batch * units];
        Dense.Forward(branch, default, x, w, b, batch, fanIn, units, new Identity(), workers: null);
        var apart = new float[batch * units];
        ResidualAdd.Forward(apart, skip, branch, scale);

        using var device = Device.Cpu(2);
        var fused = new float[batch * units];
        Dense.ForwardResidual(fused, x, w, b, skip, scale, batch, fanIn, units, device.Workers);
        Assert.Equal(apart, fused);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_the_float64_reference(Activation activation, int batch, int fanIn, int units, bool hasBias, int threads)
    {
        using Device device = Device.Cpu(threads);
        var random = new Random((batch * 31) + (fanIn * 7) + units);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        float[] x = Random(batch * fanIn);
        float[] weight = Random(units * fanIn);
        float[] bias = hasBias ? Random(units) : [];
        var parameters = new float[weight.Length + bias.Length];
        var layer = new Layer("L", 0, fanIn, units, activation, 0.1f, parameters, new float[parameters.Length], 0, hasBias ? weight.Length : -1);

        // Forward.
        var output = new float[batch * units];
        var preActivation = new float[batch * units];
        Dispatch(activation, new ForwardCall(output, preActivation, x, weight, bias, batch, fanIn, units, device));
        var z = new double[batch * units];
        for (int b = 0; b < batch; b++)
        {
            for (int o = 0; o < units; o++)
            {
                double sum = hasBias ? bias[o] : 0;
                for (int i = 0; i < fanIn; i++)
                {
                    sum += (double)x[(b * fanIn) + i] * weight[(o * fanIn) + i];
                }

                z[(b * units) + o] = sum;
                double tolerance = 1e-5 * Math.Sqrt(fanIn + 1) * (1 + Math.Abs(sum));
                Assert.Equal(ReferenceNetwork.Activate(layer, sum), output[(b * units) + o], tolerance);
                Assert.Equal(sum, preActivation[(b * units) + o], tolerance);
            }
        }

        // Backward: dW = dz^T x, db = column sums of dz, dX = (dz W) * phi'(previous) with phi = this activation standing in for the previous layer's.
        float[] dPre = Random(batch * units);
        var dWeight = new float[units * fanIn];
        var dBias = new float[units];
        Dense.BackwardWeights(dWeight, dBias, dPre, x, batch, fanIn, units, device.Workers);
        for (int o = 0; o < units; o++)
        {
            double db = 0;
            for (int b = 0; b < batch; b++)
            {
                db += dPre[(b * units) + o];
            }

            Assert.Equal(db, dBias[o], 1e-5 * Math.Sqrt(batch) * (1 + Math.Abs(db)));
            for (int i = 0; i < fanIn; i++)
            {
                double dw = 0;
                for (int b = 0; b < batch; b++)
                {
                    dw += (double)dPre[(b * units) + o] * x[(b * fanIn) + i];
                }

                Assert.Equal(dw, dWeight[(o * fanIn) + i], 1e-5 * Math.Sqrt(batch) * (1 + Math.Abs(dw)));
            }
        }

        // The "previous layer" has width fanIn: its pre-activation is x, its output phi(x).
        var previousLayer = new Layer("P", 0, 1, fanIn, activation, 0.1f, new float[fanIn], new float[fanIn], 0, -1);
        float[] previousOutput = x.Select(v => (float)ReferenceNetwork.Activate(previousLayer, v)).ToArray();
        var dPrevious = new float[batch * fanIn];
        Dispatch(activation, new BackwardInputCall(dPrevious, dPre, weight, x, previousOutput, batch, fanIn, units, device));
        for (int b = 0; b < batch; b++)
        {
            for (int i = 0; i < fanIn; i++)
            {
                double dx = 0;
                for (int o = 0; o < units; o++)
                {
                    dx += (double)dPre[(b * units) + o] * weight[(o * fanIn) + i];
                }

                double expected = dx * Derivative(previousLayer, x[(b * fanIn) + i]);
                Assert.Equal(expected, dPrevious[(b * fanIn) + i], 2e-5 * Math.Sqrt(units) * (1 + Math.Abs(dx)));
            }
        }
    }

    /// <summary>phi'(z) by central differences of the float64 activation (non-smooth points are not hit by random floats).</summary>
    private static double Derivative(Layer layer, double z)
    {
        const double h = 1e-6;
        return (ReferenceNetwork.Activate(layer, z + h) - ReferenceNetwork.Activate(layer, z - h)) / (2 * h);
    }

    private interface IActivationCall
    {
        void Run<TActivation>(TActivation activation) where TActivation : struct, IActivation;
    }

    private static void Dispatch<TCall>(Activation activation, TCall call) where TCall : IActivationCall
    {
        switch (activation)
        {
            case Activation.Identity: call.Run(new Identity()); break;
            case Activation.Relu: call.Run(new Relu()); break;
            case Activation.LeakyRelu: call.Run(new LeakyRelu(0.1f)); break;
            case Activation.Gelu: call.Run(new Gelu()); break;
            case Activation.Silu: call.Run(new Silu()); break;
            case Activation.Tanh: call.Run(new Tanh()); break;
            default: call.Run(new Sigmoid()); break;
        }
    }

    private readonly record struct ForwardCall(float[] Output, float[] PreActivation, float[] X, float[] Weight, float[] Bias, int Batch, int FanIn, int Units, Device Device) : IActivationCall
    {
        public void Run<TActivation>(TActivation activation) where TActivation : struct, IActivation
            => Dense.Forward(Output, PreActivation, X, Weight, Bias, Batch, FanIn, Units, activation, Device.Workers);
    }

    private readonly record struct BackwardInputCall(float[] DPrevious, float[] DPre, float[] Weight, float[] PreviousPre, float[] PreviousOutput, int Batch, int FanIn, int Units, Device Device) : IActivationCall
    {
        public void Run<TActivation>(TActivation activation) where TActivation : struct, IActivation
            => Dense.BackwardInput(DPrevious, DPre, Weight, PreviousPre, PreviousOutput, Batch, FanIn, Units, activation, Device.Workers);
    }
}
