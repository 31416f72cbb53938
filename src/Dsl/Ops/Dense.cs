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

    /// <summary>
    /// A dense layer without activation that closes a residual branch, with the add in its GEMM's epilogue:
    /// y = skip + scale * (x W^T + b), each element rounded as the separate add rounds it (scale 1: skip + z; else
    /// z * scale + skip, unfused).
    /// </summary>
    /// <param name="output">y (batch, units), written: the residual add's output.</param>
    /// <param name="skip">The skip (batch, units), read.</param>
    public static void ForwardResidual(
        Span<float> output, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> skip, float scale,
        int batch, int fanIn, int units, CpuWorkers? workers)
    {
        if (skip.Length < batch * units)
        {
            throw new ArgumentException($"The skip must hold (batch, units) = {batch * units} floats; it holds {skip.Length}.", nameof(skip));
        }

        fixed (float* biasStart = bias)
        fixed (float* skipStart = skip)
        {
            var epilogue = new BiasResidualEpilogue(biasStart, skipStart, units, scale);
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

    /// <summary>skip + scale * (acc + b[column]) at the same (row, column) of the (batch, units) skip.</summary>
    private readonly struct BiasResidualEpilogue(float* bias, float* skip, int units, float scale) : IEpilogue
    {
        public void Apply(int row, int column, Span<float> values)
        {
            float* b = bias == null ? null : bias + column;
            float* s = skip + ((long)row * units) + column;
            int i = 0;
            fixed (float* v = values)
            {
                for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    Vector256<float> z = Vector256.Load(v + i);
                    if (b != null)
                    {
                        z += Vector256.Load(b + i);
                    }

                    (scale == 1f ? Vector256.Load(s + i) + z : (z * scale) + Vector256.Load(s + i)).Store(v + i);
                }

                for (; i < values.Length; i++)
                {
                    float z = v[i] + (b != null ? b[i] : 0f);
                    v[i] = scale == 1f ? s[i] + z : (z * scale) + s[i];
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
