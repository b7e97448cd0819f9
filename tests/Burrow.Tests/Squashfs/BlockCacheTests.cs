using Burrow.Core.Squashfs;

namespace Burrow.Tests.Squashfs;

public sealed class BlockCacheTests
{
    private static CachedBlock Block(int size) => new(new byte[size], size, 0);

    [Fact]
    public void StaysWithinItsBoundWhateverIsAdded()
    {
        var cache = new BlockCache(1 << 20);
        for (int i = 0; i < 2000; i++)
        {
            cache.GetOrAdd(new BlockKey(i, 1), 8192 + i % 100, Block);
            Assert.True(cache.BytesHeld <= cache.CapacityBytes);
        }
        Assert.True(cache.BytesHeld > cache.CapacityBytes / 2, $"{cache.BytesHeld} bytes held of {cache.CapacityBytes}");
    }

    [Fact]
    public void ABlockMissedByManyThreadsAtOnceIsLoadedOnce()
    {
        var cache = new BlockCache(1 << 20);
        int loads = 0;
        using var gate = new ManualResetEventSlim();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            gate.Wait(TimeSpan.FromMilliseconds(200));
            cache.GetOrAdd(new BlockKey(42, 7), 0, _ =>
            {
                Interlocked.Increment(ref loads);
                Thread.Sleep(100);
                return Block(100);
            });
        });
        gate.Set();
        Assert.Equal(1, loads);
    }

    [Fact]
    public void AFailedLoadIsNotCachedAndItsErrorReachesTheCaller()
    {
        var cache = new BlockCache(1 << 20);
        Assert.Throws<InvalidDataException>(() => cache.GetOrAdd(new BlockKey(1, 1), 0, CachedBlock (_) => throw new InvalidDataException("bad")));
        Assert.Equal(5, cache.GetOrAdd(new BlockKey(1, 1), 5, Block).Length);
    }

    [Fact]
    public void BlocksUsedAgainSurviveAScanOfBlocksUsedOnce()
    {
        var cache = new BlockCache(16 * 64 * 1024);
        var hot = Enumerable.Range(0, 64).Select(i => new BlockKey(-1 - i, 1)).ToArray();
        foreach (BlockKey k in hot.Concat(hot))
        {
            cache.GetOrAdd(k, 8192, Block);
        }
        for (int i = 0; i < 5000; i++)
        {
            cache.GetOrAdd(new BlockKey(i, 2), 8192, Block);
        }
        long misses = cache.Misses;
        foreach (BlockKey k in hot)
        {
            cache.GetOrAdd(k, 8192, Block);
        }
        Assert.True(cache.Misses - misses < hot.Length / 4, $"{cache.Misses - misses} of {hot.Length} hot blocks were evicted by a one-pass scan");
    }
}
