using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Ecl;
using Burrow.Core.Trust.Pgp;
using Burrow.Tests.Sif;

namespace Burrow.Tests.Trust;

/// <summary>
/// The execution control list: loading and validation with file and line, and every case of Apptainer's ECL table
/// decided on real signed images (the E2E tests run the same table through burrow exec as the test users).
/// </summary>
public sealed class EclTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("burrow-ecl-").FullName;
    private readonly string _images;
    private readonly string _config;

    public EclTests()
    {
        _images = Path.Combine(_dir, "images");
        _config = Path.Combine(_dir, "etc");
        Directory.CreateDirectory(_images);
        Directory.CreateDirectory(_config);
        string signed = TrustFixtures.Copy(SifFixtures.Image("one-group.sif"), _images);
        File.Move(signed, Signed);
        TrustFixtures.SignPgp(Signed, TrustFixtures.Key1);
        TrustFixtures.SignPgp(Signed, TrustFixtures.Key2);
        File.Move(TrustFixtures.Copy(SifFixtures.Image("one-group.sif"), _images), SignedOne);
        TrustFixtures.SignPgp(SignedOne, TrustFixtures.Key1);
        File.Move(TrustFixtures.Copy(SifFixtures.Image("one-group.sif"), _images), Unsigned);
        GlobalKeys(TrustFixtures.Key1, TrustFixtures.Key2);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Signed => Path.Combine(_images, "signed.sif");
    private string SignedOne => Path.Combine(_images, "signed_one.sif");
    private string Unsigned => Path.Combine(_images, "unsigned.sif");
    private static string K1 => TrustFixtures.Key1.FingerprintHex;
    private static string K2 => TrustFixtures.Key2.FingerprintHex;

    private TrustPaths Paths => new(Path.Combine(_dir, "user-keys"), _config);

    private void GlobalKeys(params PgpEntity[] keys)
    {
        PgpKeyring ring = PgpKeyring.Empty(Paths.GlobalPublicKeyring, secret: false);
        foreach (PgpEntity k in keys)
        {
            ring.Add(k);
        }
        ring.Save();
    }

    private string Group(string mode, string? dir, params string[] keys) =>
        $"[[execgroup]]\ntagname = \"g\"\nmode = \"{mode}\"\ndirpath = \"{dir ?? _images}\"\nkeyfp = [{string.Join(", ", keys.Select(k => $"\"{k}\""))}]\n";

    private string? Check(string toml, string image)
    {
        ExecutionControl ecl = ExecutionControl.From(EclConfig.Parse(toml, Path.Combine(_config, "ecl.toml")), Paths);
        using SifImage sif = SifImage.Open(image);
        try
        {
            ecl.CheckSif(sif, sif.FileHandle!, sif.PrimarySystemPartition!, image);
            return null;
        }
        catch (BurrowException e)
        {
            Assert.Equal(ExitCodes.Failure, e.ExitCode);
            Assert.StartsWith("while checking container image with ECL: ", e.Message);
            return e.Message["while checking container image with ECL: ".Length..];
        }
    }

    private const string On = "activated = true\n";

    [Fact]
    public void TheApptainerTableWithBothKeysInTheGlobalKeyring()
    {
        Assert.EndsWith("not part of any execgroup", Check(On, Signed));
        Assert.Null(Check(On + Group("whitelist", null, K1), Signed));
        Assert.Null(Check(On + Group("whitelist", null, K2), Signed));
        Assert.Equal("image signature not valid: integrity: signature not found for object group 1", Check(On + Group("whitelist", null, K1), Unsigned));
        Assert.Equal("image signature not valid: integrity: signature not found for object group 1", Check(On + Group("whitelist", null), Unsigned));
        Assert.EndsWith("not part of any execgroup", Check(On + Group("whitelist", "/"), Unsigned));
        Assert.Null(Check(On + Group("whitestrict", null, K1, K2), Signed));
        Assert.Equal("image not signed by required entities", Check(On + Group("whitestrict", null, K1, K2), SignedOne));
        Assert.Equal("image signature not valid: integrity: signature not found for object group 1", Check(On + Group("whitestrict", null, K1, K2), Unsigned));
        Assert.Equal("image signed by a forbidden entity", Check(On + Group("blacklist", null, K1), Signed));
        Assert.Null(Check(On + Group("blacklist", null, K2), SignedOne));
        Assert.Null(Check("activated = false\n" + Group("whitelist", null, K1), Unsigned));
    }

    [Fact]
    public void TheApptainerTableAfterTheAdministratorRemovesKeysFromTheGlobalKeyring()
    {
        GlobalKeys(TrustFixtures.Key1);
        Assert.Equal("image not signed by required entities", Check(On + Group("whitelist", null, K2), Signed));
        Assert.Null(Check(On + Group("whitelist", null, K1, K2), Signed));
        Assert.Equal("image not signed by required entities", Check(On + Group("whitestrict", null, K1, K2), Signed));
        GlobalKeys();
        Assert.Equal("image signed by a forbidden entity", Check(On + Group("blacklist", null, K1, K2), Signed));
    }

    [Fact]
    public void AllowUnsignedLetsUnsignedImagesRunFromItsDirectoryButStillJudgesSignedOnes()
    {
        string allow = On + Group("whitelist", null, K2).Replace("keyfp", "allowunsigned = true\nkeyfp", StringComparison.Ordinal);
        Assert.Null(Check(allow, Unsigned));
        Assert.Null(Check(allow, Signed));
        Assert.Equal("image not signed by required entities", Check(allow, SignedOne));
    }

    [Fact]
    public void TheGroupIsChosenByTheImagesRealDirectoryNotThePathGiven()
    {
        // CVE-2020-13845: a symlink, a "..", a "/./" or a rename cannot move an image into a more lenient group.
        string lenient = Path.Combine(_dir, "lenient");
        Directory.CreateDirectory(lenient);
        string toml = On + Group("whitelist", null, K1) + "[[execgroup]]\ntagname = \"open\"\nmode = \"blacklist\"\ndirpath = \"" + lenient + "\"\nallowunsigned = true\n";
        string link = Path.Combine(lenient, "link.sif");
        File.CreateSymbolicLink(link, Unsigned);
        Assert.StartsWith("image signature not valid", Check(toml, link));
        Assert.StartsWith("image signature not valid", Check(toml, Path.Combine(lenient, "..", "images", "unsigned.sif")));
        Assert.StartsWith("image signature not valid", Check(toml, _images + "/./unsigned.sif"));
        // What is really in the lenient directory is judged by its group.
        string real = TrustFixtures.Copy(SifFixtures.Image("one-group.sif"), lenient);
        Assert.Null(Check(toml, real));
    }

    [Fact]
    public void ASandboxIsRefusedUnlessItsDirectorysGroupAllowsUnsignedImages()
    {
        string sandboxes = Path.Combine(_dir, "sandboxes");
        string box = Path.Combine(sandboxes, "box");
        Directory.CreateDirectory(Path.Combine(box, "bin"));
        ExecutionControl strict = ExecutionControl.From(EclConfig.Parse(On + Group("whitelist", sandboxes, K1), "ecl.toml"), Paths);
        var e = Assert.Throws<BurrowException>(() => strict.CheckUnsignable(box, box));
        Assert.Equal($"while checking container image with ECL: {box} is a sandbox directory, which cannot carry a signature, and execgroup \"g\" (whitelist, {sandboxes}) does not allow unsigned images", e.Message);
        ExecutionControl none = ExecutionControl.From(EclConfig.Parse(On + Group("whitelist", null, K1), "ecl.toml"), Paths);
        Assert.EndsWith($"{box} not part of any execgroup", Assert.Throws<BurrowException>(() => none.CheckUnsignable(box, box)).Message);
        ExecutionControl open = ExecutionControl.From(EclConfig.Parse(On + Group("whitelist", sandboxes, K1) + "allowunsigned = true\n", "ecl.toml"), Paths);
        open.CheckUnsignable(box, box);
    }

    [Fact]
    public void LegacyInsecureModeChecksTheLegacySignatureOfThePrimaryPartition()
    {
        string legacy = TrustFixtures.Copy(SifFixtures.Image("one-group-signed-legacy.sif"), _images);
        GlobalKeys(TrustFixtures.FixtureKey);
        string group = Group("whitelist", null, TrustFixtures.FixtureFingerprint);
        Assert.Null(Check("activated = true\nlegacyinsecure = true\n" + group, legacy));
        Assert.Equal("image signature not valid: integrity: signature not found for object group 1", Check(On + group, legacy));
    }

    [Fact]
    public void AVerifiedCheckRecordsThePrimaryPartitionForServing()
    {
        ExecutionControl ecl = ExecutionControl.From(EclConfig.Parse(On + Group("whitelist", null, K1), "ecl.toml"), Paths);
        using SifImage sif = SifImage.Open(Signed);
        VerifiedExtent extent = ecl.CheckSif(sif, sif.FileHandle!, sif.PrimarySystemPartition!, Signed)!;
        Assert.Equal(sif.PrimarySystemPartition!.Offset, extent.Offset);
        Assert.Equal(sif.PrimarySystemPartition!.Size, extent.Length);
    }

    [Theory]
    [InlineData("activate = true\n", 1, "unknown key \"activate\"")]
    [InlineData("activated = \"yes\"\n", 1, "activated must be true or false")]
    [InlineData("activated = true\n[[execgroup]]\ntagname = \"a\"\nmode = \"whitlist\"\n", 4, "the mode field can only be either: whitelist, whitestrict, blacklist (not \"whitlist\")")]
    [InlineData("activated = true\n[[execgroup]]\ntagname = \"a\"\nmode = \"whitelist\"\nkeyfp = [\"ABCD\"]\n", 5, "expecting a 40 chars hex fingerprint string, not \"ABCD\"")]
    [InlineData("activated = true\n[[execgroup]]\ntagname = \"a\"\n", 2, "execgroup \"a\" has no mode")]
    [InlineData("activated = true\n[[execgroup]]\nmode = \"blacklist\"\ndirpath = \"relative/dir\"\n", 2, "dirpath relative/dir must be an absolute, clean path")]
    [InlineData("activated = true\n[[execgroup]]\nmode = \"blacklist\"\ndirpath = \"/nonexistent-burrow-dir\"\n", 2, "dirpath /nonexistent-burrow-dir does not exist")]
    [InlineData("activated = true\n[[execgroup]]\nmode = \"blacklist\"\n[[execgroup]]\nmode = \"whitelist\"\n", 4, "a specific dirpath can only appear in one execgroup")]
    [InlineData("activated = true\n[execgroup]\nmode = \"blacklist\"\n", 2, "unknown table [execgroup]")]
    [InlineData("activated = true\n[[execgroup]]\nmode = \"blacklist\"\nkeyfps = []\n", 4, "unknown key \"keyfps\"")]
    [InlineData("activated = tru\n", 1, "not valid TOML")]
    public void AnInvalidListIsAnErrorNamingTheFileAndLine(string toml, int line, string message)
    {
        var e = Assert.Throws<BurrowException>(() => EclConfig.Parse(toml, "/etc/burrow/ecl.toml"));
        Assert.StartsWith($"invalid execution control list /etc/burrow/ecl.toml:{line}: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ADirpathThroughASymlinkIsRefused()
    {
        string link = Path.Combine(_dir, "images-link");
        Directory.CreateSymbolicLink(link, _images);
        var e = Assert.Throws<BurrowException>(() => EclConfig.Parse(On + Group("whitelist", link, K1), "ecl.toml"));
        Assert.Contains($"should be fully cleaned with symlinks resolved: {link} is {_images}", e.Message);
    }

    [Fact]
    public void AMissingFileIsAListThatIsNotActivatedAndTheExampleParses()
    {
        Assert.False(EclConfig.Load(Path.Combine(_dir, "none.toml")).Activated);
        EclConfig c = EclConfig.Parse("# comment\nactivated = true\nlegacyinsecure = false\n\n[[execgroup]]\n  tagname = \"group1\"\n  mode = \"whitelist\"\n  dirpath = \"\"\n  keyfp = [\"5994BE54C31CF1B5E1994F987C52CF6D055F072B\", \"7064B1D6EFF01B1262FED3F03581D99FE87EAFD1\"]\n", "ecl.toml");
        Assert.True(c.Activated);
        EclGroup g = Assert.Single(c.Groups);
        Assert.Equal(EclMode.Whitelist, g.Mode);
        Assert.Equal(2, g.KeyFingerprints.Count);
        Assert.Same(g, c.GroupFor("/anywhere"));
    }

    [Fact]
    public void TheShippedListParsesAndIsOff()
    {
        string shipped = Path.Combine(SifFixtures.RepoRoot(), "etc", "ecl.toml");
        EclConfig c = EclConfig.Load(shipped);
        Assert.False(c.Activated);
        Assert.False(c.LegacyInsecure);
        Assert.Empty(c.Groups);
    }
}
