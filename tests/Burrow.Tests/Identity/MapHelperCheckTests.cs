using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;

namespace Burrow.Tests.Identity;

public class MapHelperCheckTests
{
    private static readonly MapHelperFacts Good = new()
    {
        Name = "newuidmap",
        Path = "/usr/bin/newuidmap",
        Searched = ["/usr/bin/newuidmap"],
        IsRegularFile = true,
        Executable = true,
        OwnerUid = 0,
        SetUid = true,
    };

    [Fact]
    public void SetuidRootIsUsable()
    {
        MapHelperCheck.Require(Good);
    }

    [Fact]
    public void TheRightFileCapabilityIsUsable()
    {
        MapHelperCheck.Require(Good with { SetUid = false, FileCapabilities = 1UL << 7 });
        MapHelperCheck.Require(Good with { Name = "newgidmap", SetUid = false, FileCapabilities = 1UL << 6 });
    }

    [Fact]
    public void MissingNamesThePackage()
    {
        var e = Assert.Throws<BurrowException>(() => MapHelperCheck.Require(Good with { Path = null, Searched = ["/usr/bin/newuidmap", "/bin/newuidmap"] }));

        Assert.Equal("newuidmap is not installed (looked in /usr/bin/newuidmap, /bin/newuidmap); mapping your subordinate id range needs it", e.Message);
        Assert.Contains("apt-get install uidmap", e.Hint);
    }

    [Fact]
    public void AMissingOverrideSaysWhichVariable()
    {
        var e = Assert.Throws<BurrowException>(() => MapHelperCheck.Require(Good with { Path = null, Searched = ["/tmp/x"], OverrideVariable = "BURROW_NEWUIDMAP" }));

        Assert.StartsWith("BURROW_NEWUIDMAP=/tmp/x is not a regular file", e.Message);
    }

    [Theory]
    [InlineData(false, 0u, null, "is neither setuid root nor has the cap_setuid file capability")]
    [InlineData(true, 1000u, null, "is setuid but owned by uid 1000, not root")]
    [InlineData(false, 0u, 64UL, "has file capabilities but not cap_setuid")]
    public void WithoutPrivilegeItSaysWhatToCheck(bool setUid, uint owner, ulong? caps, string message)
    {
        var e = Assert.Throws<BurrowException>(() => MapHelperCheck.Require(Good with { SetUid = setUid, OwnerUid = owner, FileCapabilities = caps }));

        Assert.Contains("/usr/bin/newuidmap " + message, e.Message);
        Assert.Contains("ls -l /usr/bin/newuidmap", e.Hint);
        Assert.Contains("getcap /usr/bin/newuidmap", e.Hint);
        Assert.Contains("uidmap package", e.Hint);
    }

    [Fact]
    public void NotExecutableIsRefused()
    {
        Assert.Contains("is not executable", Assert.Throws<BurrowException>(() => MapHelperCheck.Require(Good with { Executable = false })).Message);
    }

    [Fact]
    public void NoNewPrivsAndNosuidVoidThePrivilege()
    {
        Assert.Contains("without cap_setuid in its capability bounding set", Assert.Throws<BurrowException>(() => MapHelperCheck.Require(Good with { BoundingSet = ~(1UL << 7) })).Message);
        MapHelperCheck.Require(Good with { BoundingSet = 1UL << 7 });
        Assert.Contains("no_new_privs", Assert.Throws<BurrowException>(() => MapHelperCheck.Require(Good with { NoNewPrivileges = true })).Message);
        Assert.Contains("mounted nosuid", Assert.Throws<BurrowException>(() => MapHelperCheck.Require(Good with { OnNoSuidMount = true })).Message);
    }
}

public class MountInfoTests
{
    private const string Sample =
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" +
        "30 22 0:25 / /usr rw,nosuid,nodev shared:2 - overlay overlay rw\n" +
        "31 22 0:26 / /usr/bin/x rw shared:3 - tmpfs tmpfs rw\n" +
        "32 22 0:27 / /mnt/with\\040space ro,nosuid - tmpfs tmpfs rw\n" +
        "33 22 0:28 / /usrlocal rw,nosuid - tmpfs tmpfs rw\n";

    [Theory]
    [InlineData("/usr/bin/newuidmap", true)]
    [InlineData("/usr", true)]
    [InlineData("/usr/bin/x/newuidmap", false)]
    [InlineData("/bin/newuidmap", false)]
    [InlineData("/usrl", false)]
    [InlineData("/mnt/with space/newuidmap", true)]
    public void TheLongestMountPointDecides(string path, bool noSuid)
    {
        Assert.Equal(noSuid, MountInfo.IsNoSuid(Sample, path));
    }

    [Fact]
    public void ALaterMountOnTheSamePointWins()
    {
        string text = Sample + "40 30 0:30 / /usr rw - tmpfs tmpfs rw\n";

        Assert.False(MountInfo.IsNoSuid(text, "/usr/bin/newuidmap"));
    }
}
