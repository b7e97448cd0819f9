using Burrow.E2E.Harness;

namespace Burrow.E2E.Trust;

/// <summary>The trust tests share one world and run one at a time: they change its execution control list and global keyring.</summary>
[CollectionDefinition("trust", DisableParallelization = true)]
public sealed class TrustCollection : ICollectionFixture<TrustWorld>;

/// <summary>
/// A private copy of the installed build (so that its <c>etc/burrow/ecl.toml</c> and global keyring are the tests' own
/// and no other test sees an activated list), the reference's fixture keys and images, keyrings for the test user, and
/// busybox SIFs signed by key 1 (the reference's "Unit Test" key) and a key 2 made once with <c>burrow key newpair</c>.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TrustWorld : IDisposable
{
    public const string Key1 = "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84";
    public const string Passphrase = "e2e trust passphrase";

    public TrustWorld()
    {
        Dir = Path.Combine("/tmp", "burrow-trust-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Dir);
        File.SetUnixFileMode(Dir, (UnixFileMode)0x1ED);
        Install = Path.Combine(Dir, "install");
        Copy(E2EEnvironment.Prefix, Install);
        Directory.CreateDirectory(ConfigDir);
        Run(Admin, ["chmod", "-R", "u+w,go-w,a+rX", Install]);
        Fixtures = Path.Combine(Dir, "fixtures");
        Copy(FixtureRoot(), Fixtures);
        Run(Admin, ["chmod", "-R", "a+rX", Fixtures]);
        Images = Shared("images");
        Scratch = Shared("scratch");
        Shared("xdg");

        // Key 1: the reference's unencrypted "Unit Test" key; key 2: a new passphrase-protected one (2048 bits: quick).
        Ok(Burrow(User, "key", "import", FixtureKey("private.asc")), "import key 1");
        Ok(Burrow(User, "key", "newpair", "--name", "E2E Two", "--email", "two@example.com", "--bit-length", "2048"), "newpair key 2");
        string list = Ok(Burrow(User, "key", "list", "--secret"), "list").Stdout;
        Key2 = list.Split('\n').Where(l => l.Contains("Fingerprint:", StringComparison.Ordinal)).Select(l => l.Split(':')[1].Trim())
            .Single(fp => fp != Key1);
        Key1Public = Path.Combine(Scratch, "key1.asc");
        Key2Public = Path.Combine(Scratch, "key2.asc");
        Ok(Burrow(User, "key", "export", "--armor", "--fingerprint", Key1, Key1Public), "export key 1");
        Ok(Burrow(User, "key", "export", "--armor", "--fingerprint", Key2, Key2Public), "export key 2");
        ImportGlobal(Key1Public);
        ImportGlobal(Key2Public);

        OneKeyEnv = new Dictionary<string, string> { ["XDG_DATA_HOME"] = Path.Combine(Dir, "xdg", User.Name + "-one-key") };
        Ok(BurrowWith(User, OneKeyEnv, "key", "import", FixtureKey("private.asc")), "import key 1 alone");

        foreach (string name in new[] { "signed", "signed_one", "unsigned" })
        {
            UserCopy(Path.Combine(E2EEnvironment.TestCache, "images", "busybox.sif"), Path.Combine(Images, name + ".sif"));
        }
        Ok(Burrow(User, "sign", "--keyidx", "0", Path.Combine(Images, "signed.sif")), "sign with key 1");
        Ok(Burrow(User, "sign", "--keyidx", "1", Path.Combine(Images, "signed.sif")), "sign with key 2");
        Ok(Burrow(User, "sign", "--keyidx", "0", Path.Combine(Images, "signed_one.sif")), "sign with key 1");
    }

    public void Dispose()
    {
        Run(Admin, ["rm", "-rf", Dir]);
    }

    /// <summary>The account that owns the private installation (root in CI).</summary>
    public static TestUser Admin { get; } = E2EEnvironment.IsRoot ? new TestUser("root", 0, 0, "/root", false) : E2EEnvironment.UserWithRange;

    public static TestUser User => E2EEnvironment.UserWithRange;

    public string Dir { get; }

    public string Install { get; }

    public string BurrowPath => Path.Combine(Install, "bin", "burrow");

    public string ConfigDir => Path.Combine(Install, "etc", "burrow");

    public string EclFile => Path.Combine(ConfigDir, "ecl.toml");

    /// <summary>The copied reference fixtures (apptainer-sif/, sylabs-sif-v2.8.3/).</summary>
    public string Fixtures { get; }

    /// <summary>signed.sif (keys 1 and 2), signed_one.sif (key 1), unsigned.sif: the ECL's directory.</summary>
    public string Images { get; }

    /// <summary>A directory every test user may write.</summary>
    public string Scratch { get; }

    public string Key2 { get; }

    /// <summary>Keyrings that hold key 1 alone.</summary>
    public IReadOnlyDictionary<string, string> OneKeyEnv { get; }

    public string Key1Public { get; }

    public string Key2Public { get; }

    public string FixtureKey(string name) => Path.Combine(Fixtures, "apptainer-sif", "test", "keys", name);

    public string FixtureImage(string version, string name) => Path.Combine(Fixtures, version, "test", "images", name);

    /// <summary>The user's keyrings live in XDG_DATA_HOME under the world; the passphrase comes from BURROW_PASSPHRASE.</summary>
    public Dictionary<string, string> EnvFor(TestUser user) => new()
    {
        ["XDG_DATA_HOME"] = Path.Combine(Dir, "xdg", user.Name),
        ["BURROW_PASSPHRASE"] = Passphrase,
    };

    /// <summary>Runs this world's burrow as <paramref name="user"/>.</summary>
    public RunResult Burrow(TestUser user, params string[] args) => AsUser.Run(user, [BurrowPath, .. args], env: EnvFor(user));

    public RunResult BurrowWith(TestUser user, IReadOnlyDictionary<string, string> env, params string[] args)
    {
        Dictionary<string, string> all = EnvFor(user);
        foreach ((string k, string v) in env)
        {
            all[k] = v;
        }
        return AsUser.Run(user, [BurrowPath, .. args], env: all);
    }

    public RunResult AdminBurrow(params string[] args) => AsUser.Run(Admin, [BurrowPath, .. args], env: EnvFor(Admin));

    public void ImportGlobal(string key) => Ok(AdminBurrow("key", "import", "--global", key), "import --global " + key);

    /// <summary>Writes the execution control list (as its administrator).</summary>
    public void WriteEcl(string toml)
    {
        File.WriteAllText(EclFile, toml);
        File.SetUnixFileMode(EclFile, (UnixFileMode)0x1A4);
    }

    public void RemoveEcl() => File.Delete(EclFile);

    /// <summary>A copy of <paramref name="from"/> at <paramref name="to"/> that the test user owns and may write.</summary>
    public static void UserCopy(string from, string to)
    {
        Ok(AsUser.Run(User, ["cp", from, to]), "copy " + from);
        Ok(AsUser.Run(User, ["chmod", "0644", to]), "chmod " + to);
    }

    public static RunResult Ok(RunResult r, string what)
    {
        Assert.True(r.ExitCode == 0, what + ": " + r);
        return r;
    }

    private string Shared(string name)
    {
        string dir = Path.Combine(Dir, name);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        return dir;
    }

    private static void Copy(string from, string to) => Ok(AsUser.Run(Admin, ["cp", "-a", "--no-preserve=ownership", from, to]), "copy " + from);

    private static RunResult Run(TestUser user, string[] argv) => Ok(AsUser.Run(user, argv), string.Join(' ', argv));

    private static string FixtureRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Burrow.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        string beside = Path.GetFullPath(Path.Combine(dir ?? "/", "..", "shared", "fixtures", "sif"));
        return Directory.Exists(beside) ? beside : "/work/shared/fixtures/sif";
    }
}
