using System.Runtime.Intrinsics;
using Dsl.Cpu;

namespace Dsl.Ops;

/// <summary>
/// The fully connected layer on the CPU: forward and backward side by side.
/// Shapes: input x (batch, fanIn), weight W (units, fanIn) row-major like PyTorch's nn.Linear,
/// bias b (units), pre-activation z = x W^T + b and output y = phi(z), both (batch, units).
/// </summary>
public static unsafe class Dense
{
    /// <summary>
    /// y = phi(x W^T + b) in one GEMM whose epilogue adds the bias, keeps z when phi's derivative
    /// needs it, and applies phi.
    /// </summary>
    /// <param name="output">y (batch, units).</param>
    /// <param name="preActivation">z (batch, units), or empty when phi's derivative reads only y.</param>
    /// <param name="input">x (batch, fanIn).</param>
    /// <param name="weight">W (units, fanIn).</param>
    /// <param name="bias">b (units), or empty for a layer without bias.</param>
    public static void Forward<TActivation>(
        Span<float> output, Span<float> preActivation, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        int batch, int fanIn, int units, TActivation activation, CpuWorkers? workers)
        where TActivation : struct, IActivation
    {
        fixed (float* biasStart = bias)
        fixed (float* preActivationStart = preActivation)
        {
            var epilogue = new BiasActivationEpilogue<TActivation>(biasStart, preActivationStart, units, activation);
            Gemm.Multiply(Transpose.No, Transpose.Yes, batch, units, fanIn, input, fanIn, weight, fanIn, output, units, accumulate: false, epilogue, workers);
        }
    }

    /// <summary>dW = dz^T x (units, fanIn) and db = column sums of dz (units).</summary>
    /// <param name="dWeight">dW (units, fanIn), overwritten.</param>
    /// <param name="dBias">db (units), overwritten; empty for a layer without bias.</param>
    /// <param name="dPreActivation">dz (batch, units).</param>
    /// <param name="input">x (batch, fanIn).</param>
    public static void BackwardWeights(
        Span<float> dWeight, Span<float> dBias, ReadOnlySpan<float> dPreActivation, ReadOnlySpan<float> input,
        int batch, int fanIn, int units, CpuWorkers? workers)
    {
        Gemm.Multiply(Transpose.Yes, Transpose.No, units, fanIn, batch, dPreActivation, units, input, fanIn, dWeight, fanIn, accumulate: false, default(NoEpilogue), workers);
        if (!dBias.IsEmpty)
        {
            BiasGradient.Compute(dBias, dPreActivation, batch, units);
        }
    }

    /// <summary>
    /// The gradient flowing into the previous layer, with that layer's activation derivative fused:
    /// dzPrev = (dz W) * phiPrev'(zPrev), all (batch, fanIn).
    /// </summary>
    /// <param name="dPreviousPreActivation">dzPrev (batch, fanIn), overwritten.</param>
    /// <param name="dPreActivation">dz (batch, units).</param>
    /// <param name="weight">W (units, fanIn).</param>
    /// <param name="previousPreActivation">zPrev (batch, fanIn) when phiPrev' reads z; otherwise the previous output again.</param>
    /// <param name="previousOutput">yPrev (batch, fanIn).</param>
    public static void BackwardInput<TPreviousActivation>(
        Span<float> dPreviousPreActivation, ReadOnlySpan<float> dPreActivation, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> previousPreActivation, ReadOnlySpan<float> previousOutput,
        int batch, int fanIn, int units, TPreviousActivation previousActivation, CpuWorkers? workers)
        where TPreviousActivation : struct, IActivation
    {
        if (previousPreActivation.Length < batch * fanIn || previousOutput.Length < batch * fanIn)
        {
            throw new ArgumentException($"The previous layer's buffers must hold (batch, fanIn) = {batch * fanIn} floats.");
        }

        fixed (float* preActivationStart = previousPreActivation)
        fixed (float* outputStart = previousOutput)
        {
            var epilogue = new DerivativeEpilogue<TPreviousActivation>(preActivationStart, outputStart, fanIn, previousActivation);
            Gemm.Multiply(Transpose.No, Transpose.No, batch, fanIn, units, dPreActivation, units, weight, fanIn, dPreviousPreActivation, fanIn, accumulate: false, epilogue, workers);
        }
    }

    /// <summary>z = acc + b[column]; keeps z when asked; writes phi(z). Pointers stay pinned by the caller for the GEMM's duration.</summary>
    private readonly struct BiasActivationEpilogue<TActivation>(float* bias, float* preActivation, int units, TActivation activation) : IEpilogue
        where TActivation : struct, IActivation
    {
        public void Apply(int row, int column, Span<float> values)
        {
            float* b = bias == null ? null : bias + column;
            float* z = preActivation == null ? null : preActivation + ((long)row * units) + column;
            int i = 0;
            fixed (float* v = values)
            {
                for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    Vector256<float> sum = Vector256.Load(v + i);
                    if (b != null)
                    {
                        sum += Vector256.Load(b + i);
                    }

                    if (z != null)
                    {
                        sum.Store(z + i);
                    }

                    activation.Forward(sum).Store(v + i);
                }

                for (; i < values.Length; i++)
                {
                    float sum = v[i] + (b != null ? b[i] : 0f);
                    if (z != null)
                    {
                        z[i] = sum;
                    }

                    v[i] = activation.Forward(sum);
                }
            }
        }
    }

    /// <summary>acc * phi'(z, y) at the same (row, column) of the previous layer's (batch, width) buffers.</summary>
    private readonly struct DerivativeEpilogue<TActivation>(float* preActivation, float* output, int width, TActivation activation) : IEpilogue
        where TActivation : struct, IActivation
    {
        public void Apply(int row, int column, Span<float> values)
        {
            long start = ((long)row * width) + column;
            float* z = preActivation + start;
            float* y = output + start;
            int i = 0;
            fixed (float* v = values)
            {
                for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    Vector256<float> derivative = activation.Derivative(Vector256.Load(z + i), Vector256.Load(y + i));
                    (Vector256.Load(v + i) * derivative).Store(v + i);
                }

                for (; i < values.Length; i++)
                {
                    v[i] *= activation.Derivative(z[i], y[i]);
                }
            }
        }
    }
}
