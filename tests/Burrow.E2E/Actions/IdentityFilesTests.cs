using System.Security.Cryptography;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>The caller's /etc/passwd and /etc/group lines in the default container; the image is never modified.</summary>
public class IdentityFilesTests
{
    private static string Hash(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    private static string HostGroupName(uint gid) =>
        File.ReadLines("/etc/group").Select(l => l.Split(':')).First(f => f[2] == gid.ToString(System.Globalization.CultureInfo.InvariantCulture))[0];

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void CallerIsAppendedToPasswdAndGroupsWithoutTouchingTheImage(TestUser user)
    {
        string passwd = Path.Combine(E2EEnvironment.BusyboxTree, "etc", "passwd");
        string group = Path.Combine(E2EEnvironment.BusyboxTree, "etc", "group");
        (string p, string g) before = (Hash(passwd), Hash(group));

        RunResult r = AsUser.Burrow(user, "exec", E2EEnvironment.BusyboxImage, "cat", "/etc/passwd", "/etc/group");
        Assert.True(r.ExitCode == 0, r.ToString());
        string[] lines = r.Stdout.Split('\n');
        Assert.Contains("root:x:0:0:root:/root:/bin/sh", lines);
        string shell = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).First(f => f[0] == user.Name)[6];
        Assert.Contains($"{user.Name}:x:{user.Uid}:{user.Gid}::{user.Home}:{shell}", lines);
        Assert.Contains($"{HostGroupName(user.Gid)}:x:{user.Gid}:{user.Name}", lines);

        Assert.Equal(before, (Hash(passwd), Hash(group)));
    }

    [Fact]
    public void ExistingLineWithTheCallersUidIsRewritten()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        // Debian's image has no line with the test user's uid unless the ids collide; the sudo image's
        // "nobody" (65534) shows how other owners appear. Use a sandbox copy with a line for the uid.
        string root = Path.Combine(Path.GetTempPath(), "burrow-e2e-passwd-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            Directory.CreateDirectory(Path.Combine(root, "bin"));
            File.Copy(Path.Combine(E2EEnvironment.BusyboxTree, "bin", "busybox"), Path.Combine(root, "bin", "busybox"));
            File.WriteAllText(Path.Combine(root, "etc", "passwd"), $"root:x:0:0:root:/root:/bin/sh\nimageuser:x:{user.Uid}:4242:Image User:/home/imageuser:/bin/ash\n");
            File.WriteAllText(Path.Combine(root, "etc", "group"), "root:x:0:\n");
            ActionImage.Run("chmod", "-R", "a+rX", root);
            ActionImage.Run("chmod", "0755", Path.Combine(root, "bin", "busybox"));

            RunResult r = AsUser.Burrow(user, "exec", root, "/bin/busybox", "cat", "/etc/passwd");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains($"{user.Name}:x:{user.Uid}:4242::{user.Home}:/bin/ash\n", r.Stdout);
            Assert.DoesNotContain("imageuser", r.Stdout);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void DebianWalkthroughLastPasswdLineIsTheCaller()
    {
        TestUser user = E2EEnvironment.UserWithRange;
        RunResult r = AsUser.Burrow(user, "exec", E2EEnvironment.DebianImage, "tail", "-n", "1", "/etc/passwd");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith($"{user.Name}:x:{user.Uid}:{user.Gid}::{user.Home}:", r.Stdout);
    }

    [Fact]
    public void IdsAreTheCallers()
    {
        TestUser user = E2EEnvironment.UserWithoutRange;
        RunResult r = AsUser.Burrow(user, "exec", E2EEnvironment.BusyboxImage, "id");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith($"uid={user.Uid}({user.Name}) gid={user.Gid}(", r.Stdout);
    }
}
