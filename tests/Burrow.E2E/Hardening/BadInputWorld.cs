using Burrow.Core.Diagnostics;
using Burrow.E2E.Harness;
using Burrow.E2E.Oci;
using static Burrow.E2E.Hardening.Hardened;

namespace Burrow.E2E.Hardening;

/// <summary>
/// Everything the bad-input sweep points burrow at, made once per test user in a scratch directory the user owns:
/// FIFOs, loops, dangling links, unreadable files and directories, truncated and garbage archives and SIFs, sandboxes
/// with broken metadata, a planted symlink to a "victim" file, and caches that are files or unreadable. Paths in a
/// case's arguments are written with placeholders: {S} this directory, {IMG} the busybox image, {SIF} a valid SIF,
/// {DA}/{OA} the small docker-archive/oci-archive, {REG} the anonymous test registry.
/// </summary>
public sealed class BadInputWorld : IDisposable
{
    public const string VictimText = "precious: must never be overwritten\n";

    private BadInputWorld(TestUser user)
    {
        User = user;
        Dir = NewDirectory(user, "badinput");
        string u = E2EEnvironment.IsRoot ? $"{user.Uid}:{user.Gid}" : "";
        string d = Q(Dir);
        string archives = Path.Combine(OciEnvironment.Fixtures, "archives");
        // Plain files and special files.
        Sh($@"cd {d}
mkdir cwd tmp cache emptydir plain-dir readonly-dir unreadable oci-empty
echo x > plain-dir/file
mkfifo fifo
ln -s {d}/nowhere dangling
ln -s loop2 loop1; ln -s loop1 loop2
echo hello > notasif.txt
head -c 65536 /dev/urandom > garbage.sif
head -c 10000 /dev/urandom > garbage.tar
head -c 100000 {Q(archives)}/small-docker.tar > trunc-docker.tar
head -c 100000 {Q(archives)}/small-oci.tar > trunc-oci.tar
echo secret > unreadable-file
printf '%s' {Q(VictimText)} > victim
ln -s {d}/victim planted.sif
ln -s {d}/victim planted-dir
echo 'this is not NAME=value' > envbad
echo 'A=1' > envok
echo '{{not json' > plan.json
echo cachefile > cachefile
mkdir -p ww && chmod 0777 ww
mkdir -p bad-labels/.singularity.d bad-labels/bin array-labels/.singularity.d array-labels/bin binary-labels/.singularity.d binary-labels/bin
echo '{{""a"": ' > bad-labels/.singularity.d/labels.json
echo '[""a"", ""b""]' > array-labels/.singularity.d/labels.json
head -c 4096 /dev/urandom > binary-labels/.singularity.d/labels.json
mkdir -p big-passwd/bin big-passwd/etc && head -c 5000000 /dev/zero | tr '\0' 'x' > big-passwd/etc/passwd
mkdir -p huge-runscript/bin huge-runscript/.singularity.d && head -c 2000000 /dev/zero | tr '\0' 'y' > huge-runscript/.singularity.d/runscript
mkdir -p cache-noblobs/blobs/sha256 cache-noblobs/sif/sha256 cache-nosif/blobs/sha256 cache-nosif/sif/sha256
{(u.Length > 0 ? $"chown -R {u} . && chown root:root ww" : "")}
chmod 0555 readonly-dir; chmod 0000 unreadable unreadable-file; chmod 0000 cache-noblobs/blobs cache-nosif/sif
");
        // A real SIF made by burrow itself (also warms the case cache), and copies of it.
        RunResult pull = AsUser.Run(user, [E2EEnvironment.Burrow, "pull", Path.Combine(Dir, "valid.sif"), "docker-archive:" + Path.Combine(archives, "small-docker.tar")],
            env: Env(), cwd: Path.Combine(Dir, "cwd"), timeout: TimeSpan.FromSeconds(120));
        Assert.True(pull.ExitCode == 0, pull.ToString());
        RunResult empty = AsUser.Run(user, [E2EEnvironment.Burrow, "sif", "new", Path.Combine(Dir, "empty.sif")], env: Env(), cwd: Path.Combine(Dir, "cwd"));
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Sh($@"cd {d}
head -c 3000 valid.sif > truncated.sif
cp valid.sif readonly.sif && chmod 0444 readonly.sif
cp valid.sif existing.sif
{(u.Length > 0 ? $"chown {u} truncated.sif readonly.sif existing.sif" : "")}
");
    }

    public TestUser User { get; }

    public string Dir { get; }

    public string Cache => Path.Combine(Dir, "cache");

    public string Tmp => Path.Combine(Dir, "tmp");

    public string Cwd => Path.Combine(Dir, "cwd");

    internal static BadInputWorld Make(TestUser user) => new(user);

    /// <summary>The environment every case starts from: the sweep's own cache and TMPDIR.</summary>
    public Dictionary<string, string> Env() => new() { ["BURROW_CACHEDIR"] = Cache, ["TMPDIR"] = Tmp };

    public string Expand(string text) => text
        .Replace("{S}", Dir, StringComparison.Ordinal)
        .Replace("{IMG}", E2EEnvironment.BusyboxImage, StringComparison.Ordinal)
        .Replace("{SIF}", Path.Combine(Dir, "valid.sif"), StringComparison.Ordinal)
        .Replace("{DA}", "docker-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-docker.tar"), StringComparison.Ordinal)
        .Replace("{OA}", "oci-archive:" + Path.Combine(OciEnvironment.Fixtures, "archives", "small-oci.tar"), StringComparison.Ordinal)
        .Replace("{REG}", OciEnvironment.Anonymous, StringComparison.Ordinal);

    /// <summary>What must look the same after every case: nothing created, nothing left in tmp/, the victim intact.</summary>
    public string Snapshot() => string.Join("\n",
        "top: " + string.Join(' ', Entries(Dir)),
        "cwd: " + string.Join(' ', Entries(Cwd)),
        "tmp: " + string.Join(' ', Entries(Tmp)),
        "cache/tmp: " + string.Join(' ', Entries(Path.Combine(Cache, "tmp"))),
        "victim: " + File.ReadAllText(Path.Combine(Dir, "victim")));

    public void Dispose() => Remove(Dir);

    /// <summary>Exit codes the cases expect, by name.</summary>
    public const int Usage = ExitCodes.Usage, Failure = ExitCodes.Failure;
}

/// <summary>The sweep's worlds, one per test user, made on first use and removed when the sweep's class is done.</summary>
public sealed class BadInputWorlds : IDisposable
{
    private readonly Dictionary<string, BadInputWorld> _worlds = [];

    public BadInputWorld For(TestUser user)
    {
        lock (_worlds)
        {
            if (!_worlds.TryGetValue(user.Name, out BadInputWorld? world))
            {
                world = _worlds[user.Name] = BadInputWorld.Make(user);
            }
            return world;
        }
    }

    public void Dispose()
    {
        lock (_worlds)
        {
            foreach (BadInputWorld world in _worlds.Values)
            {
                world.Dispose();
            }
            _worlds.Clear();
        }
    }
}
