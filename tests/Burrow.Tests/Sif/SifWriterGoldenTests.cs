using Burrow.Core.Sif;

namespace Burrow.Tests.Sif;

/// <summary>
/// Whole images written by Burrow equal, byte for byte, the images the reference's own unit tests write
/// (pkg/sif/testdata), for the same inputs (taken from the reference's create/add/delete/set tests).
/// </summary>
public sealed class SifWriterGoldenTests
{
    private static readonly Guid TestId = Guid.Parse("de170c43-36ab-44a8-bca9-1ea1a070a274");
    private static readonly DateTimeOffset TestTime = DateTimeOffset.FromUnixTimeSeconds(946702800);
    private static readonly SifCreateOptions Deterministic = new() { Deterministic = true };

    private static SifObjectSpec Generic(params byte[] data) => new(SifDataType.Generic, new MemoryStream(data));

    private static SifObjectSpec Part(SifFsType fs, SifPartitionType pt, string arch, params byte[] data) =>
        new(SifDataType.Partition, new MemoryStream(data)) { FsType = fs, PartitionType = pt, Arch = arch };

    private static byte[] Build(IReadOnlyList<SifObjectSpec> objects, SifCreateOptions options, Action<SifImage>? edit = null)
    {
        var ms = new MemoryStream();
        SifBuilder.Create(ms, objects, options);
        if (edit is not null)
        {
            using SifImage image = SifImage.Open(ms, writable: true);
            edit(image);
        }
        return ms.ToArray();
    }

    private static void AssertGolden(string test, string name, byte[] actual)
    {
        byte[] expected = File.ReadAllBytes(SifFixtures.SifGolden(test, name));
        Assert.Equal(expected.Length, actual.Length);
        int diff = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(diff == expected.Length, $"{test}/{name}: first difference at byte {diff}");
    }

    public static TheoryData<string> CreateCases() => new()
    {
        "Empty", "EmptyWithID", "EmptyWithTime", "EmptyLaunchScript", "EmptyDescriptorLimitedCapacity",
        "OneDescriptor", "TwoDescriptors", "TwoDescriptorsAligned", "TwoDescriptorsNotAligned",
    };

    [Theory]
    [MemberData(nameof(CreateCases))]
    public void CreateMatchesReference(string name)
    {
        SifCreateOptions options = name switch
        {
            "EmptyWithID" => Deterministic with { Id = TestId },
            "EmptyWithTime" => Deterministic with { Time = TestTime },
            "EmptyLaunchScript" => Deterministic with { LaunchScript = "#!/usr/bin/env launch-script\n" },
            "EmptyDescriptorLimitedCapacity" => Deterministic with { DescriptorCapacity = 1 },
            _ => Deterministic,
        };
        int? align = name switch { "TwoDescriptorsAligned" => 4, "TwoDescriptorsNotAligned" => 0, _ => null };
        SifObjectSpec[] objects = name switch
        {
            "OneDescriptor" => [Generic(0xfa, 0xce)],
            _ when name.StartsWith("TwoDescriptors", StringComparison.Ordinal) =>
                [Generic(0xfa, 0xce) with { Alignment = align }, Part(SifFsType.Squash, SifPartitionType.PrimarySystem, "386", 0xfe, 0xed) with { Alignment = align }],
            _ => [],
        };
        AssertGolden("TestCreateContainer", name, Build(objects, options));
    }

    [Theory]
    [InlineData("Empty")]
    [InlineData("EmptyNotAligned")]
    [InlineData("EmptyAligned")]
    [InlineData("NotEmpty")]
    [InlineData("NotEmptyNotAligned")]
    [InlineData("NotEmptyAligned")]
    [InlineData("Deterministic")]
    [InlineData("WithTime")]
    public void AddMatchesReference(string name)
    {
        SifCreateOptions create = name == "Deterministic" ? new SifCreateOptions { Id = TestId, Time = TestTime } : Deterministic;
        SifObjectSpec[] initial = name.StartsWith("NotEmpty", StringComparison.Ordinal) ? [Generic(0xfa, 0xce)] : [];
        int? align = name.EndsWith("NotAligned", StringComparison.Ordinal) ? 0 : name.EndsWith("Aligned", StringComparison.Ordinal) ? 128 : null;
        SifObjectSpec add = name.StartsWith("NotEmpty", StringComparison.Ordinal)
            ? Part(SifFsType.Squash, SifPartitionType.PrimarySystem, "386", 0xfe, 0xed) with { Alignment = align }
            : Generic(0xfa, 0xce) with { Alignment = align };
        var edit = new SifEditOptions
        {
            Deterministic = name == "Deterministic",
            Time = name == "WithTime" ? TestTime : null,
        };
        AssertGolden("TestAddObject", name, Build(initial, create, image => image.AddObject(add, edit)));
    }

    [Fact]
    public void AddRefusesASecondPrimaryPartitionAndLeavesTheImageAlone()
    {
        byte[] bytes = Build([Part(SifFsType.Squash, SifPartitionType.PrimarySystem, "386", 0xfa, 0xce)], Deterministic, image =>
        {
            var e = Assert.ThrowsAny<Burrow.Core.Diagnostics.BurrowException>(() =>
                image.AddObject(Part(SifFsType.Squash, SifPartitionType.PrimarySystem, "amd64", 0xfe, 0xed)));
            Assert.Contains("primary", e.Message, StringComparison.Ordinal);
        });
        AssertGolden("TestAddObject", "ErrPrimaryPartition", bytes);
    }

    [Fact]
    public void AddRefusesWhenNoSlotIsFree()
    {
        byte[] bytes = Build([], Deterministic with { DescriptorCapacity = 0 }, image =>
        {
            var e = Assert.ThrowsAny<Burrow.Core.Diagnostics.BurrowException>(() => image.AddObject(Generic(0xfe, 0xed)));
            Assert.Contains("no free descriptor slot", e.Message, StringComparison.Ordinal);
        });
        AssertGolden("TestAddObject", "ErrInsufficientCapacity", bytes);
    }

    [Theory]
    [InlineData("Compact", new uint[] { 1, 2 }, false, true)]
    [InlineData("OneZero", new uint[] { 1 }, true, false)]
    [InlineData("OneCompact", new uint[] { 1 }, false, true)]
    [InlineData("OneZeroCompact", new uint[] { 1 }, true, true)]
    [InlineData("TwoZero", new uint[] { 2 }, true, false)]
    [InlineData("TwoCompact", new uint[] { 2 }, false, true)]
    [InlineData("TwoZeroCompact", new uint[] { 2 }, true, true)]
    public void DeleteMatchesReference(string name, uint[] ids, bool zero, bool compact)
    {
        byte[] bytes = Build([Generic(0xfa, 0xce), Generic(0xfe, 0xed)], Deterministic, image =>
        {
            foreach (uint id in ids)
            {
                image.DeleteObject(id, zero, compact);
            }
        });
        AssertGolden("TestDeleteObject", name, bytes);
    }

    [Fact]
    public void DeleteTimesAndPrimaryPartitionMatchReference()
    {
        AssertGolden("TestDeleteObject", "Deterministic", Build([Generic(0xfa, 0xce)], new SifCreateOptions { Id = TestId, Time = TestTime },
            image => image.DeleteObject(1, options: new SifEditOptions { Deterministic = true })));
        AssertGolden("TestDeleteObject", "WithTime", Build([Generic(0xfa, 0xce)], Deterministic,
            image => image.DeleteObject(1, options: new SifEditOptions { Time = TestTime })));
        AssertGolden("TestDeleteObject", "PrimaryPartition", Build([Part(SifFsType.Squash, SifPartitionType.PrimarySystem, "386", 0xfa, 0xce)], Deterministic,
            image => image.DeleteObject(1)));
        AssertGolden("TestDeleteObjects", "PrimaryPartitionCompact", Build([Part(SifFsType.Squash, SifPartitionType.PrimarySystem, "386", 0xfa, 0xce)], Deterministic,
            image => image.DeleteObject(1, compact: true)));
    }

    [Theory]
    [InlineData("NoCompact", false, false)]
    [InlineData("Compact", false, true)]
    [InlineData("Zero", true, false)]
    [InlineData("ZeroCompact", true, true)]
    public void DeleteThenAddReusesTrailingSpaceAsTheNewerReference(string name, bool zero, bool compact)
    {
        byte[] bytes = Build([Generic("abc"u8.ToArray()), Generic("def"u8.ToArray())], Deterministic, image =>
        {
            image.DeleteObject(2, zero, compact);
            image.AddObject(Generic("ghi"u8.ToArray()));
        });
        AssertGolden("TestDeleteObjectAndAddObject", name, bytes);
    }

    [Fact]
    public void SetPrimaryPartitionMatchesReference()
    {
        AssertGolden("TestSetPrimPart", "One", Build([Part(SifFsType.Raw, SifPartitionType.System, "386", 0xfa, 0xce)], Deterministic,
            image => image.SetPrimaryPartition(1)));
        SifObjectSpec[] two() => [Part(SifFsType.Raw, SifPartitionType.PrimarySystem, "386", 0xfa, 0xce), Part(SifFsType.Raw, SifPartitionType.System, "amd64", 0xfe, 0xed)];
        AssertGolden("TestSetPrimPart", "Two", Build(two(), Deterministic, image => image.SetPrimaryPartition(2)));
        AssertGolden("TestSetPrimPart", "WithTime", Build(two(), Deterministic, image => image.SetPrimaryPartition(2, new SifEditOptions { Time = TestTime })));
        AssertGolden("TestSetPrimPart", "Deterministic", Build([Part(SifFsType.Raw, SifPartitionType.System, "386", 0xfa, 0xce)],
            new SifCreateOptions { Id = TestId, Time = TestTime }, image => image.SetPrimaryPartition(1, new SifEditOptions { Deterministic = true })));
    }

    [Theory]
    [InlineData("TestSetMetadata", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("TestFileImage_SetOCIBlobDigest", "sha256:93a6ab73f77ce27501f74bb35af9b4da5b964c62f96175a1bc0e8ba2ae0dec08")]
    public void SetOciDigestMatchesReference(string test, string digest)
    {
        SifObjectSpec Blob(params byte[] data) => new(SifDataType.OciBlob, new MemoryStream(data));
        AssertGolden(test, "One", Build([Blob(0xfa, 0xce)], Deterministic, image => image.SetOciDigest(1, digest)));
        AssertGolden(test, "Two", Build([Blob(0xfa, 0xce), Blob(0xfe, 0xed)], Deterministic, image => image.SetOciDigest(2, digest)));
        AssertGolden(test, "WithTime", Build([Blob(0xfa, 0xce)], Deterministic, image => image.SetOciDigest(1, digest, new SifEditOptions { Time = TestTime })));
        AssertGolden(test, "Deterministic", Build([Blob(0xfa, 0xce)], new SifCreateOptions { Id = TestId, Time = TestTime },
            image => image.SetOciDigest(1, digest, new SifEditOptions { Deterministic = true })));
        Build([Generic(0xfa, 0xce)], Deterministic, image =>
            Assert.Contains("not an OCI blob", Assert.ThrowsAny<Burrow.Core.Diagnostics.BurrowException>(() => image.SetOciDigest(1, digest)).Message, StringComparison.Ordinal));
    }
}
