using Burrow.E2E.Harness;

namespace Burrow.E2E.Trust;

/// <summary>
/// <c>burrow verify</c> as an unprivileged user on the reference's signed images (both reference versions, PGP, DSSE
/// and legacy) with their fixture keys, and one clear ERROR on every image that is unsigned, tampered or asks for a
/// key it was not signed with.
/// </summary>
[Collection("trust")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class VerifyTests(TrustWorld world)
{
    private static TestUser User => TrustWorld.User;

    public static TheoryData<string, string, string> SignedFixtures => new()
    {
        { "apptainer-sif", "one-group-signed-pgp.sif", "" },
        { "apptainer-sif", "two-groups-signed-pgp.sif", "" },
        { "sylabs-sif-v2.8.3", "one-group-signed.sif", "" },
        { "sylabs-sif-v2.8.3", "two-groups-signed.sif", "" },
        { "apptainer-sif", "one-group-signed-dsse.sif", "--key rsa-public.pem" },
        { "apptainer-sif", "one-group-signed-dsse.sif", "--key ed25519-public.pem" },
        { "apptainer-sif", "two-groups-signed-dsse.sif", "--key rsa-public.pem" },
        { "apptainer-sif", "one-group-signed-legacy.sif", "--legacy-insecure" },
        { "apptainer-sif", "one-group-signed-legacy-group.sif", "--legacy-insecure --group-id 1" },
        { "apptainer-sif", "one-group-signed-legacy-all.sif", "--legacy-insecure --all" },
        { "apptainer-sif", "two-groups-signed-legacy.sif", "--legacy-insecure" },
        { "apptainer-sif", "two-groups-signed-legacy-group.sif", "--legacy-insecure --group-id 1" },
        { "apptainer-sif", "two-groups-signed-legacy-all.sif", "--legacy-insecure --sif-id 2" },
        { "sylabs-sif-v2.8.3", "one-group-signed-legacy.sif", "--legacy-insecure" },
        { "sylabs-sif-v2.8.3", "two-groups-signed-legacy-all.sif", "--legacy-insecure --sif-id 1" },
    };

    [Theory]
    [MemberData(nameof(SignedFixtures))]
    public void EverySignedFixtureVerifiesWithItsKey(string version, string image, string options)
    {
        string path = world.FixtureImage(version, image);
        List<string> args = ["verify"];
        foreach (string o in options.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            args.Add(o.EndsWith(".pem", StringComparison.Ordinal) ? world.FixtureKey(o) : o);
        }
        args.Add(path);
        RunResult r = world.Burrow(User, [.. args]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"Verified signature(s) from image '{path}'", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ERROR", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("Objects verified:", r.Stdout, StringComparison.Ordinal);
        if (options.Contains(".pem", StringComparison.Ordinal))
        {
            Assert.Contains("[KEY]              Public key: ", r.Stdout, StringComparison.Ordinal);
        }
        else
        {
            // The key is in the user's keyring and in the global one.
            Assert.Matches(@"\[(LOCAL|GLOBAL)\] +Signing entity: Unit Test <unit@test.com>\n", r.Stdout);
            Assert.Matches($@"\[(LOCAL|GLOBAL)\] +Fingerprint: {TrustWorld.Key1}\n", r.Stdout);
        }
    }

    [Fact]
    public void TheJsonOutputHasApptainersShape()
    {
        RunResult r = world.Burrow(User, "verify", "--json", world.FixtureImage("apptainer-sif", "two-groups-signed-pgp.sif"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("\"Signatures\": 2", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"Fingerprint\": \"12045c8c0b1004d058de4beda20c27ee7ff7ba84\"", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"DataCheck\": true", r.Stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> Failures => new()
    {
        // image, options, the ERROR line's words
        { "one-group.sif", "", "Failed to verify container: integrity: signature not found for object group 1" },
        { "one-group-signed-legacy.sif", "", "Failed to verify container: integrity: signature not found for object group 1" },
        { "one-group-signed-dsse.sif", "", "Failed to verify container: integrity: key material not provided for DSSE envelope signature" },
        { "one-group-signed-dsse.sif", "--key ecdsa-public.pem", "verifies with the key given" },
        { "one-group-signed-pgp.sif", "--key rsa-public.pem", "Failed to verify container: integrity: key material not provided for PGP clear-sign signature" },
        { "one-group-signed-legacy-group.sif", "--legacy-insecure --group-id 2", "Failed to verify container: integrity: group not found" },
        { "one-group-signed-pgp.sif", "--sif-id 9", "Failed to verify container: integrity: object not found" },
        // Legacy signatures of every object in group 1; object 3 (group 2) has none, as the reference signed it.
        { "two-groups-signed-legacy-all.sif", "--legacy-insecure --all", "Failed to verify container: integrity: signature not found for object 3" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void UnsignedOrMismatchedImagesFailWithOneClearError(string image, string options, string message)
    {
        List<string> args = ["verify"];
        foreach (string o in options.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            args.Add(o.EndsWith(".pem", StringComparison.Ordinal) ? world.FixtureKey(o) : o);
        }
        args.Add(world.FixtureImage("apptainer-sif", image));
        RunResult r = world.Burrow(User, [.. args]);
        Assert.True(r.ExitCode == 255, r.ToString());
        string error = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("ERROR:   Failed", StringComparison.Ordinal));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("Verified signature(s)", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnsignedImageSaysNoSignaturesFound()
    {
        RunResult r = world.Burrow(User, "verify", world.FixtureImage("apptainer-sif", "two-groups.sif"));
        Assert.Equal(255, r.ExitCode);
        Assert.Contains("no signatures found", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>One byte flipped in the header, a descriptor, the partition or the signature: verify fails and names what changed.</summary>
    [Theory]
    [InlineData("header", "header integrity compromised")]
    [InlineData("descriptor", "data object descriptor integrity compromised: 2")]
    [InlineData("partition", "data object integrity compromised: 2")]
    [InlineData("signature", "signature object 3 not valid")]
    public void ATamperedImageFailsNamingWhatChanged(string where, string named)
    {
        string copy = Path.Combine(world.Scratch, $"tampered-{where}-{Guid.NewGuid():N}.sif");
        TrustWorld.UserCopy(world.FixtureImage("apptainer-sif", "one-group-signed-pgp.sif"), copy);
        long offset = where switch
        {
            "header" => 50,                                         // the image's UUID, covered by the header digest
            "descriptor" => DescriptorsOffset(copy) + 585 + 78,     // object 2's descriptor: its name
            "partition" => Partition(copy, 2) + 100,    // object 2's data
            _ => Partition(copy, 3) + 200,              // inside the clear-signed message
        };
        Flip(copy, offset);
        RunResult r = world.Burrow(User, "verify", copy);
        Assert.True(r.ExitCode == 255, r.ToString());
        string error = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("ERROR:   Failed", StringComparison.Ordinal));
        Assert.Contains(named, error, StringComparison.Ordinal);
        File.Delete(copy);
    }

    [Fact]
    public void AnObjectAddedAfterSigningFailsVerification()
    {
        string copy = Path.Combine(world.Scratch, $"added-{Guid.NewGuid():N}.sif");
        TrustWorld.UserCopy(world.FixtureImage("apptainer-sif", "one-group-signed-pgp.sif"), copy);
        string data = Path.Combine(world.Scratch, $"data-{Guid.NewGuid():N}");
        File.WriteAllText(data, "added after signing");
        File.SetUnixFileMode(data, (UnixFileMode)0x1A4);
        TrustWorld.Ok(world.Burrow(User, "sif", "add", copy, data, "--datatype", "4", "--parttype", "3", "--partfs", "4", "--partarch", "2", "--groupid", "1"), "sif add");
        RunResult r = world.Burrow(User, "verify", copy);
        Assert.True(r.ExitCode == 255, r.ToString());
        Assert.Contains("ERROR:   Failed to verify container: integrity: ", r.Stderr, StringComparison.Ordinal);
        File.Delete(copy);
        File.Delete(data);
    }

    [Fact]
    public void ADirectoryIsNotAnImageToVerify()
    {
        RunResult r = world.Burrow(User, "verify", E2EEnvironment.BusyboxTree);
        Assert.Equal(255, r.ExitCode);
        Assert.Contains("is a directory: only SIF images carry signatures", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The data offset of object <paramref name="id"/>, as siftool lists it.</summary>
    internal static long Partition(string image, int id)
    {
        RunResult r = TrustWorld.Ok(AsUser.Run(User, ["siftool", "list", image]), "siftool list");
        string line = r.Stdout.Split('\n').Single(l => l.StartsWith(id + " ", StringComparison.Ordinal));
        return long.Parse(line.Split('|')[3].Trim().Split('-')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static long DescriptorsOffset(string image)
    {
        RunResult r = TrustWorld.Ok(AsUser.Run(User, ["siftool", "header", image]), "siftool header");
        return long.Parse(r.Stdout.Split('\n').Single(l => l.StartsWith("Descriptors Offset:", StringComparison.Ordinal)).Split(':')[1].Trim(),
            System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static void Flip(string path, long offset)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        fs.Position = offset;
        int b = fs.ReadByte();
        fs.Position = offset;
        fs.WriteByte((byte)(b ^ 0x01));
    }
}
