using Dsl;

namespace Samples;

[Network(Input = [4])]
public sealed partial class Empty
{
}
