using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;

namespace Burrow.Tests.Identity;

public class SecurityOptionTests
{
    [Fact]
    public void UidAndGidWithExtraGroups()
    {
        SecurityIds ids = SecurityOption.Parse(["uid:3210", "gid:3211:44:45:44:3211"]);

        Assert.Equal(3210u, ids.Uid);
        Assert.Equal(3211u, ids.Gid);
        Assert.Equal([44u, 45u], ids.ExtraGroups);
    }

    [Fact]
    public void NothingGivenIsNothing()
    {
        Assert.False(SecurityOption.Parse([]).Any);
    }

    [Theory]
    [InlineData("uid:abc", "--security uid:abc: 'abc' is not a valid uid")]
    [InlineData("uid:", "--security uid:: the uid is missing")]
    [InlineData("uid:-5", "'-5' is not a valid uid")]
    [InlineData("uid:4294967295", "not a valid uid")]
    [InlineData("gid:1:x", "'x' is not a valid group")]
    [InlineData("gid:", "the gid is missing")]
    [InlineData("user:3", "unknown key 'user'")]
    [InlineData("3210", "is not key:value")]
    [InlineData("apparmor:/usr/bin/man", "apparmor profiles are not supported")]
    public void MalformedValuesAreUsageErrors(string value, string message)
    {
        var e = Assert.Throws<BurrowException>(() => SecurityOption.Parse([value]));

        Assert.Contains(message, e.Message);
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }

    [Fact]
    public void TwoDifferentUidsAreRefused()
    {
        Assert.Contains("uid given twice", Assert.Throws<BurrowException>(() => SecurityOption.Parse(["uid:1", "uid:2"])).Message);
        Assert.Equal(1u, SecurityOption.Parse(["uid:1", "uid:1"]).Uid);
    }
}

public class UserNsOptionTests
{
    [Theory]
    [InlineData("keep-id", UserNsMode.KeepId, null, null, null)]
    [InlineData("keep-id:uid=2000,gid=3000", UserNsMode.KeepId, 2000u, 3000u, null)]
    [InlineData("keep-id:uid=0", UserNsMode.KeepId, 0u, null, null)]
    [InlineData("keep-id:size=1024", UserNsMode.KeepId, null, null, 1024u)]
    [InlineData("auto", UserNsMode.Auto, null, null, null)]
    [InlineData("auto:size=4096", UserNsMode.Auto, null, null, 4096u)]
    public void SupportedModes(string value, UserNsMode mode, uint? uid, uint? gid, uint? size)
    {
        Assert.Equal(new UserNsRequest(mode, uid, gid, size), UserNsOption.Parse(value));
    }

    [Fact]
    public void AbsentIsNull()
    {
        Assert.Null(UserNsOption.Parse(null));
    }

    [Theory]
    [InlineData("keepid", "unknown mode 'keepid'")]
    [InlineData("", "the mode is missing")]
    [InlineData("nomap", "Podman's mode 'nomap' is not supported")]
    [InlineData("keep-id:", "nothing after the ':'")]
    [InlineData("keep-id:uid=abc", "uid=abc is not a valid number")]
    [InlineData("keep-id:user=3", "unknown option 'user' for keep-id")]
    [InlineData("auto:uid=3", "unknown option 'uid' for auto")]
    [InlineData("auto:size=0", "size=0 is not a valid number")]
    public void BadValuesAreUsageErrorsThatListTheSupportedModes(string value, string message)
    {
        var e = Assert.Throws<BurrowException>(() => UserNsOption.Parse(value));

        Assert.Contains(message, e.Message);
        Assert.Contains("keep-id[:uid=U,gid=G,size=N]", e.Hint);
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }
}
