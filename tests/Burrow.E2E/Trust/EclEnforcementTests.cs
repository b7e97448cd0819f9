using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Trust;

/// <summary>
/// The execution control list enforced before launch, as the unprivileged user, on the private installation's
/// <c>etc/burrow/ecl.toml</c>: Apptainer's ECL table (e2e/ecl/ecl.go) with its exit statuses and messages, then the
/// attack classes the issue names: path tricks, symlinks, sandboxes, --unsquash, tampered images, and an image
/// rewritten in place after it was verified (the FUSE server refuses the new bytes).
/// </summary>
[Collection("trust")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EclEnforcementTests(TrustWorld world) : IDisposable
{
    private const string Wrapped = "while checking container image with ECL: ";

    private static TestUser User => TrustWorld.User;

    public void Dispose() => world.RemoveEcl();

    private string Group(string mode, string? dir, params string[] keys) =>
        $"[[execgroup]]\ntagname = \"{mode}-group\"\nmode = \"{mode}\"\ndirpath = \"{dir ?? world.Images}\"\nkeyfp = [{string.Join(", ", keys.Select(k => $"\"{k}\""))}]\n";

    private RunResult Exec(string image, params string[] command) =>
        world.Burrow(User, ["exec", Path.IsPathRooted(image) ? image : Path.Combine(world.Images, image + ".sif"), .. command.Length == 0 ? ["true"] : command]);

    private static void Refused(RunResult r, string message)
    {
        Assert.True(r.ExitCode == 255, r.ToString());
        string error = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("ERROR:   " + Wrapped, StringComparison.Ordinal));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    private static void Ran(RunResult r) => Assert.True(r.ExitCode == 0, r.ToString());

    /// <summary>Apptainer's table, with both keys in the global keyring.</summary>
    [Theory]
    [InlineData("none", "", "signed", 255, "not part of any execgroup")]
    [InlineData("whitelist", "K1", "signed", 0, "")]
    [InlineData("whitelist", "K2", "signed", 0, "")]
    [InlineData("whitelist", "K1", "unsigned", 255, "image signature not valid: integrity: signature not found for object group 1")]
    [InlineData("whitelist", "", "unsigned", 255, "image signature not valid")]
    [InlineData("whitelist-root", "", "unsigned", 255, "not part of any execgroup")]
    [InlineData("whitestrict", "K1,K2", "signed", 0, "")]
    [InlineData("whitestrict", "K1,K2", "signed_one", 255, "image not signed by required entities")]
    [InlineData("whitestrict", "K1,K2", "unsigned", 255, "image signature not valid")]
    [InlineData("blacklist", "K1", "signed", 255, "image signed by a forbidden entity")]
    [InlineData("blacklist", "K2", "signed_one", 0, "")]
    [InlineData("whitelist", "K2", "signed_one", 255, "image not signed by required entities")]
    public void TheApptainerEclTable(string mode, string keys, string image, int exit, string message)
    {
        string[] fps = keys.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(k => k == "K1" ? TrustWorld.Key1 : world.Key2).ToArray();
        string toml = "activated = true\n" + mode switch
        {
            "none" => "",
            "whitelist-root" => Group("whitelist", "/", fps),
            _ => Group(mode, null, fps),
        };
        world.WriteEcl(toml);
        RunResult r = Exec(image);
        if (exit == 0)
        {
            Ran(r);
        }
        else
        {
            Refused(r, message);
        }
    }

    [Fact]
    public void ADisabledListRunsUnsignedImages()
    {
        world.WriteEcl("activated = false\n" + Group("whitelist", null, TrustWorld.Key1));
        Ran(Exec("unsigned"));
    }

    /// <summary>The table's second half: after the administrator removes key 2 (then key 1) from the global keyring.</summary>
    [Fact]
    public void TheTableAfterTheAdministratorRemovesGlobalKeys()
    {
        try
        {
            TrustWorld.Ok(world.AdminBurrow("key", "remove", "--global", world.Key2), "remove key 2 globally");
            world.WriteEcl("activated = true\n" + Group("whitelist", null, world.Key2));
            Refused(Exec("signed"), "image not signed by required entities");
            world.WriteEcl("activated = true\n" + Group("whitelist", null, TrustWorld.Key1, world.Key2));
            Ran(Exec("signed"));
            world.WriteEcl("activated = true\n" + Group("whitestrict", null, TrustWorld.Key1, world.Key2));
            Refused(Exec("signed"), "image not signed by required entities");
            TrustWorld.Ok(world.AdminBurrow("key", "remove", "--global", TrustWorld.Key1), "remove key 1 globally");
            world.WriteEcl("activated = true\n" + Group("blacklist", null, TrustWorld.Key1, world.Key2));
            Refused(Exec("signed"), "image signed by a forbidden entity");
        }
        finally
        {
            world.AdminBurrow("key", "import", "--global", world.Key1Public);
            world.AdminBurrow("key", "import", "--global", world.Key2Public);
        }
    }

    [Fact]
    public void AnInvalidListIsAnErrorNamingTheFileAndLineAndRunsNothing()
    {
        world.WriteEcl("activated = true\n[[execgroup]]\ntagname = \"typo\"\nmode = \"whitlist\"\n");
        RunResult r = Exec("signed");
        Assert.Equal(255, r.ExitCode);
        Assert.Contains(world.EclFile + ":4", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("whitlist", r.Stderr, StringComparison.Ordinal);
        world.WriteEcl("activate = true\n");
        RunResult typo = Exec("unsigned");
        Assert.Equal(255, typo.ExitCode);
        Assert.Contains("unknown key \"activate\"", typo.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Singularity CVE-2020-13845: the group is chosen by where the image really is, not by the path given.</summary>
    [Fact]
    public void ASymlinkOrPathTrickDoesNotChangeTheImagesGroup()
    {
        string elsewhere = Path.Combine(world.Scratch, "elsewhere-" + Guid.NewGuid().ToString("N")[..8]);
        TrustWorld.Ok(AsUser.Run(User, ["mkdir", elsewhere]), "mkdir");
        TrustWorld.UserCopy(Path.Combine(world.Images, "unsigned.sif"), Path.Combine(elsewhere, "unsigned.sif"));
        string link = Path.Combine(world.Images, $"link-{Guid.NewGuid():N}.sif");
        TrustWorld.Ok(AsUser.Run(User, ["ln", "-s", Path.Combine(elsewhere, "unsigned.sif"), link]), "ln -s");
        try
        {
            // The images directory lets unsigned images run; the link lives there, the image does not.
            world.WriteEcl("activated = true\n" + Group("whitelist", null, TrustWorld.Key1) + "allowunsigned = true\n");
            Refused(Exec(link), $"{elsewhere}/unsigned.sif not part of any execgroup");
            // Relative paths, "..", "." and a doubled slash lead to the same real directory.
            RunResult r = AsUser.Run(User, [world.BurrowPath, "exec", "../images/./unsigned.sif", "true"], env: world.EnvFor(User), cwd: world.Scratch);
            Ran(r);
            RunResult odd = AsUser.Run(User, [world.BurrowPath, "exec", Path.Combine(elsewhere, "..", "..", "images") + "//signed.sif", "true"], env: world.EnvFor(User));
            Ran(odd);
            // And the other way: a blacklisted image reached through a link in a directory the list does not name.
            string back = Path.Combine(elsewhere, "signed-link.sif");
            TrustWorld.Ok(AsUser.Run(User, ["ln", "-s", Path.Combine(world.Images, "signed.sif"), back]), "ln -s");
            world.WriteEcl("activated = true\n" + Group("blacklist", null, TrustWorld.Key1) + Group("whitelist", elsewhere) + "allowunsigned = true\n");
            Refused(Exec(back), "image signed by a forbidden entity");
        }
        finally
        {
            AsUser.Run(User, ["rm", "-rf", elsewhere, link]);
        }
    }

    [Fact]
    public void ASandboxIsRefusedUnlessItsDirectoryAllowsUnsignedImages()
    {
        world.WriteEcl("activated = true\n" + Group("whitelist", null, TrustWorld.Key1));
        RunResult r = Exec(E2EEnvironment.BusyboxTree);
        Assert.Equal(255, r.ExitCode);
        Assert.Contains(Wrapped, r.Stderr, StringComparison.Ordinal);
        Assert.Contains("not part of any execgroup", r.Stderr, StringComparison.Ordinal);
        world.WriteEcl("activated = true\n" + Group("whitelist", Path.GetDirectoryName(E2EEnvironment.BusyboxTree), TrustWorld.Key1));
        Refused(Exec(E2EEnvironment.BusyboxTree), "is a sandbox directory, which cannot carry a signature");
        world.WriteEcl("activated = true\n" + Group("whitelist", Path.GetDirectoryName(E2EEnvironment.BusyboxTree), TrustWorld.Key1) + "allowunsigned = true\n");
        Ran(Exec(E2EEnvironment.BusyboxTree));
    }

    /// <summary>Apptainer's own bypass: --unsquash turns the SIF into a sandbox before its check. Burrow checks first.</summary>
    [Fact]
    public void UnsquashDoesNotBypassTheList()
    {
        world.WriteEcl("activated = true\n" + Group("whitelist", null, TrustWorld.Key1));
        RunResult r = world.Burrow(User, "exec", "--unsquash", Path.Combine(world.Images, "unsigned.sif"), "true");
        Refused(r, "image signature not valid");
        Ran(world.Burrow(User, "exec", "--unsquash", Path.Combine(world.Images, "signed.sif"), "true"));
    }

    [Fact]
    public void ATamperedSignedImageIsRefused()
    {
        string copy = Path.Combine(world.Images, $"tampered-{Guid.NewGuid():N}.sif");
        TrustWorld.UserCopy(Path.Combine(world.Images, "signed.sif"), copy);
        try
        {
            int id = SquashfsObject(copy);
            VerifyTests.Flip(copy, VerifyTests.Partition(copy, id) + 4096);
            world.WriteEcl("activated = true\n" + Group("whitelist", null, TrustWorld.Key1));
            Refused(Exec(copy), $"image signature not valid: integrity: data object integrity compromised: {id}");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>A registry reference is converted into an unsigned SIF in the cache: refused, and the error says it was converted.</summary>
    [Fact]
    public void AnOciReferenceConvertedOnTheFlyIsRefused()
    {
        string reference = $"docker://{Burrow.E2E.Oci.OciEnvironment.Anonymous}/small:latest";
        world.WriteEcl("activated = true\n" + Group("whitelist", null, TrustWorld.Key1));
        RunResult r = world.Burrow(User, "exec", reference, "true");
        Refused(r, $"(converted from {reference}) not part of any execgroup");
        world.WriteEcl($"activated = true\n[[execgroup]]\ntagname = \"anywhere\"\nmode = \"whitelist\"\ndirpath = \"\"\nkeyfp = [\"{TrustWorld.Key1}\"]\n");
        RunResult anywhere = world.Burrow(User, "exec", reference, "true");
        Refused(anywhere, "image signature not valid: integrity: signature not found");
        Assert.Contains($"{reference} was converted into an unsigned SIF", anywhere.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AHandWrittenPlanIsRefusedWhileTheListIsActivated()
    {
        world.WriteEcl("activated = true\n" + Group("whitelist", null, TrustWorld.Key1));
        RunResult r = world.Burrow(User, "__run-plan", "/nonexistent/plan.json");
        Assert.Equal(255, r.ExitCode);
        Assert.Contains(Wrapped, r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Time of check, time of use: the image is rewritten in place while the container runs. The server reads only
    /// through the digests it recorded while verifying, so a block it had not yet served fails with EIO and a WARNING,
    /// and the container never sees the new bytes.
    /// </summary>
    [Fact]
    [Trait("Category", "SifOnly")]
    public async Task AnImageRewrittenAfterItWasVerifiedDoesNotServeTheNewBytes()
    {
        string image = Path.Combine(world.Images, $"toctou-{Guid.NewGuid():N}.sif");
        TrustWorld.UserCopy(Path.Combine(E2EEnvironment.TestCache, "images", "debian-sudo.sif"), image);
        string marker = Path.Combine(world.Scratch, $"started-{Guid.NewGuid():N}");
        try
        {
            TrustWorld.Ok(world.Burrow(User, "sign", "--keyidx", "0", image), "sign");
            world.WriteEcl("activated = true\n" + Group("whitelist", null, TrustWorld.Key1));
            string script = $"touch '{marker}'; i=0; while [ -e '{marker}' ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; "
                + "if cat /usr/bin/sudo /usr/lib/x86_64-linux-gnu/*.so* /usr/share/doc/*/copyright > /dev/null; then echo READ-OK; else echo READ-FAILED; fi";
            Task<RunResult> run = Task.Run(() => world.Burrow(User, "exec", image, "/bin/sh", "-c", script));
            var clock = Stopwatch.StartNew();
            while (!File.Exists(marker) && clock.Elapsed < TimeSpan.FromSeconds(60) && !run.IsCompleted)
            {
                await Task.Delay(100);
            }
            Assert.True(File.Exists(marker), "the container did not start: " + (run.IsCompleted ? (await run).ToString() : "timeout"));
            // Rewrite the partition in place: one byte in every 64 KiB, so that no block the container reads next is as verified.
            long start = VerifyTests.Partition(image, SquashfsObject(image));
            using (var fs = new FileStream(image, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            {
                for (long at = start + 8192; at < fs.Length; at += 65536)
                {
                    fs.Position = at;
                    int b = fs.ReadByte();
                    fs.Position = at;
                    fs.WriteByte((byte)(b ^ 0x5A));
                }
            }
            File.Delete(marker);
            RunResult r = await run;
            Assert.Contains("READ-FAILED", r.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("READ-OK", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("WARNING:", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("the image changed after it was verified", r.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(marker);
            File.Delete(image);
        }
    }

    /// <summary>The id of the primary squashfs partition, from siftool's list.</summary>
    private static int SquashfsObject(string image)
    {
        string list = TrustWorld.Ok(AsUser.Run(User, ["siftool", "list", image]), "siftool list").Stdout;
        string line = list.Split('\n').First(l => l.Contains("Squashfs/*System", StringComparison.Ordinal));
        return int.Parse(line.Split('|')[0].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
