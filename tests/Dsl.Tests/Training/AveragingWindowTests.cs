using Dsl.Training;
using Xunit;

namespace Dsl.Tests.Training;

/// <summary><see cref="AveragingWindow"/> against the set of steps its definition names, enumerated by brute force.</summary>
public class AveragingWindowTests
{
    [Fact]
    public void The_main_jobs_window_holds_steps_6010_to_8000_every_10()
    {
        var window = new AveragingWindow(8000, 2000, 10);
        int[] expected = Enumerable.Range(0, 200).Select(k => 6010 + 10 * k).ToArray();
        int[] contained = Enumerable.Range(-5, 8020).Where(window.Contains).ToArray();
        Assert.Equal(expected, contained);
        Assert.Equal(200, window.SnapshotCount);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 0, 3)]
    [InlineData(37, 15, 4)]
    [InlineData(37, 37, 4)]
    [InlineData(100, 9, 10)]
    [InlineData(101, 100, 7)]
    [InlineData(13, 13, 20)]
    public void Contains_exactly_the_spaced_steps_counted_back_from_the_last(int total, int last, int every)
    {
        var window = new AveragingWindow(total, last, every);
        var expected = new List<int>();
        for (int step = total; step > total - last; step -= every)
        {
            expected.Insert(0, step);
        }

        int[] contained = Enumerable.Range(-every, total + 2 * every).Where(window.Contains).ToArray();
        Assert.Equal(expected, contained);
        Assert.Equal(expected.Count, window.SnapshotCount);
        Assert.Equal(last > 0, window.Contains(total)); // the final weights are in every non-empty window
    }

    [Theory]
    [InlineData(int.MaxValue, int.MaxValue, 1)]
    [InlineData(int.MaxValue, 5, int.MaxValue)]
    [InlineData(int.MaxValue, 30, 7)]
    public void Windows_at_the_end_of_int_range_do_not_overflow(int total, int last, int every)
    {
        var window = new AveragingWindow(total, last, every);
        Assert.True(window.Contains(total));
        Assert.False(window.Contains(int.MinValue));
        Assert.Equal(every == 1 ? true : last > every, window.Contains(total - every));
        Assert.Equal(last == total && every == 1, window.Contains(1));
        Assert.Equal((last - 1) / every + 1, window.SnapshotCount);
    }

    [Fact]
    public void Rejects_impossible_windows()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingWindow(0, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingWindow(100, 10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingWindow(100, -1, 10));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new AveragingWindow(100, 101, 10));
        Assert.Equal("lastSteps", error.ParamName);
    }
}
