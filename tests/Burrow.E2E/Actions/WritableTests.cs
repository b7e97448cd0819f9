using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>--writable binds a sandbox the caller owns read-write; without it the root is read-only, and an image the caller cannot write is refused.</summary>
public sealed class WritableTests : IDisposable
{
    private static TestUser User => E2EEnvironment.UserWithRange;

    private readonly string _sandbox = Path.Combine("/var/tmp", "burrow-e2e-writable-" + Guid.NewGuid().ToString("N")[..8]);

    public WritableTests()
    {
        ActionImage.Run("cp", "-a", E2EEnvironment.BusyboxTree, _sandbox);
        if (E2EEnvironment.IsRoot)
        {
            ActionImage.Run("chown", "-R", $"{User.Uid}:{User.Gid}", _sandbox);
        }
    }

    public void Dispose() => ActionImage.Run("rm", "-rf", _sandbox);

    [Fact]
    public void WritableSandboxKeepsChangesButNotTheGeneratedPasswd()
    {
        string passwdBefore = File.ReadAllText(Path.Combine(_sandbox, "etc", "passwd"));
        RunResult r = AsUser.Run(User, [E2EEnvironment.Burrow, "exec", "--writable", _sandbox, "sh", "-c", "echo kept > /made-inside; tail -n 1 /etc/passwd"], cwd: "/");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith($"{User.Name}:x:{User.Uid}:", r.Stdout);
        Assert.Equal("kept\n", File.ReadAllText(Path.Combine(_sandbox, "made-inside")));
        Assert.Equal(passwdBefore, File.ReadAllText(Path.Combine(_sandbox, "etc", "passwd")));
    }

    [Fact]
    public void WithoutWritableTheRootIsReadOnlyEvenForItsOwner()
    {
        RunResult r = AsUser.Run(User, [E2EEnvironment.Burrow, "exec", _sandbox, "sh", "-c", "echo no > /made-inside"], cwd: "/");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Read-only file system", r.Stderr);
        Assert.False(File.Exists(Path.Combine(_sandbox, "made-inside")));
    }

    [Fact]
    [Trait("Category", "SandboxOnly")] // a SIF is refused for another reason (SifRunTests)
    public void WritableOnAnImageTheCallerCannotWriteIsRefused()
    {
        RunResult r = AsUser.Burrow(User, "exec", "--writable", E2EEnvironment.BusyboxImage, "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"ERROR:   --writable: you cannot write to the image {E2EEnvironment.BusyboxImage}", r.Stderr);
    }
}
