using Burrow.Core.Diagnostics;
using Burrow.Core.Files;

namespace Burrow.Tests.Hardening;

/// <summary>
/// Files.OutputFile, the one way Burrow writes a file at a path the user named (issue 13, item 1): whatever is planted
/// at the name is refused, never written through, and the directory holds the whole file or nothing.
/// </summary>
public sealed class OutputFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("burrow-output-").FullName;
    private readonly string _victim;

    public OutputFileTests()
    {
        _victim = Path.Combine(_dir, "victim");
        File.WriteAllText(_victim, "precious\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string At(string name) => Path.Combine(_dir, name);

    private string[] Names() => Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();

    private static void Write(string path, bool overwrite, string text)
    {
        using OutputFile output = OutputFile.Create(path, overwrite);
        output.Stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
        output.Commit();
    }

    [Fact]
    public void WritesTheWholeFileAndNothingElse()
    {
        Write(At("out.sif"), overwrite: false, "image");
        Assert.Equal("image", File.ReadAllText(At("out.sif")));
        Assert.Equal(["out.sif", "victim"], Names());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ASymlinkAtTheNameIsRefusedAndItsTargetKept(bool overwrite)
    {
        File.CreateSymbolicLink(At("out.sif"), _victim);
        var e = Assert.Throws<BurrowException>(() => Write(At("out.sif"), overwrite, "attacker's bytes"));
        Assert.Contains("it is a symbolic link", e.Message);
        Assert.Equal("precious\n", File.ReadAllText(_victim));
        Assert.Equal(_victim, new FileInfo(At("out.sif")).LinkTarget);
        Assert.Equal(["out.sif", "victim"], Names());
    }

    [Fact]
    public void ASymlinkPlantedBeforeCommitIsRefusedNotFollowed()
    {
        // Between Create and Commit another user swaps a symlink in at the name: Commit looks again and refuses;
        // and the rename it would have done replaces a directory entry, never writing through a link.
        using (OutputFile output = OutputFile.Create(At("out.sif"), overwrite: true))
        {
            output.Stream.Write("image"u8);
            File.CreateSymbolicLink(At("out.sif"), _victim);
            Assert.Throws<BurrowException>(output.Commit);
        }
        Assert.Equal("precious\n", File.ReadAllText(_victim));
        Assert.Equal(["out.sif", "victim"], Names());
    }

    [Fact]
    public void AnExistingFileIsKeptWithoutOverwrite()
    {
        File.WriteAllText(At("out.sif"), "old");
        var e = Assert.Throws<BurrowException>(() => Write(At("out.sif"), overwrite: false, "new"));
        Assert.Contains("image file already exists", e.Message);
        Assert.Equal("old", File.ReadAllText(At("out.sif")));
        Write(At("out.sif"), overwrite: true, "new");
        Assert.Equal("new", File.ReadAllText(At("out.sif")));
    }

    [Fact]
    public void AFileAppearingBeforeCommitIsNotReplacedWithoutOverwrite()
    {
        using (OutputFile output = OutputFile.Create(At("out.sif"), overwrite: false))
        {
            output.Stream.Write("mine"u8);
            File.WriteAllText(At("out.sif"), "theirs");
            var e = Assert.Throws<BurrowException>(output.Commit);
            Assert.Contains("already exists", e.Message);
        }
        Assert.Equal("theirs", File.ReadAllText(At("out.sif")));
        Assert.Equal(["out.sif", "victim"], Names());
    }

    [Fact]
    public void DisposeWithoutCommitLeavesNothing()
    {
        using (OutputFile output = OutputFile.Create(At("out.sif"), overwrite: false))
        {
            output.Stream.Write("half"u8);
        }
        Assert.Equal(["victim"], Names());
    }

    [Fact]
    public void TheTempNameIsNotPredictable()
    {
        using OutputFile a = OutputFile.Create(At("out.sif"), overwrite: false);
        using OutputFile b = OutputFile.Create(At("out.sif"), overwrite: false);
        string[] temps = Names().Where(n => n.StartsWith(".out.sif.burrow-", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, temps.Length);
        Assert.All(temps, t => Assert.DoesNotContain(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), t));
    }

    [Theory]
    [InlineData("dir", "it is a directory")]
    [InlineData("fifo", "FIFO")]
    [InlineData("missing/out.sif", "does not exist")]
    [InlineData("victim/out.sif", "is not a directory")]
    [InlineData("dir/", "names a directory")]
    public void WhatCannotBeWrittenIsSaidAsWhatItIs(string name, string says)
    {
        Directory.CreateDirectory(At("dir"));
        HostTools.Mkfifo(At("fifo"));
        var e = Assert.Throws<BurrowException>(() => Write(At(name), overwrite: true, "x"));
        Assert.Contains(says, e.Message);
        Assert.Equal(["dir", "fifo", "victim"], Names());
    }
}
