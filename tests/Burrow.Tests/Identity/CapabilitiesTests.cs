using System.Text.RegularExpressions;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;

namespace Burrow.Tests.Identity;

public class CapabilitiesTests
{
    [Theory]
    [InlineData("CAP_CHOWN", 0)]
    [InlineData("chown", 0)]
    [InlineData("cap_net_raw", 13)]
    [InlineData("Sys_Admin", 21)]
    [InlineData("CAP_SETFCAP", 31)]
    [InlineData("bpf", 39)]
    [InlineData("CAP_CHECKPOINT_RESTORE", 40)]
    [InlineData("CAP_NOPE", -1)]
    [InlineData("CAP_", -1)]
    public void NamesAreCaseInsensitiveWithAnOptionalPrefix(string name, int number)
    {
        Assert.Equal(number, Capabilities.NumberOf(name));
    }

    [Fact]
    public void TheTableMatchesTheKernelHeader()
    {
        // Compare against the real header (linux-libc-dev, pulled in by libc6-dev), not a copy of our own table.
        string header = File.ReadAllText("/usr/include/linux/capability.h");
        var defined = Regex.Matches(header, @"^#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value));

        Assert.Equal(defined.Count, Capabilities.Names.Count);
        foreach ((string name, int number) in defined)
        {
            Assert.Equal(name, Capabilities.NameOf(number));
        }
    }

    [Fact]
    public void TheTableCoversThisKernel()
    {
        int last = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim());

        Assert.True(Capabilities.LastCap >= last, $"kernel knows capabilities up to {last}, Burrow up to {Capabilities.LastCap}");
    }

    [Fact]
    public void ParseTakesListsAndAll()
    {
        Assert.Equal((1UL << 21) | (1UL << 12), Capabilities.Parse(["sys_admin", "CAP_NET_ADMIN", ""], "--add-caps"));
        Assert.Equal(Capabilities.All, Capabilities.Parse(["ALL"], "--add-caps"));
        Assert.Equal((1UL << 41) - 1, Capabilities.All);
    }

    [Fact]
    public void AnUnknownNameIsAnErrorNamingTheOption()
    {
        var e = Assert.Throws<BurrowException>(() => Capabilities.Parse(["net_admin", "net_admn"], "--drop-caps"));

        Assert.Equal("--drop-caps: unknown capability 'net_admn'", e.Message);
    }

    [Fact]
    public void DescribeNamesTheBits()
    {
        Assert.Equal("none", Capabilities.Describe(0));
        Assert.Equal("all", Capabilities.Describe(Capabilities.All));
        Assert.Equal("CAP_CHOWN,CAP_SYS_ADMIN", Capabilities.Describe(1 | (1UL << 21)));
    }

    [Fact]
    public void RootKeepsNothingInheritableOrAmbient()
    {
        var sets = Capabilities.ForRoot(Capabilities.All);

        Assert.Equal(Capabilities.All, sets.Bounding);
        Assert.Equal(Capabilities.All, sets.Effective);
        Assert.Equal(Capabilities.All, sets.Permitted);
        Assert.Equal(0UL, sets.Inheritable);
        Assert.Equal(0UL, sets.Ambient);
    }
}
