using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Launch;

namespace Burrow.Tests.Runtime;

/// <summary>newuidmap/newgidmap lookup: a missing or powerless helper is a clear error with the fix.</summary>
public sealed class IdMapHelperTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("burrow-helpers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MissingHelperNamesThePackage()
    {
        var e = Assert.Throws<BurrowException>(() => IdMapWriting.FindHelper("newuidmap", [_dir]));
        Assert.Contains("newuidmap is not installed", e.Message);
        Assert.Contains("uidmap", e.Hint);
    }

    [Fact]
    public void HelperWithoutSetuidOrCapabilitiesSaysHowToFixIt()
    {
        string fake = Path.Combine(_dir, "newgidmap");
        File.WriteAllText(fake, "#!/bin/sh\n");
        Burrow.Linux.FileSystem.SetMode(fake, 0x1ed);
        var e = Assert.Throws<BurrowException>(() => IdMapWriting.FindHelper("newgidmap", [_dir]));
        Assert.Contains("is neither setuid root nor given file capabilities", e.Message);
        Assert.Contains("chmod u+s " + fake, e.Hint);
    }

    [Fact]
    public void InstalledSetuidHelperIsFound()
    {
        // uidmap is in BURROW_DEBIAN_PACKAGES: scripts/setup installs it.
        Assert.Equal("/usr/bin/newuidmap", IdMapWriting.FindHelper("newuidmap", ["/usr/bin"]));
    }
}
