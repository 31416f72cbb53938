using System.Globalization;
using Dsl.Ops;

namespace Dsl.Graphs;

/// <summary>
/// The add that closes a residual block: y = skip + scale * branch, all (rows, width). Backward: dskip (+)= dy and
/// dbranch (+)= scale * dy (see <see cref="ResidualAdd"/>).
/// </summary>
internal sealed class ResidualAddStep(string path, int skip, int branch, int output, float scale)
    : GraphStep(path, output)
{
    private readonly int[] _inputs = [skip, branch];

    public override int[] Inputs => _inputs;

    public override string Describe()
        => scale == 1f ? "Add: skip + branch" : string.Create(CultureInfo.InvariantCulture, $"Add: skip + {scale} * branch");

    public override void Forward(GraphPass pass, int row0, int rows)
        => ResidualAdd.Forward(pass.Rows(Output, row0, rows), pass.Rows(_inputs[0], row0, rows), pass.Rows(_inputs[1], row0, rows), scale);

    public override void Backward(GraphPass pass, int row0, int rows)
        // The branch's output has this add as its one consumer, so its gradient is overwritten.
        => ResidualAdd.Backward(pass.GradientRows(_inputs[0], row0, rows), pass.GradientRows(_inputs[1], row0, rows), pass.GradientRows(Output, row0, rows), scale, Accumulate[0]);
}
