using System.Security.Cryptography;
using System.Text;
using Burrow.E2E.Harness;
using Burrow.E2E.Oci;

namespace Burrow.E2E.Build;

/// <summary>
/// Podman inside Burrow: examples/podman.def built once by the tests (Debian's podman from the network, cached under
/// the test cache by the recipe's hash), then <c>podman run</c> inside <c>exec --fakeroot --nested</c> with no Podman flag.
/// </summary>
public class NestedPodmanTests
{
    private static readonly Lazy<string> s_image = new(BuildOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    private static string Recipe()
    {
        string example = File.ReadAllText(Path.Combine(RepositoryRoot(), "examples", "podman.def"));
        // The test registry is plain HTTP on loopback: the image tells Podman so, as a site would for its registry.
        return example.Replace("%runscript", $"    mkdir -p /etc/containers/registries.conf.d\n    printf '[[registry]]\\nlocation = \"{OciEnvironment.Anonymous}\"\\ninsecure = true\\n' > /etc/containers/registries.conf.d/burrow-test.conf\n\n%runscript");
    }

    private static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !Directory.Exists(Path.Combine(dir, "examples")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("cannot find the repository's examples/ from " + AppContext.BaseDirectory);
    }

    private static string BuildOnce()
    {
        string recipe = Recipe();
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(recipe)))[..12].ToLowerInvariant();
        string cached = Path.Combine(E2EEnvironment.TestCache, "images", $"podman-{key}.sif");
        if (File.Exists(cached))
        {
            return cached;
        }
        TestUser user = E2EEnvironment.UserWithRange;
        string dir = OciEnvironment.Scratch(user);
        File.WriteAllText(Path.Combine(dir, "podman.def"), recipe);
        RunResult r = AsUser.Run(user, [E2EEnvironment.Burrow, "build", "--build-arg", $"BASE={OciEnvironment.Anonymous}/big:latest", "podman.sif", "podman.def"],
            env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(dir, "cache") }, cwd: dir, timeout: TimeSpan.FromMinutes(15));
        Assert.True(r.ExitCode == 0, "building examples/podman.def: " + r);
        File.Copy(Path.Combine(dir, "podman.sif"), cached + ".tmp", overwrite: true);
        OciEnvironment.Run("chmod", "0644", cached + ".tmp");
        File.Move(cached + ".tmp", cached, overwrite: true);
        OciEnvironment.Remove(dir);
        return cached;
    }

    private static RunResult Burrow(TestUser user, params string[] args)
    {
        string dir = OciEnvironment.Scratch(user);
        try
        {
            return AsUser.Run(user, [E2EEnvironment.Burrow, .. args], env: new Dictionary<string, string> { ["BURROW_CACHEDIR"] = Path.Combine(dir, "cache") },
                cwd: dir, timeout: TimeSpan.FromMinutes(5));
        }
        finally
        {
            OciEnvironment.Remove(dir);
        }
    }

    [Fact]
    public void PodmanRunsInsideAFakerootContainerWithOneOption()
    {
        RunResult r = Burrow(E2EEnvironment.UserWithRange, "exec", "--fakeroot", "--nested", s_image.Value,
            "podman", "run", "--rm", "--entrypoint", "cat", $"{OciEnvironment.Anonymous}/small:latest", "/etc/passwd");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("root:", r.Stdout);
    }

    [Fact]
    public void ExplainSaysWhyEachNestedMountIsThere()
    {
        RunResult r = Burrow(E2EEnvironment.UserWithRange, "exec", "--fakeroot", "--nested", "--explain", s_image.Value, "podman", "info");
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (string what in new[] { "/run", "/var/lib/containers", "/dev/shm", "libpod_lock" })
        {
            Assert.Contains(what, r.Stdout + r.Stderr);
        }
    }

    [Fact]
    public void WithoutARangePodmansFailureComesWithTheFix()
    {
        RunResult r = Burrow(E2EEnvironment.UserWithoutRange, "exec", "--fakeroot", "--nested", s_image.Value,
            "podman", "run", "--rm", "--entrypoint", "cat", $"{OciEnvironment.Anonymous}/small:latest", "/etc/passwd");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("WARNING: --nested: only root is mapped", r.Stderr);
        Assert.Contains("/etc/subuid", r.Stderr);
        Assert.Contains("Invalid argument", r.Stderr); // Podman's own message stays
    }

    [Fact]
    public void TheDefaultModeIsToldToUseFakeroot()
    {
        RunResult r = Burrow(E2EEnvironment.UserWithRange, "exec", "--nested", s_image.Value, "true");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("newuidmap", r.Stderr);
        Assert.Contains("add --fakeroot", r.Stderr);
    }
}
