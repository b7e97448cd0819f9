using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Burrow.Core.Fuse;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Tests.Fuse;

/// <summary>
/// The server behind a real mount. This multithreaded process cannot enter a user namespace, so a small helper
/// (fuse_mount_helper.py) runs under `unshare --user --map-root-user --mount` — as the unprivileged test user when
/// the tests run as root — opens /dev/fuse there, mounts it as the stage will, passes the descriptor back over a unix
/// socket, and reports what it sees in the mount; the server runs here, on the received descriptor.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FuseMountTests
{
    private static MemoryFileSystem Image(out Dictionary<string, (int Size, string Sha)> files)
    {
        var fs = new MemoryFileSystem();
        var expected = new Dictionary<string, (int Size, string Sha)>();
        files = expected;
        void File(string path, byte[] content, uint uid = 0, uint gid = 0, uint mode = 0b110_100_100)
        {
            fs.AddFile(path, content, mode, uid, gid);
            expected[path] = (content.Length, Convert.ToHexStringLower(SHA256.HashData(content)));
        }
        fs.AddDirectory("etc");
        fs.AddDirectory("home", uid: 1000, gid: 1000);
        fs.AddDirectory("many");
        File("etc/passwd", Encoding.ASCII.GetBytes("root:x:0:0::/root:/bin/sh\n"));
        File("etc/sudo.conf", MemoryFileSystem.Pattern(1, 1234), uid: 0, gid: 0);
        File("home/notes", MemoryFileSystem.Pattern(2, 70_000), uid: 1000, gid: 1000);
        File("srv", MemoryFileSystem.Pattern(3, 5), uid: 4242, gid: 4242);
        File("empty", []);
        for (int i = 0; i < 500; i++)
        {
            File($"many/f{i:D4}", MemoryFileSystem.Pattern(100 + i, 1 + i * 37));
        }
        fs.AddFile("big", MemoryFileSystem.Pattern(9, 8 << 20 | 4321), 0b111_101_101, 0, 0);
        fs.AddSymlink("etc/localtime", "/usr/share/zoneinfo/Etc/UTC");
        fs.SetXattr("etc/passwd", "user.comment", Encoding.ASCII.GetBytes("a comment of some length"));
        fs.SetXattr("etc/passwd", "user.other", [1, 2, 3]);
        return fs;
    }

    [FuseMountTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void AContainerSeesTheTreeItsOwnersAndItsBytesAndTheServerEndsWithTheNamespace(bool clonePerThread)
    {
        MemoryFileSystem fs = Image(out Dictionary<string, (int Size, string Sha)> files);
        byte[] big = MemoryFileSystem.Pattern(9, 8 << 20 | 4321);
        var spec = new JsonObject
        {
            ["mode"] = "check",
            ["owners"] = new JsonArray("etc/sudo.conf", "home/notes", "srv", "home"),
            ["files"] = new JsonObject(files.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)new JsonArray(f.Value.Size, f.Value.Sha)))),
            ["big"] = new JsonArray("big", new JsonArray(big.Length, Convert.ToHexStringLower(SHA256.HashData(big)))),
            ["link"] = new JsonArray("etc/localtime"),
            ["xattr"] = new JsonArray("etc/passwd", "user.comment"),
        };
        using var helper = new MountHelper(spec);
        using FuseServer server = FuseServer.Start(helper.Device, fs, new FuseServerOptions { ImageName = "test.sif", CloneDevicePerThread = clonePerThread });
        JsonObject seen = helper.Result();

        Assert.Equal(0x4000 | 0b111_101_101, (int)seen["root_mode"]!);
        Assert.Equal(["big", "empty", "etc", "home", "many", "srv"], seen["root_listing"]!.AsArray().Select(n => (string)n!));
        // Only the helper's root is mapped (to the user who ran it): image owners 1000 and 4242 show as nobody.
        Assert.Equal("[0,0]", seen["owners"]!["etc/sudo.conf"]!.ToJsonString());
        Assert.Equal("[65534,65534]", seen["owners"]!["home/notes"]!.ToJsonString());
        Assert.Equal("[65534,65534]", seen["owners"]!["srv"]!.ToJsonString());
        Assert.Equal("[65534,65534]", seen["owners"]!["home"]!.ToJsonString());
        Assert.Equal(500, (int)seen["many_count"]!);
        Assert.Empty(seen["bad_files"]!.AsArray());
        Assert.Equal(0, (int)seen["concurrent_failures"]!);
        Assert.True((bool)seen["big_ok"]!);
        Assert.True((bool)seen["big_direct_ok"]!);
        Assert.Equal(FuseSession.MaxRead, server.LargestRead); // max_pages took: 1 MiB READs
        Assert.Equal("/usr/share/zoneinfo/Etc/UTC", (string)seen["readlink"]!);
        Assert.Equal(["user.comment", "user.other"], seen["listxattr"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("a comment of some length", (string)seen["getxattr"]!);
        Assert.Equal(24, (int)seen["getxattr_probe"]!);
        Assert.Equal("ERANGE", (string)seen["getxattr_small"]!);
        Assert.Equal("ENODATA", (string)seen["getxattr_missing"]!);
        Assert.Equal("user.comment\0user.other\0".Length, (int)seen["listxattr_probe"]!);
        Assert.Equal("ENOENT", (string)seen["missing"]!);
        Assert.Equal("EROFS", (string)seen["write_open"]!);
        Assert.Equal("EROFS", (string)seen["mkdir"]!);
        Assert.Equal("EROFS", (string)seen["chmod"]!);
        Assert.Equal("[131072,1000,", seen["statvfs"]!.ToJsonString()[..13]);
        JsonNode mountinfo = seen["mountinfo"]!;
        Assert.Equal("fuse.burrow", (string)mountinfo["type"]!);
        Assert.Equal("burrow", (string)mountinfo["source"]!);
        Assert.StartsWith("ro,nosuid,nodev", (string)mountinfo["options"]!);
        Assert.Contains("default_permissions", (string)mountinfo["super"]!);
        Assert.Contains("allow_other", (string)mountinfo["super"]!);

        // The helper has exited: its mount namespace, and so the mount, are gone, and the kernel ended the connection.
        Assert.True(server.Wait(TimeSpan.FromSeconds(20)), "the server still serves after the mount went away");
        Assert.Equal(FuseServerExit.Unmounted, server.Completion.Result);
        Assert.Equal(0, server.FailureCount);
        // The kernel was told ENOSYS once and then opened without asking; FLUSH likewise (zero-message opens carry
        // no FOPEN_NOFLUSH, so the first close asks once).
        Assert.Equal(1, server.CountOf(FuseOpcode.Open));
        Assert.Equal(1, server.CountOf(FuseOpcode.Flush));
        Assert.Equal(0, server.CountOf(FuseOpcode.Release));
    }

    [FuseMountFact]
    public void StopEndsEveryWorkerPromptlyWhileTheMountIsStillThere()
    {
        MemoryFileSystem fs = Image(out _);
        using var helper = new MountHelper(new JsonObject { ["mode"] = "hold" });
        FuseServer server = FuseServer.Start(helper.Device, fs, new FuseServerOptions { Threads = 4 });
        Assert.True((bool)helper.NextLine()["root_is_dir"]!);
        var clock = Stopwatch.StartNew();
        server.Stop();
        Assert.True(server.Wait(TimeSpan.FromSeconds(5)), "Stop did not wake the workers");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"stopping took {clock.Elapsed}");
        Assert.Equal(FuseServerExit.Stopped, server.Completion.Result);
        server.Dispose(); // closes the descriptor: the connection ends and the mount answers ENOTCONN
        helper.Continue();
        Assert.Equal(107 /* ENOTCONN */, (int)helper.NextLine()["after_stop"]!);
    }
}

/// <summary>Whether and how this machine lets an unprivileged user mount FUSE in a user namespace.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class FuseMountEnvironment
{
    public static readonly bool IsRoot = Environment.UserName == "root" || GetUid() == 0;

    /// <summary>The user the helper runs as: the caller, or burrowsub when the tests run as root (as CI does).</summary>
    public static readonly (uint Uid, uint Gid)? HelperUser = ResolveHelperUser();

    public static readonly string? SkipReason = FindSkipReason();

    public static ProcessStartInfo Command(IReadOnlyList<string> argv)
    {
        var psi = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var full = new List<string>();
        if (IsRoot)
        {
            (uint uid, uint gid) = HelperUser!.Value;
            full.AddRange(["setpriv", $"--reuid={uid}", $"--regid={gid}", "--init-groups", "--"]);
        }
        full.AddRange(["unshare", "--user", "--map-root-user", "--mount", .. argv]);
        psi.FileName = full[0];
        foreach (string a in full.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }

    private static uint GetUid() => uint.TryParse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal))
        .Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], out uint u) ? u : uint.MaxValue;

    private static (uint, uint)? ResolveHelperUser()
    {
        if (!IsRoot)
        {
            return null;
        }
        string? line = File.ReadLines("/etc/passwd").FirstOrDefault(l => l.StartsWith("burrowsub:", StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }
        string[] f = line.Split(':');
        return (uint.Parse(f[2]), uint.Parse(f[3]));
    }

    private static string? FindSkipReason()
    {
        if (!File.Exists("/dev/fuse"))
        {
            return "no /dev/fuse on this machine";
        }
        if (IsRoot && HelperUser is null)
        {
            return "running as root without the test user burrowsub (run scripts/setup): a mount made as root proves nothing";
        }
        if (IsRoot && (File.GetUnixFileMode("/dev/fuse") & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != (UnixFileMode.OtherRead | UnixFileMode.OtherWrite))
        {
            return "/dev/fuse is not read-writable by unprivileged users (scripts/setup makes it 0666)";
        }
        foreach (string tool in new[] { "/usr/bin/python3", "/usr/bin/unshare", "/usr/bin/setpriv" })
        {
            if (!File.Exists(tool))
            {
                return tool + " is missing";
            }
        }
        try
        {
            ProcessStartInfo psi = Command(["/usr/bin/python3", "-c", "import os; os.close(os.open('/dev/fuse', os.O_RDWR))"]);
            using Process p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : "cannot open /dev/fuse in an unprivileged user namespace here: " + err.Trim();
        }
        catch (Exception e)
        {
            return "cannot start a user namespace: " + e.Message;
        }
    }
}

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FuseMountFactAttribute : FactAttribute
{
    public FuseMountFactAttribute()
    {
        if (FuseMountEnvironment.SkipReason is string reason)
        {
            Skip = reason;
        }
    }
}

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FuseMountTheoryAttribute : TheoryAttribute
{
    public FuseMountTheoryAttribute()
    {
        if (FuseMountEnvironment.SkipReason is string reason)
        {
            Skip = reason;
        }
    }
}
