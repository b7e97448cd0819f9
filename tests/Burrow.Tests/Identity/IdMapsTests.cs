using Burrow.Core.Identity;
using Burrow.Core.Runtime;

namespace Burrow.Tests.Identity;

public class IdMapsTests
{
    private static SubordinateRange R(uint start, uint count) => new(1, start, count, false);

    [Fact]
    public void KeepIdMatchesPodmansDocumentedExample()
    {
        // podman-behaviour.md §1.4: uid 1000 with subuids 100000:65536 gives
        // container 0-999 -> 100000-100999, 1000 -> 1000, 1001-65536 -> 101000-165535.
        IReadOnlyList<IdMapEntry> map = IdMaps.Compose(IdMaps.KeepId(1000, 65536), IdMaps.Intermediate(1000, [R(100000, 65536)]));

        Assert.Equal([new(0, 100000, 1000), new(1000, 1000, 1), new(1001, 101000, 64536)], map);
    }

    [Fact]
    public void KeepIdWithAnIdAboveTheRangeMapsTheWholeRangeBelowIt()
    {
        IReadOnlyList<IdMapEntry> map = IdMaps.Compose(IdMaps.KeepId(200000, 65536), IdMaps.Intermediate(1001, [R(100000, 65536)]));

        Assert.Equal([new(0, 100000, 65536), new(200000, 1001, 1)], map);
    }

    [Fact]
    public void KeepIdAsRootIsRootThenTheRange()
    {
        IReadOnlyList<IdMapEntry> map = IdMaps.Compose(IdMaps.KeepId(0, 65536), IdMaps.Intermediate(1001, [R(100000, 65536)]));

        Assert.Equal([new(0, 1001, 1), new(1, 100000, 65536)], map);
    }

    [Fact]
    public void SeveralRangesAreLaidBackToBackAndSplitWhereTheyEnd()
    {
        IReadOnlyList<IdMapEntry> map = IdMaps.Compose(
            IdMaps.KeepId(1001, 65546), IdMaps.Intermediate(1001, [R(200000, 10), R(300000, 65536)]));

        Assert.Equal(
            [new(0, 200000, 10), new(10, 300000, 991), new(1001, 1001, 1), new(1002, 300991, 64545)],
            map);
        Assert.Equal(65547u, map.Aggregate(0u, (n, e) => n + e.Count));
    }

    [Fact]
    public void RootThenRangeIsFakeRootsMap()
    {
        Assert.Equal([new(0, 1001, 1), new(1, 100000, 65536)],
            IdMaps.Compose(IdMaps.RootThenRange(65536), IdMaps.Intermediate(1001, [R(100000, 65536)])));
        Assert.Equal([new(0, 1001, 1)], IdMaps.Compose(IdMaps.RootThenRange(0), IdMaps.Intermediate(1001, [])));
    }

    [Fact]
    public void ComposeMergesEntriesThatContinueEachOther()
    {
        IReadOnlyList<IdMapEntry> map = IdMaps.Compose(
            [new(0, 1, 5), new(5, 6, 5)], IdMaps.Intermediate(1001, [R(100000, 3), R(100003, 20)]));

        Assert.Equal([new(0, 100000, 10)], map);
    }

    [Fact]
    public void ComposeRefusesIdsOutsideTheLayout()
    {
        Assert.Throws<InvalidOperationException>(() => IdMaps.Compose([new(0, 1, 100)], IdMaps.Intermediate(1001, [R(100000, 10)])));
    }

    [Fact]
    public void TotalAddsTheRanges()
    {
        Assert.Equal(65546u, IdMaps.Total([R(200000, 10), R(300000, 65536)]));
    }
}
