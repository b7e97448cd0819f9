using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
using Burrow.Linux;

namespace Burrow.Tests.Hardening;

/// <summary>
/// Files.TrustedDirectory (issue 13, item 5): the directories Burrow keeps state in are created with an explicit mode
/// whatever the umask, and every component on the way is one no other user can change.
/// </summary>
public sealed class TrustedDirectoryTests : IDisposable
{
    private const string Hint = "the hint";
    private readonly string _base = Directory.CreateTempSubdirectory("burrow-trusted-").FullName;

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private static int Mode(string path) => (int)(FileStatus.OfPath(path)!.Permissions & 0xfff);

    [Fact]
    public void MissingComponentsAreCreatedPrivate()
    {
        string cache = Path.Combine(_base, "home", ".cache", "burrow");
        using (DirectoryHandle dir = TrustedDirectory.Ensure(cache, "the cache directory", Hint))
        {
            Assert.Equal(cache, dir.Path);
        }
        Assert.Equal(0x1c0, Mode(Path.Combine(_base, "home")));
        Assert.Equal(0x1c0, Mode(Path.Combine(_base, "home", ".cache")));
        Assert.Equal(0x1c0, Mode(cache));
    }

    [Fact]
    public void AnExistingLastComponentIsTightened()
    {
        string cache = Path.Combine(_base, "cache");
        Directory.CreateDirectory(cache);
        HostTools.Chmod("0755", cache);
        TrustedDirectory.Ensure(cache, "the cache directory", Hint).Dispose();
        Assert.Equal(0x1c0, Mode(cache));
    }

    [Theory]
    [InlineData("0777", "is writable by everyone")]
    [InlineData("0775", "is writable by its group")]
    public void AComponentOthersMayWriteIsRefused(string mode, string says)
    {
        string shared = Path.Combine(_base, "shared");
        Directory.CreateDirectory(shared);
        HostTools.Chmod(mode, shared);
        var e = Assert.Throws<BurrowException>(() => TrustedDirectory.Ensure(Path.Combine(shared, "cache"), "the cache directory", Hint));
        Assert.Contains(shared + " " + says, e.Message);
        Assert.False(Directory.Exists(Path.Combine(shared, "cache")), "nothing is created under a directory that failed the check");
    }

    [Fact]
    public void AStickyDirectoryOthersMayWriteIsAccepted()
    {
        string tmp = Path.Combine(_base, "tmp");
        Directory.CreateDirectory(tmp);
        HostTools.Chmod("1777", tmp);
        TrustedDirectory.Ensure(Path.Combine(tmp, "burrow-1000"), "the session directory", Hint).Dispose();
        Assert.Equal(0x1c0, Mode(Path.Combine(tmp, "burrow-1000")));
    }

    [Fact]
    public void ASymlinkThroughAnUntrustedDirectoryIsRefused()
    {
        string shared = Path.Combine(_base, "shared");
        Directory.CreateDirectory(Path.Combine(shared, "real"));
        HostTools.Chmod("0777", shared);
        File.CreateSymbolicLink(Path.Combine(_base, "link"), Path.Combine(shared, "real"));
        var e = Assert.Throws<BurrowException>(() => TrustedDirectory.Ensure(Path.Combine(_base, "link", "cache"), "the cache directory", Hint));
        Assert.Contains("is writable by everyone", e.Message);
    }

    [Fact]
    public void ASymlinkToATrustedDirectoryIsFollowed()
    {
        Directory.CreateDirectory(Path.Combine(_base, "real"));
        File.CreateSymbolicLink(Path.Combine(_base, "link"), "real");
        TrustedDirectory.Ensure(Path.Combine(_base, "link", "cache"), "the cache directory", Hint).Dispose();
        Assert.True(Directory.Exists(Path.Combine(_base, "real", "cache")));
    }

    [Fact]
    public void AFileOnTheWayIsNamed()
    {
        File.WriteAllText(Path.Combine(_base, "file"), "");
        var e = Assert.Throws<BurrowException>(() => TrustedDirectory.Ensure(Path.Combine(_base, "file", "cache"), "the cache directory", Hint));
        Assert.Contains("is a regular file, not a directory", e.Message);
    }

    [Fact]
    public void OpenExistingCreatesNothing()
    {
        var e = Assert.Throws<BurrowException>(() => TrustedDirectory.OpenExisting(Path.Combine(_base, "none", "cache"), "the cache directory", Hint));
        Assert.Contains("does not exist", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_base, "none")));
    }
}
