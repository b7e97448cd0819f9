using System.Text;
using System.Text.RegularExpressions;
using Burrow.Core.Sif;

namespace Burrow.Tests.Sif;

/// <summary>
/// header, list and info text equals the reference's goldens byte for byte: Apptainer's siftool goldens and
/// sylabs v2.8.3's (what Debian's siftool prints), for every fixture image they cover.
/// </summary>
public sealed partial class SifTextGoldenTests
{
    [GeneratedRegex("(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")]
    private static partial Regex WordBoundary();

    /// <summary>"OneGroupSignedPGP" → "one-group-signed-pgp.sif", the reference's own naming.</summary>
    private static string ImageFor(string golden) => WordBoundary().Replace(golden, "-").ToLowerInvariant() + ".sif";

    public static TheoryData<string, string, string> HeaderAndListCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string root in new[] { "apptainer-sif", "sylabs-sif-v2.8.3" })
        {
            foreach (string command in new[] { "Header", "List" })
            {
                foreach (string golden in Directory.GetFiles(Path.Combine(SifFixtures.Root, root, "internal/app/siftool/testdata", "TestApp_" + command), "*.golden").Order(StringComparer.Ordinal))
                {
                    data.Add(root, command, Path.GetFileNameWithoutExtension(golden));
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(HeaderAndListCases))]
    public void HeaderAndListMatchGoldens(string root, string command, string name)
    {
        string expected = File.ReadAllText(Path.Combine(SifFixtures.Root, root, "internal/app/siftool/testdata", "TestApp_" + command, name + ".golden"));
        using SifImage image = SifImage.Open(Path.Combine(SifFixtures.Root, root, "test/images", ImageFor(name)));
        Assert.Equal(expected, command == "Header" ? SifText.Header(image) : SifText.List(image));
    }

    [Theory]
    [InlineData("apptainer-sif", "CryptMessage", "one-object-crypt-message.sif", 1)]
    [InlineData("apptainer-sif", "DataPartitionRaw", "two-groups-signed-pgp.sif", 1)]
    [InlineData("apptainer-sif", "DataPartitionSquashFS", "two-groups-signed-pgp.sif", 2)]
    [InlineData("apptainer-sif", "DataPartitionEXT3", "two-groups-signed-pgp.sif", 3)]
    [InlineData("apptainer-sif", "DataSignature", "two-groups-signed-pgp.sif", 4)]
    [InlineData("apptainer-sif", "GenericJSON", "one-object-generic-json.sif", 1)]
    [InlineData("apptainer-sif", "OCIBlob", "one-object-oci-blob.sif", 1)]
    [InlineData("apptainer-sif", "OCIRootIndex", "one-object-oci-root-index.sif", 1)]
    [InlineData("apptainer-sif", "SBOM", "one-object-sbom.sif", 1)]
    [InlineData("apptainer-sif", "Time", "one-object-time.sif", 1)]
    [InlineData("sylabs-sif-v2.8.3", "CryptMessage", "one-object-crypt-message.sif", 1)]
    [InlineData("sylabs-sif-v2.8.3", "DataPartitionRaw", "two-groups-signed.sif", 1)]
    [InlineData("sylabs-sif-v2.8.3", "DataPartitionSquashFS", "two-groups-signed.sif", 2)]
    [InlineData("sylabs-sif-v2.8.3", "DataPartitionEXT3", "two-groups-signed.sif", 3)]
    [InlineData("sylabs-sif-v2.8.3", "DataSignature", "two-groups-signed.sif", 4)]
    [InlineData("sylabs-sif-v2.8.3", "GenericJSON", "one-object-generic-json.sif", 1)]
    [InlineData("sylabs-sif-v2.8.3", "SBOM", "one-object-sbom.sif", 1)]
    [InlineData("sylabs-sif-v2.8.3", "Time", "one-object-time.sif", 1)]
    public void InfoMatchesGoldens(string root, string name, string image, uint id)
    {
        string expected = File.ReadAllText(Path.Combine(SifFixtures.Root, root, "internal/app/siftool/testdata/TestApp_Info", name + ".golden"));
        using SifImage sif = SifImage.Open(Path.Combine(SifFixtures.Root, root, "test/images", image));
        Assert.Equal(expected, SifText.Info(sif.GetById(id)));
    }

    [Theory]
    [InlineData("One", 1u)]
    [InlineData("Two", 2u)]
    [InlineData("Three", 3u)]
    public void SiftoolCommandInfoGoldens(string name, uint id)
    {
        string dir = Path.Combine(SifFixtures.Sylabs, "pkg/siftool/testdata/Test_command_getInfo", name);
        using SifImage sif = SifImage.Open(Path.Combine(SifFixtures.Sylabs, "test/images/one-group-signed.sif"));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "out.golden")), SifText.Info(sif.GetById(id)));
    }

    [Theory]
    [InlineData("apptainer-sif", "One", "one-group.sif", 1u)]
    [InlineData("apptainer-sif", "Two", "one-group.sif", 2u)]
    [InlineData("sylabs-sif-v2.8.3", "Three", "one-group-signed.sif", 3u)]
    public void DumpMatchesGoldens(string root, string name, string image, uint id)
    {
        using SifImage sif = SifImage.Open(Path.Combine(SifFixtures.Root, root, "test/images", image));
        Assert.Equal(File.ReadAllBytes(Path.Combine(SifFixtures.Root, root, "internal/app/siftool/testdata/TestApp_Dump", name + ".golden")), sif.ReadObject(sif.GetById(id)));
    }

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(-1023L, "-1023 B")]
    [InlineData(1024L, "1 KiB")]
    [InlineData(1536L, "2 KiB")]
    [InlineData(28080L, "27 KiB")]
    [InlineData(1048575L, "1024 KiB")]
    [InlineData(1048576L, "1 MiB")]
    [InlineData(long.MaxValue, "8 EiB")]
    [InlineData(long.MinValue, "-8 EiB")]
    public void ReadableSizeIsGos(long size, string text) => Assert.Equal(text, SifText.ReadableSize(size));

    [Theory]
    [InlineData(0L, "1970-01-01 00:00:00 +0000 UTC")]
    [InlineData(1593475316L, "2020-06-30 00:01:56 +0000 UTC")]
    [InlineData(-1L, "1969-12-31 23:59:59 +0000 UTC")]
    [InlineData(253402300800L, "10000-01-01 00:00:00 +0000 UTC")]
    public void TimesPrintAsGoDoes(long unix, string text) => Assert.Equal(text, SifTime.FormatGo(unix));

    [Fact]
    public void AbsurdTimesStillFormat()
    {
        Assert.NotEmpty(SifTime.FormatGo(long.MaxValue));
        Assert.NotEmpty(SifTime.FormatGo(long.MinValue));
        Assert.Null(SifTime.ToDateTime(long.MaxValue));
        Assert.Equal(Encoding.ASCII.GetByteCount(SifTime.FormatGo(1)), SifTime.FormatGo(1).Length);
    }
}
