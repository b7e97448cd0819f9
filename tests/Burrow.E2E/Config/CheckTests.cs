using System.Text.Json;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Config;

/// <summary><c>burrow check</c> as the unprivileged users: what this machine lets each of them do, and the fix for what is missing.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CheckTests
{
    private static JsonElement Feature(JsonDocument doc, string name) =>
        doc.RootElement.GetProperty("features").EnumerateArray().Single(f => f.GetProperty("feature").GetString() == name);

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void CheckSaysContainersRunAndFindsARealUserNamespaceAndOverlay(TestUser user)
    {
        RunResult r = AsUser.Burrow(user, "check", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        Assert.True(doc.RootElement.GetProperty("usable").GetBoolean());
        Assert.Equal("OK", Feature(doc, "user namespaces").GetProperty("status").GetString());
        Assert.Contains("burrow-starter made one", Feature(doc, "user namespaces").GetProperty("detail").GetString());
        Assert.Equal("OK", Feature(doc, "overlay in a user namespace").GetProperty("status").GetString());
        Assert.Equal("OK", Feature(doc, "/dev/fuse").GetProperty("status").GetString());
        Assert.Equal("OK", Feature(doc, "installation").GetProperty("status").GetString());
        Assert.Contains(E2EEnvironment.Prefix, Feature(doc, "installation").GetProperty("detail").GetString());
        foreach (string helper in new[] { "squashfuse_ll", "unsquashfs", "mksquashfs", "tar2sqfs", "fuse-overlayfs", "gocryptfs", "newuidmap/newgidmap" })
        {
            Assert.Equal("OK", Feature(doc, helper).GetProperty("status").GetString());
        }
        Assert.Matches(@"^/usr/bin/unsquashfs \d+\.\d+", Feature(doc, "unsquashfs").GetProperty("detail").GetString());
    }

    [Fact]
    public void ASubordinateRangeIsReportedAndItsAbsenceComesWithTheFix()
    {
        using JsonDocument with = JsonDocument.Parse(AsUser.Burrow(E2EEnvironment.UserWithRange, "check", "--json").Stdout);
        Assert.Equal("OK", Feature(with, "subordinate ids").GetProperty("status").GetString());
        if (E2EEnvironment.UserWithRange == E2EEnvironment.UserWithoutRange)
        {
            return; // one account only (not root): there is no user without a range to ask
        }
        RunResult r = AsUser.Burrow(E2EEnvironment.UserWithoutRange, "check");
        Assert.True(r.ExitCode == 0, r.ToString()); // a missing range limits some options; containers still run
        string name = E2EEnvironment.UserWithoutRange.Name;
        Assert.Contains($"MISSING subordinate ids", r.Stdout);
        Assert.Contains($"{name} has no range in /etc/subuid and /etc/subgid: --fakeroot maps only root, --userns=auto and keep-id cannot be used", r.Stdout);
        Assert.Contains($"fix: an administrator: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {name}", r.Stdout);
        Assert.Contains("Burrow can run containers here (what is MISSING above only limits some images and options)\n", r.Stdout);
    }

    [Fact]
    public void AHelperMissingFromBinaryPathIsReportedWithThePackage()
    {
        using var install = new AdminInstallation();
        install.Configure("binary-path = \"/nonexistent/bin\"\n");
        RunResult r = install.Run(E2EEnvironment.UserWithoutRange, "check", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        JsonElement unsquashfs = Feature(doc, "unsquashfs");
        Assert.Equal("MISSING", unsquashfs.GetProperty("status").GetString());
        Assert.StartsWith("not found in binary-path (/nonexistent/bin)", unsquashfs.GetProperty("detail").GetString());
        Assert.Equal("install squashfs-tools (apt install squashfs-tools), or add its directory to binary-path in burrow.conf", unsquashfs.GetProperty("fix").GetString());
    }

    [Fact]
    public void ABadConfigurationIsReportedAsMissingNotAsACrash()
    {
        using var install = new AdminInstallation();
        install.Configure("mount-hme = \"no\"\n");
        RunResult r = install.Run(E2EEnvironment.UserWithoutRange, "check");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"MISSING configuration", r.Stdout);
        Assert.Contains($"{install.ConfigFile} line 1: unknown key 'mount-hme'", r.Stdout);
        Assert.Contains("fix: did you mean 'mount-home'?", r.Stdout);
        Assert.Contains("Burrow cannot run containers here until what is MISSING above (and required) is fixed\n", r.Stdout);
        RunResult alias = install.Run(E2EEnvironment.UserWithoutRange, "config", "check");
        Assert.Equal(1, alias.ExitCode);
        Assert.Contains($"{install.ConfigFile} line 1: unknown key 'mount-hme'", alias.Stdout);
    }
}
