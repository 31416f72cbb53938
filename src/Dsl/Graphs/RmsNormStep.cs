using System.Globalization;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// RMS normalisation of each row (see <see cref="RmsNorm"/>): x, y (rows, features); gain (features) at
/// <see cref="GainOffset"/> (-1 without one). Keeps each row's 1 / rms for the backward.
/// </summary>
internal sealed class RmsNormStep(string path, int input, int output, int features, int gainOffset, float epsilon)
    : GraphStep(path, output)
{
    private readonly int[] _inputs = [input];
    private float[] _rrms = [];

    public override int[] Inputs => _inputs;

    public int GainOffset { get; } = gainOffset;

    public override string Describe()
        => string.Create(CultureInfo.InvariantCulture, $"RMSNorm {features}, epsilon {epsilon}")
            + (GainOffset < 0 ? ", no gain" : string.Create(CultureInfo.InvariantCulture, $", gain @{GainOffset}"));

    public override int ScratchLength => features;

    public override void EnsureCapacity(int rows) => _rrms = new float[rows];

    public override void Forward(GraphPass pass, int row0, int rows)
        => RmsNorm.Forward(pass.Rows(Output, row0, rows), _rrms.AsSpan(row0, rows), pass.Rows(_inputs[0], row0, rows), Gain(pass.Parameters), rows, features, epsilon);

    public override void Backward(GraphPass pass, int row0, int rows)
        => RmsNorm.Backward(
            pass.GradientRows(_inputs[0], row0, rows), Gain(pass.Gradients), pass.GradientRows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows),
            _rrms.AsSpan(row0, rows), Gain(pass.Parameters), pass.Scratch.AsSpan(0, features), rows, features, Accumulate[0]);

    private Span<float> Gain(float[] buffer) => GainOffset < 0 ? default : buffer.AsSpan(GainOffset, features);
}
