using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;

namespace Burrow.Tests.Identity;

public class SubordinateRangeSelectorTests
{
    private static SubordinateIdEntries Read(string text) => SubordinateIdFile.ForUser(text, "/etc/subuid", Users.Alice);

    private static SubordinateRange? FakeRoot(string text) => SubordinateRangeSelector.ForFakeRoot(Read(text), "alice", 1001);

    [Fact]
    public void FakeRootPrefersARangeOfExactly65536OverALargerOne()
    {
        Assert.Equal(300000u, FakeRoot("alice:100000:100000\nalice:300000:65536\n")!.Start);
    }

    [Fact]
    public void FakeRootOtherwiseTakesTheLargestLargerRange()
    {
        Assert.Equal(500000u, FakeRoot("alice:100000:70000\nalice:200000:1000\nalice:500000:90000\n")!.Start);
    }

    [Fact]
    public void FakeRootRefusesOnlySmallerRangesAndSaysSo()
    {
        var e = Assert.Throws<BurrowException>(() => FakeRoot("alice:100000:1000\nalice:200000:65535\n"));

        Assert.Contains("mapping entries for user alice found in /etc/subuid but all with a range count lower than 65536", e.Message);
        Assert.Contains("line 2: 200000:65535", e.Message);
    }

    [Fact]
    public void NoLinesMeansNoRange()
    {
        Assert.Null(FakeRoot("bob:100000:65536\n"));
        Assert.Null(SubordinateRangeSelector.ForUserNamespace(Read(""), "alice", 1001, "--userns=auto"));
    }

    [Fact]
    public void OnlyDisabledLinesAreAnError()
    {
        var e = Assert.Throws<BurrowException>(() => FakeRoot("!alice:100000:65536\n"));

        Assert.Contains("disabled by the administrator", e.Message);
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void ADisabledLineBesideAnEnabledOneIsSkipped()
    {
        Assert.Equal(200000u, FakeRoot("!alice:100000:65536\nalice:200000:65536\n")!.Start);
    }

    [Fact]
    public void AMalformedLineOfTheCallerIsAnErrorNamingTheLine()
    {
        var e = Assert.Throws<BurrowException>(() => FakeRoot("alice:100000:65536\nalice:lots\n"));

        Assert.Contains("/etc/subuid line 2 for user alice is malformed", e.Message);
        Assert.Contains("name:start:count", e.Hint);
    }

    [Fact]
    public void ARangeHoldingTheCallersOwnIdIsRefused()
    {
        var e = Assert.Throws<BurrowException>(() => FakeRoot("alice:1000:65536\n"));

        Assert.Contains("includes your own id 1001", e.Message);
        Assert.Throws<BurrowException>(() => SubordinateRangeSelector.ForUserNamespace(Read("alice:100000:65536\nalice:0:2000\n"), "alice", 1001, "auto"));
    }

    [Fact]
    public void FakeRootChecksOnlyTheRangeItUses()
    {
        // The unused small range holds the caller's uid; Apptainer's selection never looks at it.
        Assert.Equal(100000u, FakeRoot("alice:100000:65536\nalice:1000:10\n")!.Start);
    }

    [Fact]
    public void UserNamespaceModesUseEveryEnabledRangeInFileOrder()
    {
        IReadOnlyList<SubordinateRange> r = SubordinateRangeSelector.ForUserNamespace(
            Read("alice:300000:10\n!alice:1:1\nalice:100000:65536\n"), "alice", 1001, "auto")!;

        Assert.Equal([300000u, 100000u], r.Select(x => x.Start));
    }

    [Fact]
    public void OverlappingRangesAreRefused()
    {
        var e = Assert.Throws<BurrowException>(() =>
            SubordinateRangeSelector.ForUserNamespace(Read("alice:100000:65536\nalice:165535:10\n"), "alice", 1001, "auto"));

        Assert.Contains("overlap", e.Message);
    }
}
