using System.Text.Json.Nodes;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Identity;

/// <summary>
/// What the identity tests share: running burrow with extra environment, a writable copy of the busybox
/// image owned by the test user, and files the user can read (fake subuid files, helper copies).
/// </summary>
internal static class Sandboxes
{
    public static RunResult Burrow(TestUser user, IReadOnlyDictionary<string, string>? env, params string[] args) =>
        AsUser.Run(user, [E2EEnvironment.Burrow, .. args], env: env);

    public static RunResult Burrow(TestUser user, params string[] args) => AsUser.Burrow(user, args);

    /// <summary>A directory the user owns, removed (as root when the suite is root) at dispose.</summary>
    public static Scratch NewScratch(TestUser user) => new(user);

    internal sealed class Scratch : IDisposable
    {
        private readonly TestUser _user;

        public Scratch(TestUser user)
        {
            _user = user;
            // /tmp is bound into every container (and is where setpriv'd users can write); a unique name per test.
            Path = System.IO.Path.Combine("/tmp", $"burrow-identity-{user.Name}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(Path);
            Run("chmod", "0755", Path);
            Chown(Path);
        }

        public string Path { get; }

        /// <summary>A copy of the busybox image that the user owns (so --writable works) with a runscript that runs id.</summary>
        public string WritableBusybox()
        {
            string dest = System.IO.Path.Combine(Path, "busybox");
            Run("cp", "-a", E2EEnvironment.BusyboxTree, dest);
            Directory.CreateDirectory(System.IO.Path.Combine(dest, ".singularity.d"));
            File.WriteAllText(System.IO.Path.Combine(dest, ".singularity.d", "runscript"), "#!/bin/sh\nid\n");
            Run("chmod", "0755", System.IO.Path.Combine(dest, ".singularity.d", "runscript"));
            Chown(dest);
            return dest;
        }

        /// <summary>
        /// A copy of the busybox image whose files are owned as a user namespace mode lays them out, as
        /// Podman's storage chowns an image for its mapping: container root, and /owned-by-5 owned by 5:5.
        /// (The cached images are owned by host root, which no unprivileged mapping can reach: there every
        /// mode shows nobody.) <paramref name="hostRoot"/> and <paramref name="hostFive"/> are the host ids
        /// container 0 and 5 map to in that mode.
        /// </summary>
        public string BusyboxOwnedAs(uint hostRoot, uint hostFive)
        {
            string dest = System.IO.Path.Combine(Path, "owned");
            Run("cp", "-a", E2EEnvironment.BusyboxTree, dest);
            File.WriteAllText(System.IO.Path.Combine(dest, "owned-by-5"), "five\n");
            Run("chmod", "0644", System.IO.Path.Combine(dest, "owned-by-5"));
            Run("chown", "-hR", $"{hostRoot}:{hostRoot}", dest);
            Run("chown", $"{hostFive}:{hostFive}", System.IO.Path.Combine(dest, "owned-by-5"));
            return dest;
        }

        /// <summary>An empty directory the user owns.</summary>
        public string Subdirectory(string name)
        {
            string dir = System.IO.Path.Combine(Path, name);
            System.IO.Directory.CreateDirectory(dir);
            Chown(dir);
            return dir;
        }

        /// <summary>An OCI bundle directory with a copy of the busybox image as rootfs, owned by the user (root inside --fakeroot).</summary>
        public string Bundle()
        {
            string bundle = Subdirectory("bundle");
            Run("cp", "-a", E2EEnvironment.BusyboxTree, System.IO.Path.Combine(bundle, "rootfs"));
            Chown(bundle);
            return bundle;
        }

        /// <summary>
        /// A rootless config.json (host runc's own template) that runs id, mapping container 0 to the user and,
        /// when <paramref name="rangeStart"/> is given, 1… to 65536 subordinate ids (which needs newuidmap).
        /// </summary>
        public void RootlessSpec(string bundle, uint uid, uint? rangeStart)
        {
            Run("runc", "spec", "--rootless", "--bundle", bundle);
            string file = System.IO.Path.Combine(bundle, "config.json");
            JsonNode spec = JsonNode.Parse(File.ReadAllText(file))!;
            spec["process"]!["terminal"] = false;
            spec["process"]!["args"] = new JsonArray("id");
            foreach (string key in new[] { "uidMappings", "gidMappings" })
            {
                var maps = new JsonArray(new JsonObject { ["containerID"] = 0, ["hostID"] = uid, ["size"] = 1 });
                if (rangeStart is { } s)
                {
                    maps.Add((JsonNode)new JsonObject { ["containerID"] = 1, ["hostID"] = s, ["size"] = 65536 });
                }
                spec["linux"]![key] = maps;
            }
            File.WriteAllText(file, spec.ToJsonString());
            Chown(file);
        }

        /// <summary>Writes a file the user can read.</summary>
        public string Write(string name, string content)
        {
            string file = System.IO.Path.Combine(Path, name);
            File.WriteAllText(file, content);
            Run("chmod", "0644", file);
            Chown(file);
            return file;
        }

        /// <summary>A copy of a host binary: owned by whoever runs the suite, never setuid, no file capabilities.</summary>
        public string CopyOf(string hostPath, string name)
        {
            string file = System.IO.Path.Combine(Path, name);
            File.Copy(hostPath, file);
            Run("chmod", "0755", file);
            return file;
        }

        public void Dispose()
        {
            // Files chowned to subordinate ids inside a container belong to ids the user cannot delete as.
            try
            {
                Run("rm", "-rf", Path);
            }
            catch (InvalidOperationException)
            {
            }
        }

        private void Chown(string path)
        {
            if (E2EEnvironment.IsRoot)
            {
                Run("chown", "-R", $"{_user.Uid}:{_user.Gid}", path);
            }
        }

        private static void Run(params string[] argv)
        {
            var psi = new System.Diagnostics.ProcessStartInfo(argv[0]) { RedirectStandardError = true };
            foreach (string a in argv.Skip(1))
            {
                psi.ArgumentList.Add(a);
            }
            using var p = System.Diagnostics.Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"{string.Join(' ', argv)}: exit {p.ExitCode}: {err}");
            }
        }
    }

    /// <summary>
    /// Nothing whose command line holds <paramref name="token"/> is left (a failed launch must not leave a
    /// starter or a payload). A token, not the user, because other test classes run as the same users in parallel.
    /// </summary>
    public static void AssertNothingLeftRunning(string token)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("pgrep", ["-a", "-f", token]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        string left = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(left.Trim().Length == 0, "processes left running:\n" + left);
    }
}
