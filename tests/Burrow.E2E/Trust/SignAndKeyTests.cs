using Burrow.E2E.Harness;

namespace Burrow.E2E.Trust;

/// <summary>
/// <c>burrow sign</c> and <c>burrow key</c> as unprivileged users: PGP and DSSE signatures that burrow verifies, that
/// gpg verifies on the extracted clear-signed message and that siftool reads; Apptainer's SIGN table; keyrings of mode
/// 0700 under XDG_DATA_HOME; passphrases that are never echoed.
/// </summary>
[Collection("trust")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SignAndKeyTests(TrustWorld world)
{
    private static TestUser User => TrustWorld.User;

    private string Fresh(string fixture = "one-group.sif")
    {
        string copy = Path.Combine(world.Scratch, $"sign-{Guid.NewGuid():N}.sif");
        TrustWorld.UserCopy(world.FixtureImage("apptainer-sif", fixture), copy);
        return copy;
    }

    [Fact]
    public void APgpSignatureVerifiesWithBurrowGpgAndSiftool()
    {
        string image = Fresh();
        RunResult s = world.Burrow(User, "sign", "--keyidx", "1", image);
        Assert.True(s.ExitCode == 0, s.ToString());
        Assert.Contains("Signing image with PGP key material", s.Stderr, StringComparison.Ordinal);
        Assert.Contains("Added signature object 3 over object group 1 (objects 1, 2)", s.Stderr, StringComparison.Ordinal);
        Assert.Contains($"Signature created and applied to image '{image}'", s.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(TrustWorld.Passphrase, s.Stdout + s.Stderr, StringComparison.Ordinal);

        RunResult v = world.Burrow(User, "verify", image);
        Assert.True(v.ExitCode == 0, v.ToString());
        Assert.Contains("Signing entity: E2E Two <two@example.com>", v.Stdout, StringComparison.Ordinal);
        Assert.Contains("Fingerprint: " + world.Key2, v.Stdout, StringComparison.Ordinal);

        string list = TrustWorld.Ok(AsUser.Run(User, ["siftool", "list", image]), "siftool list").Stdout;
        Assert.Matches(@"\n3 +\|NONE +\|1 +\(G\) +\|\d+-\d+ +\|Signature \(SHA-256\)", list);

        // The clear-signed message, extracted as siftool extracts it, verifies with gpg and the exported public key.
        string gpgHome = Path.Combine(world.Scratch, "gnupg-" + Guid.NewGuid().ToString("N")[..8]);
        string message = Path.Combine(world.Scratch, $"message-{Guid.NewGuid():N}.asc");
        string script = $"set -e; mkdir -m 0700 '{gpgHome}'; siftool dump 3 '{image}' > '{message}'; "
            + $"gpg --homedir '{gpgHome}' --batch --quiet --import '{world.Key2Public}'; gpg --homedir '{gpgHome}' --batch --status-fd 1 --verify '{message}'";
        RunResult g = AsUser.Run(User, ["sh", "-c", script]);
        Assert.True(g.ExitCode == 0, g.ToString());
        Assert.Contains("[GNUPG:] VALIDSIG " + world.Key2, g.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n", File.ReadAllText(message), StringComparison.Ordinal);
        AsUser.Run(User, ["rm", "-rf", gpgHome, message, image]);
    }

    [Theory]
    [InlineData("ed25519")]
    [InlineData("ecdsa")]
    [InlineData("rsa")]
    public void APemKeySignsADsseEnvelopeThatVerifiesWithItsPublicHalf(string key)
    {
        string image = Fresh();
        RunResult s = world.Burrow(User, "sign", "--key", world.FixtureKey(key + "-private.pem"), image);
        Assert.True(s.ExitCode == 0, s.ToString());
        Assert.Contains($"Signing image with key material from '{world.FixtureKey(key + "-private.pem")}'", s.Stderr, StringComparison.Ordinal);
        RunResult v = world.Burrow(User, "verify", "--key", world.FixtureKey(key + "-public.pem"), image);
        Assert.True(v.ExitCode == 0, v.ToString());
        Assert.Contains("[KEY]              Public key: ", v.Stdout, StringComparison.Ordinal);
        RunResult other = world.Burrow(User, "verify", "--key", world.FixtureKey((key == "rsa" ? "ed25519" : "rsa") + "-public.pem"), image);
        Assert.Equal(255, other.ExitCode);
        Assert.Contains("ERROR:   Failed to verify container: integrity: signature object 3 not valid", other.Stderr, StringComparison.Ordinal);
        File.Delete(image);
    }

    [Fact]
    public void TheSignKeyCanComeFromTheEnvironment()
    {
        string image = Fresh();
        RunResult s = world.BurrowWith(User, new Dictionary<string, string> { ["BURROW_SIGN_KEY"] = world.FixtureKey("ed25519-private.pem") }, "sign", image);
        Assert.True(s.ExitCode == 0, s.ToString());
        Assert.Contains("Signing image with key material from", s.Stderr, StringComparison.Ordinal);
        File.Delete(image);
    }

    /// <summary>Apptainer's SIGN table (e2e/sign/sign.go) on one-group.sif.</summary>
    [Theory]
    [InlineData("", 0, "Signature created and applied")]
    [InlineData("--sif-id 1", 0, "Signature created and applied")]
    [InlineData("--sif-id 9", 255, "integrity: object not found")]
    [InlineData("--group-id 1", 0, "Signature created and applied")]
    [InlineData("--group-id 5", 255, "integrity: group not found")]
    [InlineData("--all", 0, "Signature created and applied")]
    [InlineData("--keyidx 0", 0, "Signature created and applied")]
    [InlineData("--keyidx 7", 255, "Failed to sign container: index out of range")]
    public void TheApptainerSignTable(string options, int exit, string message)
    {
        // Apptainer's table has one secret key: without --keyidx it is the one used.
        string image = Fresh();
        RunResult s = world.BurrowWith(User, world.OneKeyEnv, ["sign", .. options.Split(' ', StringSplitOptions.RemoveEmptyEntries), image]);
        Assert.True(s.ExitCode == exit, s.ToString());
        Assert.Contains(message, s.Stderr, StringComparison.Ordinal);
        if (exit != 0)
        {
            Assert.Contains("ERROR:   Failed to sign container: ", s.Stderr, StringComparison.Ordinal);
        }
        File.Delete(image);
    }

    [Fact]
    public void SignHelpSaysWhatItDoes()
    {
        RunResult r = world.Burrow(User, "sign", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Add digital signature(s) to an image", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SigningTwiceWithTheSameKeySaysWhatWasAdded()
    {
        string image = Fresh();
        TrustWorld.Ok(world.Burrow(User, "sign", "--keyidx", "0", image), "first sign");
        RunResult s = world.Burrow(User, "sign", "--keyidx", "0", image);
        Assert.True(s.ExitCode == 0, s.ToString());
        Assert.Contains("Added signature object 4 over object group 1", s.Stderr, StringComparison.Ordinal);
        Assert.Contains("already had signature object 3 by this key: kept", s.Stderr, StringComparison.Ordinal);
        File.Delete(image);
    }

    [Fact]
    public void AWrongPassphraseIsAClearErrorAndIsNeverEchoed()
    {
        string image = Fresh();
        const string wrong = "not-the-passphrase-4711";
        RunResult s = world.BurrowWith(User, new Dictionary<string, string> { ["BURROW_PASSPHRASE"] = wrong }, "sign", "--keyidx", "1", image);
        Assert.Equal(255, s.ExitCode);
        Assert.Contains("ERROR:", s.Stderr, StringComparison.Ordinal);
        Assert.Contains("passphrase", s.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(wrong, s.Stdout + s.Stderr, StringComparison.Ordinal);
        // No passphrase anywhere and no terminal: an error, not a prompt that hangs.
        Dictionary<string, string> env = world.EnvFor(User);
        env.Remove("BURROW_PASSPHRASE");
        RunResult none = AsUser.Run(User, [world.BurrowPath, "sign", "--keyidx", "1", image], env: env, timeout: TimeSpan.FromSeconds(30));
        Assert.False(none.TimedOut, none.ToString());
        Assert.Equal(255, none.ExitCode);
        Assert.Contains("BURROW_PASSPHRASE", none.Stderr, StringComparison.Ordinal);
        // From a file: works, and the file's content is not printed.
        string file = Path.Combine(world.Scratch, $"pass-{Guid.NewGuid():N}");
        File.WriteAllText(file, TrustWorld.Passphrase + "\n");
        File.SetUnixFileMode(file, (UnixFileMode)0x1A4);
        RunResult ok = AsUser.Run(User, [world.BurrowPath, "sign", "--keyidx", "1", "--passphrase-file", file, image], env: env);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.DoesNotContain(TrustWorld.Passphrase, ok.Stdout + ok.Stderr, StringComparison.Ordinal);
        File.Delete(file);
        File.Delete(image);
    }

    /// <summary>At a terminal (script(1) gives it one) the passphrase is asked for and not echoed.</summary>
    [Fact]
    public void ThePromptAtATerminalDoesNotEchoThePassphrase()
    {
        string dir = Path.Combine(world.Scratch, "prompt-" + Guid.NewGuid().ToString("N")[..8]);
        TrustWorld.Ok(AsUser.Run(User, ["mkdir", dir]), "mkdir");
        string image = Path.Combine(dir, "a.sif");
        TrustWorld.UserCopy(world.FixtureImage("apptainer-sif", "one-group.sif"), image);
        // Type the passphrase only once the prompt is shown, so that nothing reaches the terminal while it still echoes.
        string script = $"set -e; cd '{dir}'; mkfifo in; "
            + $"script -qec \"'{world.BurrowPath}' sign --keyidx 1 '{image}'\" /dev/null < in > out 2>&1 & pid=$!; exec 3>in; "
            + "i=0; while ! grep -q 'Enter a passphrase' out; do sleep 0.1; i=$((i+1)); [ $i -lt 600 ] || exit 9; done; "
            + $"printf '%s\\r' '{TrustWorld.Passphrase}' >&3; exec 3>&-; wait $pid; cat out";
        Dictionary<string, string> env = world.EnvFor(User);
        env.Remove("BURROW_PASSPHRASE");
        RunResult r = AsUser.Run(User, ["sh", "-c", script], env: env, timeout: TimeSpan.FromSeconds(90));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Enter a passphrase : ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("Signature created and applied", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(TrustWorld.Passphrase, r.Stdout, StringComparison.Ordinal);
        AsUser.Run(User, ["rm", "-rf", dir]);
    }

    [Fact]
    public void TheKeyringIsPrivateAndListsFingerprintsAsFortyUpperCaseHexDigits()
    {
        string keys = Path.Combine(world.Dir, "xdg", User.Name, "burrow", "keys");
        RunResult stat = TrustWorld.Ok(AsUser.Run(User, ["stat", "-c", "%a", keys]), "stat");
        Assert.Equal("700", stat.Stdout.Trim());
        RunResult list = world.Burrow(User, "key", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("Fingerprint:       " + TrustWorld.Key1, list.Stdout, StringComparison.Ordinal);
        Assert.Contains("Fingerprint:       " + world.Key2, list.Stdout, StringComparison.Ordinal);
        Assert.Matches("^[0-9A-F]{40}$", world.Key2);
        RunResult json = world.Burrow(User, "key", "list", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Contains(world.Key2, json.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The default key is RSA 4096 (made once here: it takes seconds on a busy machine) with a passphrase-protected secret.</summary>
    [Fact]
    public void NewpairMakesAPassphraseProtectedRsa4096KeyByDefault()
    {
        var env = new Dictionary<string, string>
        {
            ["XDG_DATA_HOME"] = Path.Combine(world.Dir, "xdg", User.Name + "-4096-" + Guid.NewGuid().ToString("N")[..8]),
        };
        RunResult made = world.BurrowWith(User, env, "key", "newpair", "--name", "Big Key", "--email", "big@example.com", "--comment", "e2e");
        Assert.True(made.ExitCode == 0, made.ToString());
        RunResult list = world.BurrowWith(User, env, "key", "list", "--secret");
        Assert.Contains("User:              Big Key (e2e) <big@example.com>", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("Length (in bits):  4096", list.Stdout, StringComparison.Ordinal);
        string image = Fresh();
        RunResult wrong = world.BurrowWith(User, new Dictionary<string, string>(env) { ["BURROW_PASSPHRASE"] = "wrong" }, "sign", image);
        Assert.Equal(255, wrong.ExitCode);
        Assert.Contains("the passphrase does not unlock the secret key", wrong.Stderr, StringComparison.Ordinal);
        File.Delete(image);
    }

    [Fact]
    public void AnotherUserImportsAnExportedKeyAndRemovesIt()
    {
        TestUser other = E2EEnvironment.UserWithoutRange;
        string binary = Path.Combine(world.Scratch, $"key2-{Guid.NewGuid():N}.gpg");
        TrustWorld.Ok(world.Burrow(User, "key", "export", "--fingerprint", world.Key2, binary), "export binary");
        Assert.NotEqual((byte)'-', File.ReadAllBytes(binary)[0]);
        string secret = Path.Combine(world.Scratch, $"key2-secret-{Guid.NewGuid():N}.asc");
        TrustWorld.Ok(world.Burrow(User, "key", "export", "--secret", "--armor", "--fingerprint", world.Key2, secret), "export secret");
        Assert.StartsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----", File.ReadAllText(secret), StringComparison.Ordinal);

        RunResult import = world.Burrow(other, "key", "import", binary);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains(world.Key2, world.Burrow(other, "key", "list").Stdout, StringComparison.Ordinal);
        RunResult remove = world.Burrow(other, "key", "remove", world.Key2);
        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.DoesNotContain(world.Key2, world.Burrow(other, "key", "list").Stdout, StringComparison.Ordinal);
        RunResult again = world.Burrow(other, "key", "remove", world.Key2);
        Assert.Equal(255, again.ExitCode);
        Assert.Contains("ERROR:", again.Stderr, StringComparison.Ordinal);
        AsUser.Run(User, ["rm", "-f", binary, secret]);
    }

    [Fact]
    public void AUserCannotChangeTheGlobalKeyring()
    {
        if (!E2EEnvironment.IsRoot)
        {
            return; // the user owns the private installation then
        }
        RunResult r = world.Burrow(User, "key", "remove", "--global", TrustWorld.Key1);
        Assert.Equal(255, r.ExitCode);
        Assert.Contains("ERROR:   cannot change the global keyring", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(TrustWorld.Key1, world.Burrow(User, "key", "list", "--global").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void BadKeyInputsAreOneClearError()
    {
        string notAKey = Path.Combine(world.Scratch, $"not-a-key-{Guid.NewGuid():N}");
        File.WriteAllText(notAKey, "hello");
        File.SetUnixFileMode(notAKey, (UnixFileMode)0x1A4);
        foreach (string[] args in new[]
        {
            new[] { "key", "import", notAKey },
            ["key", "import", "/nonexistent/key.asc"],
            ["key", "remove", "ABCD"],
            ["key", "newpair", "--name", "X", "--email", "x@example.com", "--bit-length", "512"],
            ["sign", "--key", notAKey, "/nonexistent/image.sif"],
            ["verify", "--key", notAKey, world.FixtureImage("apptainer-sif", "one-group-signed-dsse.sif")],
        })
        {
            RunResult r = world.Burrow(User, args);
            Assert.True(r.ExitCode is 1 or 255, string.Join(' ', args) + ": " + r);
            Assert.StartsWith("ERROR:", r.Stderr.Split('\n').First(l => !l.StartsWith("INFO:", StringComparison.Ordinal)), StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        }
        File.Delete(notAKey);
    }
}
