using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// Layer normalisation of each row (see <see cref="LayerNorm"/>): x, y (rows, features); gain and bias (features) at
/// <see cref="GainOffset"/> and <see cref="BiasOffset"/> (-1 both without affine parameters). Keeps each row's mean and
/// 1 / std for the backward.
/// </summary>
internal sealed class LayerNormStep(string path, int input, int output, int features, int gainOffset, int biasOffset, float epsilon)
    : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];
    private float[] _mean = [];
    private float[] _rstd = [];

    public override int[] Inputs => _inputs;

    public int GainOffset { get; } = gainOffset;

    public int BiasOffset { get; } = biasOffset;

    public override int ScratchLength => 2 * features;

    public override void EnsureCapacity(int rows)
    {
        _mean = new float[rows];
        _rstd = new float[rows];
    }

    public override void Forward(GraphPass pass, int row0, int rows)
        => LayerNorm.Forward(
            pass.Rows(Output, row0, rows), _mean.AsSpan(row0, rows), _rstd.AsSpan(row0, rows), pass.Rows(_inputs[0], row0, rows),
            Slice(pass.Parameters, GainOffset), Slice(pass.Parameters, BiasOffset), rows, features, epsilon);

    public override void Backward(GraphPass pass, int row0, int rows)
    {
        // On the network's input too: the gain's and bias's gradients need the whole backward (value 0's gradient is unread).
        LayerNorm.Backward(
            pass.GradientRows(_inputs[0], row0, rows), Slice(pass.Gradients, GainOffset), Slice(pass.Gradients, BiasOffset), pass.GradientRows(Output, row0, rows),
            pass.Rows(_inputs[0], row0, rows), _mean.AsSpan(row0, rows), _rstd.AsSpan(row0, rows), Slice(pass.Parameters, GainOffset),
            pass.Scratch.AsSpan(0, 2 * features), rows, features, Accumulate[0]);
    }

    private Span<float> Slice(float[] buffer, int offset) => offset < 0 ? default : buffer.AsSpan(offset, features);
}
