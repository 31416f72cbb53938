using Dsl.Gpu;
using ILGPU;
using System.Runtime.Intrinsics;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// A standalone activation, y = phi(x) element-wise over (rows, width); backward dx (+)= dy * phi'(x, y).
/// </summary>
internal sealed class ActivationStep<TActivation>(string path, int input, int output, TActivation activation, Activation kind, float slope)
    : GraphStep(path, output)
    where TActivation : struct, IActivation
{
    private readonly int[] _inputs = [input];

    public override int[] Inputs => _inputs;

    public override string Describe() => typeof(TActivation).Name;

    public override void Forward(GraphPass pass, int row0, int rows)
        => Apply(pass.Rows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows), activation);

    /// <summary>y = phi(x) element-wise; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void Apply(Span<float> y, ReadOnlySpan<float> x, TActivation activation)
    {
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            activation.Forward(Vector256.Create(x.Slice(i, Vector256<float>.Count))).CopyTo(y.Slice(i, Vector256<float>.Count));
        }

        for (; i < x.Length; i++)
        {
            y[i] = activation.Forward(x[i]);
        }
    }

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        if (_inputs[0] == 0 && !pass.MeasuresSignal)
        {
            return;
        }

        ReadOnlySpan<float> x = pass.Rows(_inputs[0], row0, rows);
        ReadOnlySpan<float> y = pass.Rows(Output, row0, rows);
        ReadOnlySpan<float> dy = pass.GradientRows(Output, row0, rows);
        Span<float> dx = pass.GradientRows(_inputs[0], row0, rows);
        bool accumulate = Accumulate[0];
        int i = 0;
        for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256<float> d = Vector256.Create(dy.Slice(i, 8)) * activation.Derivative(Vector256.Create(x.Slice(i, 8)), Vector256.Create(y.Slice(i, 8)));
            if (accumulate)
            {
                d += Vector256.Create(dx.Slice(i, 8));
            }

            d.CopyTo(dx.Slice(i, 8));
        }

        for (; i < x.Length; i++)
        {
            float d = dy[i] * activation.Derivative(x[i], y[i]);
            dx[i] = accumulate ? dx[i] + d : d;
        }

    }

    public override GpuGraphStep CreateGpuStep(GpuAccelerator gpu)
        => new OnGpu(this, GpuActivationDispatch.CreateForward(gpu, kind, slope), GpuActivationDispatch.CreateBackward(gpu, kind, slope));

    /// <summary>The GPU twin: y = phi(x) and dx (+)= dy * phi'(x, y), one thread per element.</summary>
    private sealed class OnGpu(ActivationStep<TActivation> step, IGpuActivationForward forward, IGpuActivationBackward backward) : GpuGraphStep
    {
        public override void Forward(GpuGraphPass pass, int rows)
            => forward.Apply(pass.Stream, pass.Rows(step.Output, rows), pass.Rows(step._inputs[0], rows), rows * pass.Widths[step.Output]);

        public override void Backward(GpuGraphPass pass, int rows)
        {
            int input = step._inputs[0];
            if (input == 0)
            {
                return;
            }

            int count = rows * pass.Widths[step.Output];
            ArrayView<float> dx = pass.GradientRows(input, rows);
            ArrayView<float> target = step.Accumulate[0] ? pass.Scratch.Slice(0, count) : dx;
            backward.Apply(pass.Stream, target, pass.GradientRows(step.Output, rows), pass.Rows(input, rows), pass.Rows(step.Output, rows), count);
            if (step.Accumulate[0])
            {
                pass.Adds.AddInto(pass.Stream, dx, target, count);
            }
        }
    }
}
