namespace Dsl;

/// <summary>The repetitions of a block declared with <see cref="RepeatAttribute"/>, in the order they run.</summary>
/// <typeparam name="TBlock">The block class.</typeparam>
public sealed class Repeated<TBlock> : IReadOnlyList<TBlock>
    where TBlock : class
{
    private readonly TBlock[] _blocks;

    /// <summary>Wraps the repetitions (generated networks create these).</summary>
    public Repeated(TBlock[] blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        _blocks = blocks;
    }

    /// <summary>Repetition <paramref name="index"/>, counted from 0 in the order they run.</summary>
    public TBlock this[int index] => _blocks[index];

    /// <summary>How many repetitions.</summary>
    public int Count => _blocks.Length;

    public IEnumerator<TBlock> GetEnumerator() => ((IEnumerable<TBlock>)_blocks).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _blocks.GetEnumerator();
}
