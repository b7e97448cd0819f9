using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Sharing;

namespace Burrow.Tests.Runtime;

public sealed class SharedImageKeyTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();

    private static readonly IdentityPlan Default = new()
    {
        Mode = "default", UidMap = [new IdMapEntry(1000, 1000, 1)], GidMap = [new IdMapEntry(1000, 1000, 1)], AllowSetgroups = false, Writer = IdMapWriter.Direct,
    };

    private static readonly IdentityPlan Fakeroot = Default with { Mode = "fakeroot", UidMap = [new IdMapEntry(0, 1000, 1), new IdMapEntry(1, 100000, 65536)] };

    public SharedImageKeyTests() => File.WriteAllBytes(_file, new byte[8192]);

    public void Dispose() => File.Delete(_file);

    private SharedImageKey Key(IdentityPlan identity, uint uid = 1000, string? step = null, long offset = 4096) =>
        SharedImageKey.For(new RootFsPlan(_file, RootFsKind.Squashfs, false) { Squashfs = new SquashfsLocation(offset, 4096) }, identity, uid,
            name => name switch { "SLURM_JOB_ID" => step is null ? null : "7", "SLURM_STEP_ID" => step, _ => null });

    [Fact]
    public void TheSameImageIdentityUserAndStepShareAServer()
    {
        Assert.Equal(Key(Default).DirectoryName, Key(Default).DirectoryName);
        Assert.Equal(Key(Default, step: "0").DirectoryName, Key(Default, step: "0").DirectoryName);
        Assert.Matches("^[0-9a-f]{32}$", Key(Default).DirectoryName);
    }

    [Fact]
    public void AnotherIdentityUserStepPartitionOrFileContentGetsAnother()
    {
        string key = Key(Default).DirectoryName;
        Assert.NotEqual(key, Key(Fakeroot).DirectoryName);
        Assert.NotEqual(key, Key(Default, uid: 1001).DirectoryName);
        Assert.NotEqual(key, Key(Default, step: "1").DirectoryName);
        Assert.NotEqual(key, Key(Default, offset: 0).DirectoryName);
        File.SetLastWriteTimeUtc(_file, DateTime.UtcNow.AddMinutes(-5)); // the file was rewritten
        Assert.NotEqual(key, Key(Default).DirectoryName);
    }
}
