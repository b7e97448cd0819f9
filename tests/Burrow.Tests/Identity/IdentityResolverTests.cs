using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Runtime;

namespace Burrow.Tests.Identity;

public class IdentityResolverTests
{
    private static IdentityDecision Resolve(IdentityRequest request, SubordinateIds? ids = null)
    {
        IdentityDecision d = IdentityResolver.Resolve(request, Users.Alice, ids ?? Users.WithRange);
        KernelRules.AssertValid(d, Users.Alice);
        return d;
    }

    [Fact]
    public void DefaultIsYourselfWithOneMapping()
    {
        IdentityDecision d = Resolve(IdentityRequest.Default);

        Assert.Equal("default", d.Plan.Mode);
        Assert.Equal([new IdMapEntry(1001, 1001, 1)], d.Plan.UidMap);
        Assert.False(d.Plan.AllowSetgroups);
        Assert.Equal(IdMapWriter.Direct, d.Plan.Writer);
        Assert.Equal([27u], d.SupplementaryGroups);
        Assert.Equal(CapabilitySets.None, d.Capabilities);
        Assert.Equal("/home/alice", d.HomeDestination);
        Assert.Equal(AccountEntries.Caller, d.AccountEntries);
    }

    [Fact]
    public void DefaultDoesNotReadTheSubordinateFiles()
    {
        // A broken /etc/subuid must not stop the mode that never uses it.
        IdentityDecision d = Resolve(IdentityRequest.Default, Users.Files("alice:garbage\n"));

        Assert.Equal("default", d.Plan.Mode);
    }

    [Fact]
    public void FakeRootWithARangeMapsRootToYouAndTheRangeAbove()
    {
        IdentityDecision d = Resolve(new IdentityRequest { FakeRoot = true });

        Assert.Equal("fakeroot", d.Plan.Mode);
        Assert.Equal([new IdMapEntry(0, 1001, 1), new IdMapEntry(1, 100000, 65536)], d.Plan.UidMap);
        Assert.Equal([new IdMapEntry(0, 1001, 1), new IdMapEntry(1, 100000, 65536)], d.Plan.GidMap);
        Assert.True(d.Plan.AllowSetgroups);
        Assert.Equal(IdMapWriter.SubordinateHelper, d.Plan.Writer);
        Assert.True(d.IsContainerRoot);
        Assert.Equal([0u], d.SupplementaryGroups);
        Assert.Equal("/root", d.HomeDestination);
        Assert.Equal(AccountEntries.Image, d.AccountEntries);
        Assert.Equal(Capabilities.ForRoot(Capabilities.All), d.Capabilities);
        Assert.Empty(d.Warnings);
        Assert.Contains(d.Plan.Explanation, l => l.Contains("/etc/subuid line 1 (100000:65536)") && l.Contains("exactly 65536"));
    }

    [Fact]
    public void FakeRootUsesApptainersRangeChoice()
    {
        IdentityDecision d = Resolve(new IdentityRequest { FakeRoot = true }, Users.Files("alice:500000:100000\nalice:200000:65536\n"));

        Assert.Equal([new IdMapEntry(0, 1001, 1), new IdMapEntry(1, 200000, 65536)], d.Plan.UidMap);
    }

    [Fact]
    public void FakeRootWithoutARangeMapsOnlyRootAndWarnsWhy()
    {
        IdentityDecision d = Resolve(new IdentityRequest { FakeRoot = true }, SubordinateIds.None);

        Assert.Equal([new IdMapEntry(0, 1001, 1)], d.Plan.UidMap);
        Assert.Equal([new IdMapEntry(0, 1001, 1)], d.Plan.GidMap);
        Assert.False(d.Plan.AllowSetgroups);
        Assert.Equal(IdMapWriter.Direct, d.Plan.Writer);
        Assert.True(d.IsContainerRoot);
        Assert.Equal("/root", d.HomeDestination);
        string w = Assert.Single(d.Warnings);
        Assert.Contains("only root is mapped", w);
        Assert.Contains("chown to any other id fails", w);
        Assert.Equal(Capabilities.All, d.Capabilities.Effective);
    }

    [Fact]
    public void FakeRootWithHalfAMappingIsRefused()
    {
        var e = Assert.Throws<BurrowException>(() => Resolve(new IdentityRequest { FakeRoot = true }, new SubordinateIds(Users.AliceRange, "")));

        Assert.Contains("has a range in /etc/subuid but none in /etc/subgid", e.Message);
    }

    [Theory]
    [InlineData("!alice:100000:65536\n", "disabled by the administrator")]
    [InlineData("alice:100000\n", "/etc/subuid line 1 for user alice is malformed")]
    [InlineData("alice:1000:65536\n", "includes your own id 1001")]
    [InlineData("alice:100000:4096\n", "all with a range count lower than 65536")]
    public void FakeRootRefusesUnusableRanges(string subuid, string message)
    {
        var e = Assert.Throws<BurrowException>(() => Resolve(new IdentityRequest { FakeRoot = true }, new SubordinateIds(subuid, Users.AliceRange)));

        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MessagesNameTheFileThatWasRead()
    {
        var ids = new SubordinateIds("alice:1:2:3\n", Users.AliceRange) { SubUidPath = "/tmp/t/subuid" };

        var e = Assert.Throws<BurrowException>(() => Resolve(new IdentityRequest { UserNs = "auto" }, ids));

        Assert.Contains("/tmp/t/subuid line 1 for user alice is malformed", e.Message);
    }

    [Fact]
    public void SecurityTakesTheGivenIdsWithoutCapabilities()
    {
        IdentityDecision d = Resolve(new IdentityRequest { Security = ["uid:3210", "gid:3210"] });

        Assert.Equal("security", d.Plan.Mode);
        Assert.Equal([new IdMapEntry(3210, 1001, 1)], d.Plan.UidMap);
        Assert.Equal([new IdMapEntry(3210, 1001, 1)], d.Plan.GidMap);
        Assert.Equal(IdMapWriter.Direct, d.Plan.Writer);
        Assert.False(d.Plan.AllowSetgroups);
        Assert.Equal((3210u, 3210u), (d.Uid, d.Gid));
        Assert.Empty(d.SupplementaryGroups);
        Assert.Equal(CapabilitySets.None, d.Capabilities);
        Assert.Equal("/home/alice", d.HomeDestination);
        Assert.Equal(AccountEntries.Image, d.AccountEntries);
    }

    [Fact]
    public void SecurityUidAloneKeepsYourGid()
    {
        IdentityDecision d = Resolve(new IdentityRequest { Security = ["uid:99"] });

        Assert.Equal([new IdMapEntry(1001, 1001, 1)], d.Plan.GidMap);
        Assert.Equal(1001u, d.Gid);
    }

    [Fact]
    public void SecuritySupplementaryGroupsAreBackedBySubordinateGids()
    {
        IdentityDecision d = Resolve(new IdentityRequest { Security = ["uid:3210", "gid:3210:44:5000"] });

        Assert.Equal([new IdMapEntry(44, 100000, 1), new IdMapEntry(3210, 1001, 1), new IdMapEntry(5000, 100001, 1)], d.Plan.GidMap);
        Assert.Equal([new IdMapEntry(3210, 1001, 1)], d.Plan.UidMap);
        Assert.Equal(IdMapWriter.SubordinateHelper, d.Plan.Writer);
        Assert.True(d.Plan.AllowSetgroups);
        Assert.Equal([3210u, 44u, 5000u], d.SupplementaryGroups);
    }

    [Fact]
    public void SecuritySupplementaryGroupsWithoutASubgidRangeAreRefused()
    {
        var e = Assert.Throws<BurrowException>(() => Resolve(new IdentityRequest { Security = ["gid:3210:44"] }, SubordinateIds.None));

        Assert.Contains("need a range in /etc/subgid", e.Message);
    }

    [Fact]
    public void KeepIdIsPodmansFormulaOverTheWholeRange()
    {
        IdentityDecision d = Resolve(new IdentityRequest { UserNs = "keep-id" });

        Assert.Equal("keep-id", d.Plan.Mode);
        Assert.Equal([new IdMapEntry(0, 100000, 1001), new IdMapEntry(1001, 1001, 1), new IdMapEntry(1002, 101001, 64535)], d.Plan.UidMap);
        Assert.Equal(d.Plan.UidMap, d.Plan.GidMap);
        Assert.Equal(IdMapWriter.SubordinateHelper, d.Plan.Writer);
        Assert.True(d.Plan.AllowSetgroups);
        Assert.Equal((1001u, 1001u), (d.Uid, d.Gid));
        Assert.Equal([1001u], d.SupplementaryGroups);
        Assert.False(d.IsContainerRoot);
        Assert.Equal(CapabilitySets.None, d.Capabilities);
        Assert.Equal("/home/alice", d.HomeDestination);
        Assert.Equal(AccountEntries.CallerIfMissing, d.AccountEntries);
    }

    [Fact]
    public void KeepIdWithGivenIdsLeavesTheImagesAccounts()
    {
        IdentityDecision d = Resolve(new IdentityRequest { UserNs = "keep-id:uid=2000,gid=3000" });

        Assert.Equal([new IdMapEntry(0, 100000, 2000), new IdMapEntry(2000, 1001, 1), new IdMapEntry(2001, 102000, 63536)], d.Plan.UidMap);
        Assert.Equal([new IdMapEntry(0, 100000, 3000), new IdMapEntry(3000, 1001, 1), new IdMapEntry(3001, 103000, 62536)], d.Plan.GidMap);
        Assert.Equal((2000u, 3000u), (d.Uid, d.Gid));
        Assert.Equal(AccountEntries.Image, d.AccountEntries);
    }

    [Fact]
    public void KeepIdAsRootIsARootMode()
    {
        IdentityDecision d = Resolve(new IdentityRequest { UserNs = "keep-id:uid=0,gid=0", DropCaps = ["sys_admin"] });

        Assert.Equal([new IdMapEntry(0, 1001, 1), new IdMapEntry(1, 100000, 65536)], d.Plan.UidMap);
        Assert.Equal("/root", d.HomeDestination);
        Assert.Equal(Capabilities.All & ~(1UL << 21), d.Capabilities.Effective);
    }

    [Fact]
    public void KeepIdSizeLimitsTheNamespace()
    {
        IdentityDecision d = Resolve(new IdentityRequest { UserNs = "keep-id:size=2000" });

        Assert.Equal([new IdMapEntry(0, 100000, 1001), new IdMapEntry(1001, 1001, 1), new IdMapEntry(1002, 101001, 998)], d.Plan.UidMap);
    }

    [Fact]
    public void KeepIdWithoutARangeMapsOnlyYouAndWarns()
    {
        IdentityDecision d = Resolve(new IdentityRequest { UserNs = "keep-id" }, SubordinateIds.None);

        Assert.Equal([new IdMapEntry(1001, 1001, 1)], d.Plan.UidMap);
        Assert.Equal(IdMapWriter.Direct, d.Plan.Writer);
        Assert.Contains("only your own ids are mapped", Assert.Single(d.Warnings));
    }

    [Fact]
    public void AutoIsRootWithTheWholeRange()
    {
        IdentityDecision d = Resolve(new IdentityRequest { UserNs = "auto" }, Users.Files("alice:100000:65536\nalice:300000:1000\n"));

        Assert.Equal("auto", d.Plan.Mode);
        Assert.Equal([new IdMapEntry(0, 1001, 1), new IdMapEntry(1, 100000, 65536), new IdMapEntry(65537, 300000, 1000)], d.Plan.UidMap);
        Assert.True(d.IsContainerRoot);
        Assert.Equal("/root", d.HomeDestination);
        Assert.Equal(Capabilities.All, d.Capabilities.Permitted);
    }

    [Fact]
    public void AutoSizeCountsRootToo()
    {
        IdentityDecision d = Resolve(new IdentityRequest { UserNs = "auto:size=1024" });

        Assert.Equal([new IdMapEntry(0, 1001, 1), new IdMapEntry(1, 100000, 1023)], d.Plan.UidMap);
    }

    [Fact]
    public void AutoSizeBeyondTheRangeIsRefused()
    {
        var e = Assert.Throws<BurrowException>(() => Resolve(new IdentityRequest { UserNs = "auto:size=65538" }));

        Assert.Contains("size=65538 needs 65537 subordinate ids besides yours, and /etc/subuid gives you 65536", e.Message);
        Assert.Contains("size=65537", e.Hint);
    }

    [Fact]
    public void AutoWithoutARangeIsRefused()
    {
        var e = Assert.Throws<BurrowException>(() => Resolve(new IdentityRequest { UserNs = "auto" }, SubordinateIds.None));

        Assert.Contains("--userns=auto needs a range in /etc/subuid and /etc/subgid", e.Message);
    }

    [Theory]
    [InlineData(true, "uid:5", null, "--fakeroot and --security uid:/gid: both choose who the payload is")]
    [InlineData(true, null, "auto", "--fakeroot and --userns=auto both choose the user namespace")]
    [InlineData(false, "gid:5", "keep-id", "--security uid:/gid: and --userns=keep-id both choose who the payload is")]
    public void ConflictingModesAreRefused(bool fakeRoot, string? security, string? userNs, string message)
    {
        var request = new IdentityRequest { FakeRoot = fakeRoot, Security = security is null ? [] : [security], UserNs = userNs };

        var e = Assert.Throws<BurrowException>(() => Resolve(request));

        Assert.Contains(message, e.Message);
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }

    [Fact]
    public void RootModesStartFromAllCapabilitiesLessDropped()
    {
        IdentityDecision d = Resolve(new IdentityRequest { FakeRoot = true, DropCaps = ["CAP_SYS_ADMIN", "net_raw"] });

        Assert.Equal(Capabilities.All & ~(1UL << 21) & ~(1UL << 13), d.Capabilities.Bounding);
        Assert.Contains(d.Plan.Explanation, l => l.Contains("--drop-caps CAP_NET_RAW,CAP_SYS_ADMIN"));
    }

    [Fact]
    public void NoPrivsDropsAllAndAddCapsAddsBack()
    {
        Assert.Equal(CapabilitySets.None, Resolve(new IdentityRequest { FakeRoot = true, NoPrivs = true }).Capabilities);

        IdentityDecision d = Resolve(new IdentityRequest { UserNs = "auto", NoPrivs = true, AddCaps = ["net_admin", "chown"] });
        Assert.Equal((1UL << 12) | 1UL, d.Capabilities.Effective);
        Assert.Equal(0UL, d.Capabilities.Ambient);
    }

    [Fact]
    public void DropWinsOverAdd()
    {
        IdentityDecision d = Resolve(new IdentityRequest { FakeRoot = true, NoPrivs = true, AddCaps = ["all"], DropCaps = ["sys_admin"] });

        Assert.Equal(Capabilities.All & ~(1UL << 21), d.Capabilities.Effective);
    }

    [Theory]
    [InlineData(null, null, "the payload is not root in its user namespace (mode default, uid 1001)")]
    [InlineData("uid:0", null, "--security ids never come with capabilities")]
    [InlineData(null, "keep-id", "the payload is not root in its user namespace (mode keep-id, uid 1001)")]
    public void CapabilitiesForANonRootPayloadAreRefused(string? security, string? userNs, string message)
    {
        var request = new IdentityRequest { AddCaps = ["net_admin"], Security = security is null ? [] : [security], UserNs = userNs };

        var e = Assert.Throws<BurrowException>(() => Resolve(request));

        Assert.Contains("--add-caps CAP_NET_ADMIN: " + message, e.Message);
        Assert.Contains("--fakeroot", e.Hint);
    }

    [Fact]
    public void DroppingFromNothingIsHarmless()
    {
        IdentityDecision d = Resolve(new IdentityRequest { DropCaps = ["CAP_NET_RAW"], NoPrivs = true });

        Assert.Equal(CapabilitySets.None, d.Capabilities);
    }

    [Fact]
    public void BadCapabilityNamesAreReportedEvenInTheDefaultMode()
    {
        Assert.Throws<BurrowException>(() => Resolve(new IdentityRequest { DropCaps = ["CAP_BOGUS"] }));
    }

    [Theory]
    [InlineData(false, null, null)]
    [InlineData(true, null, null)]
    [InlineData(false, "uid:3210", null)]
    [InlineData(false, null, "keep-id")]
    [InlineData(false, null, "auto")]
    public void EveryModeExplainsItself(bool fakeRoot, string? security, string? userNs)
    {
        IdentityDecision d = Resolve(new IdentityRequest { FakeRoot = fakeRoot, Security = security is null ? [] : [security], UserNs = userNs });

        Assert.True(d.Plan.Explanation.Count >= 2, string.Join("\n", d.Plan.Explanation));
        Assert.Contains(d.Plan.Explanation, l => l.StartsWith("capabilities", StringComparison.Ordinal));
    }
}

/// <summary>What the kernel and newuidmap accept, checked on every decision the tests make.</summary>
internal static class KernelRules
{
    public static void AssertValid(IdentityDecision d, HostUser user)
    {
        AssertMap(d.Plan.UidMap, user.Uid, d.Plan.Writer, d.Uid);
        AssertMap(d.Plan.GidMap, user.Gid, d.Plan.Writer, d.Gid);
        if (d.Plan.Writer == IdMapWriter.Direct)
        {
            // An unprivileged writer may map only its own id, and gid_map only after setgroups is denied.
            Assert.False(d.Plan.AllowSetgroups);
        }
        foreach (uint g in d.SupplementaryGroups)
        {
            Assert.True(d.Plan.AllowSetgroups == false || Maps(d.Plan.GidMap, g), $"group {g} is not mapped");
        }
    }

    private static void AssertMap(IReadOnlyList<IdMapEntry> map, uint ownId, IdMapWriter writer, uint payloadId)
    {
        Assert.InRange(map.Count, 1, 340);
        Assert.True(Maps(map, payloadId), $"the payload's id {payloadId} is not mapped");
        if (writer == IdMapWriter.Direct)
        {
            IdMapEntry only = Assert.Single(map);
            Assert.Equal(ownId, only.HostId);
            Assert.Equal(1u, only.Count);
        }
        for (int i = 0; i < map.Count; i++)
        {
            Assert.True(map[i].Count > 0);
            Assert.True((ulong)map[i].ContainerId + map[i].Count <= uint.MaxValue);
            Assert.True((ulong)map[i].HostId + map[i].Count <= uint.MaxValue);
            for (int j = i + 1; j < map.Count; j++)
            {
                Assert.False(Overlap(map[i].ContainerId, map[j].ContainerId, map[i].Count, map[j].Count), $"container sides overlap: {map[i]} {map[j]}");
                Assert.False(Overlap(map[i].HostId, map[j].HostId, map[i].Count, map[j].Count), $"host sides overlap: {map[i]} {map[j]}");
            }
        }
    }

    private static bool Maps(IReadOnlyList<IdMapEntry> map, uint id) =>
        map.Any(e => id >= e.ContainerId && id < (ulong)e.ContainerId + e.Count);

    private static bool Overlap(uint a, uint b, uint na, uint nb) => a < (ulong)b + nb && b < (ulong)a + na;
}
