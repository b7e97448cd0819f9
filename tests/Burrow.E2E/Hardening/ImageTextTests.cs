using System.Text.Json;
using Burrow.E2E.Harness;
using Burrow.E2E.Oci;
using static Burrow.E2E.Hardening.Hardened;

namespace Burrow.E2E.Hardening;

/// <summary>
/// Issue 13, items 3 and 6, as a hostile image author would try them. A sandbox whose /.singularity.d links point at
/// the user's host files (absolutely and by ../..), holds a FIFO and a link to /dev/zero: inspect must show only the
/// image's own files, never block and never grow. Labels, runscripts, environment scripts and their names carrying
/// ESC sequences, from a sandbox and from an OCI image: printed with the controls made visible, and --json that stays
/// valid and keeps the text exact.
/// </summary>
public sealed class ImageTextTests : IDisposable
{
    private const string Secret = "HOST SECRET: -----BEGIN OPENSSH PRIVATE KEY-----";
    private const string Forged = "\u001b[1A\u001b[2KINFO:    all checks passed";
    private const string Title = "\u001b]0;pwned\u0007";

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly List<string> _dirs = [];

    public void Dispose() => _dirs.ForEach(Remove);

    /// <summary>The user's scratch directory with host/id_ed25519 (the user's secret) and a hostile sandbox image/.</summary>
    private string HostileSandbox(TestUser user)
    {
        string dir = NewDirectory(user, "imagetext");
        _dirs.Add(dir);
        string d = Q(dir);
        string secret = Path.Combine(dir, "host", "id_ed25519");
        Sh($@"cd {d}
mkdir -p host image/bin image/etc image/.singularity.d/env
printf '%s\n' {Q(Secret)} > host/id_ed25519 && chmod 0600 host/id_ed25519
cd image/.singularity.d
ln -s {Q(secret)} runscript
ln -s ../../../../../../../../../..{Q(secret)} env/90-escape.sh
ln -s /dev/zero Singularity
mkfifo env/50-fifo.sh
printf 'export OK=1\n' > env/10-real.sh
ln -s /.singularity.d/env/10-real.sh env/20-inside-link.sh
printf 'echo %s\n' {Q(Forged)} > env/30-forged.sh
printf '' > {Q("env/40-\u001b[2Kname.sh")}
printf '%s' {Q("{\"title\": " + Json(Forged) + ", " + Json("org.example" + Title) + ": \"v\"}")} > labels.json
cd {d} {(E2EEnvironment.IsRoot ? $"&& chown -R {user.Uid}:{user.Gid} ." : "")}");
        return dir;
    }

    private static RunResult Inspect(TestUser user, string dir, params string[] args) =>
        AsUser.Run(user, [E2EEnvironment.Burrow, "inspect", .. args], env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(dir, "cache"), ["TMPDIR"] = dir },
            cwd: dir, timeout: Limit);

    private static void AssertInert(RunResult r)
    {
        Assert.False(r.TimedOut, "inspect blocked: " + r);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("HOST SECRET", r.Stdout + r.Stderr);
        foreach (char c in r.Stdout + r.Stderr)
        {
            Assert.False(c is < ' ' and not ('\n' or '\t') or (>= '\u007f' and <= '\u009f'), $"control character U+{(int)c:X4} printed:\n{r}");
        }
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void InspectOfASandboxReadsOnlyTheImageAndStaysInert(TestUser user)
    {
        string dir = HostileSandbox(user);
        string image = Path.Combine(dir, "image");
        foreach (string[] args in new[] { new[] { image }, ["--runscript", image], ["--deffile", image], ["--environment", image], ["--labels", "--runscript", "--environment", "--deffile", image] })
        {
            AssertInert(Inspect(user, dir, args));
        }

        RunResult labels = Inspect(user, dir, image);
        Assert.Contains(@"title: \x1b[1A\x1b[2KINFO:    all checks passed", labels.Stdout);
        Assert.Contains(@"org.example\x1b]0;pwned\x07: v", labels.Stdout);

        RunResult env = Inspect(user, dir, "--environment", image);
        // The image's own links work; the FIFO and the link out of the image are not listed at all.
        Assert.Contains("=== /.singularity.d/env/10-real.sh ===\nexport OK=1\n", env.Stdout);
        Assert.Contains("=== /.singularity.d/env/20-inside-link.sh ===\nexport OK=1\n", env.Stdout);
        Assert.Contains(@"=== /.singularity.d/env/40-\x1b[2Kname.sh ===", env.Stdout);
        Assert.Contains(@"echo \x1b[1A\x1b[2KINFO:    all checks passed", env.Stdout);
        Assert.DoesNotContain("50-fifo.sh ===", env.Stdout);
        Assert.DoesNotContain("90-escape.sh ===\nHOST", env.Stdout);

        Assert.Equal("", Inspect(user, dir, "--runscript", image).Stdout);
        Assert.Equal("", Inspect(user, dir, "--deffile", image).Stdout);
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void InspectOfASifWithoutMetadataReadsItsSquashfsInside(TestUser user)
    {
        // The same hostile tree as a SIF assembled by hand (no inspect-metadata.json): read in place, inside the image.
        string dir = HostileSandbox(user);
        string sif = Path.Combine(dir, "assembled.sif");
        Sh($"mksquashfs {Q(Path.Combine(dir, "image"))} {Q(Path.Combine(dir, "root.squashfs"))} -noappend -quiet -no-progress"
            + (E2EEnvironment.IsRoot ? $" && chown {user.Uid}:{user.Gid} {Q(Path.Combine(dir, "root.squashfs"))}" : ""));
        foreach (string[] args in new[] { new[] { "sif", "new", sif },
            ["sif", "add", "--datatype", "4", "--partfs", "1", "--parttype", "2", "--partarch", "2", "--groupid", "1", sif, Path.Combine(dir, "root.squashfs")] })
        {
            RunResult step = AsUser.Run(user, [E2EEnvironment.Burrow, .. args], cwd: dir);
            Assert.True(step.ExitCode == 0, step.ToString());
        }
        foreach (string[] args in new[] { new[] { sif }, ["--runscript", sif], ["--deffile", sif], ["--environment", sif] })
        {
            AssertInert(Inspect(user, dir, args));
        }
        Assert.Contains(@"title: \x1b[1A\x1b[2KINFO:    all checks passed", Inspect(user, dir, sif).Stdout);
        RunResult env = Inspect(user, dir, "--environment", sif);
        Assert.Contains("=== /.singularity.d/env/20-inside-link.sh ===\nexport OK=1\n", env.Stdout);
        Assert.DoesNotContain("50-fifo.sh ===", env.Stdout);
        Assert.Equal("", Inspect(user, dir, "--runscript", sif).Stdout);
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void InspectJsonOfASandboxIsValidAndExact(TestUser user)
    {
        string dir = HostileSandbox(user);
        RunResult r = Inspect(user, dir, "--json", Path.Combine(dir, "image"));
        AssertInert(r);
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        JsonElement labels = doc.RootElement.GetProperty("data").GetProperty("attributes").GetProperty("labels");
        Assert.Equal(Forged, labels.GetProperty("title").GetString());
        Assert.Equal("v", labels.GetProperty("org.example" + Title).GetString());
    }

    [Theory]
    [MemberData(nameof(E2EEnvironment.BothUsers), MemberType = typeof(E2EEnvironment))]
    public void TextOfAnOciImageIsEscapedFromPullToInspect(TestUser user)
    {
        string dir = NewDirectory(user, "ocitext");
        _dirs.Add(dir);
        string archive = Path.Combine(dir, "hostile.tar");
        HostileArchive(Path.Combine(OciEnvironment.Fixtures, "archives", "small-docker.tar"), archive);
        Sh(E2EEnvironment.IsRoot ? $"chown {user.Uid}:{user.Gid} {Q(archive)}" : "true");
        string sif = Path.Combine(dir, "hostile.sif");
        var env = new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(dir, "cache"), ["TMPDIR"] = dir };

        RunResult pull = AsUser.Run(user, [E2EEnvironment.Burrow, "pull", sif, "docker-archive:" + archive], env: env, cwd: dir, timeout: TimeSpan.FromSeconds(120));
        AssertInert(pull);
        RunResult labels = Inspect(user, dir, sif);
        AssertInert(labels);
        Assert.Contains(@"title: \x1b[1A\x1b[2KINFO:    all checks passed", labels.Stdout);
        RunResult runscript = Inspect(user, dir, "--runscript", sif);
        AssertInert(runscript);
        Assert.Contains(@"\x1b[2Kforged", runscript.Stdout);
        RunResult json = Inspect(user, dir, "--json", sif);
        AssertInert(json);
        using JsonDocument doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(Forged, doc.RootElement.GetProperty("data").GetProperty("attributes").GetProperty("labels").GetProperty("title").GetString());
    }

    /// <summary>A JSON string literal, every control character as \uXXXX (no reflection-based serializer in this project).</summary>
    private static string Json(string text) =>
        "\"" + string.Concat(text.Select(c => c < ' ' || c is '"' or '\\' ? $"\\u{(int)c:x4}" : c.ToString())) + "\"";

    /// <summary>The small docker-archive with a config whose labels and command carry escape sequences.</summary>
    private static void HostileArchive(string from, string to) => Sh($@"python3 - {Q(from)} {Q(to)} <<'PY'
import hashlib, io, json, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t, tarfile.open(dst, 'w') as out:
    manifest = json.load(t.extractfile('manifest.json'))
    old = manifest[0]['Config']
    config = json.load(t.extractfile(old))
    c = config.setdefault('config', {{}})
    c['Labels'] = {{'title': {Json(Forged)}, 'org.example' + {Json(Title)}: 'v'}}
    c['Entrypoint'] = None
    c['Cmd'] = ['/bin/echo', '\x1b[2Kforged']
    data = json.dumps(config).encode()
    name = hashlib.sha256(data).hexdigest() + '.json'
    manifest[0]['Config'] = name
    for m in t.getmembers():
        if m.name in (old, 'manifest.json'):
            continue
        out.addfile(m, t.extractfile(m) if m.isfile() else None)
    for n, b in ((name, data), ('manifest.json', json.dumps(manifest).encode())):
        info = tarfile.TarInfo(n)
        info.size = len(b)
        out.addfile(info, io.BytesIO(b))
PY");
}
