namespace Dsl;

/// <summary>
/// Marks a <c>partial</c> class as a block: a reusable sub-network whose layers are its layer properties, in declaration
/// order, like a network's. A network (or another block) uses it through a property of the block's type,
/// <c>public partial MyBlock Body { get; }</c>; each such property is one instance with its own parameters. A block's
/// layers take their input width from whatever feeds the block.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class BlockAttribute : Attribute;

/// <summary>
/// On a block property: the block is a residual branch, y = x + Scale * f(x). The branch must give the width it
/// receives.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class ResidualAttribute : Attribute
{
    /// <summary>Multiplies the branch's output before the add (default 1).</summary>
    public double Scale { get; set; } = 1.0;
}

/// <summary>
/// On a property of type <see cref="Repeated{TBlock}"/>: the block applied <paramref name="count"/> times in sequence,
/// each repetition with its own parameters (<c>model.Blocks[3].Up.Weight</c>). With <see cref="ResidualAttribute"/>, every
/// repetition is a residual branch.
/// </summary>
/// <param name="count">How many repetitions; positive.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class RepeatAttribute(int count) : Attribute
{
    /// <summary>How many repetitions.</summary>
    public int Count { get; } = count;
}
