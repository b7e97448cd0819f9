using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Runtime.Planning.Facts;

namespace Burrow.Tests.Hardening;

/// <summary>
/// inspect's metadata reader (issue 13, item 3): /.singularity.d is read inside the image root, regular files only and
/// capped, so the image's symlinks cannot show host files, a FIFO cannot hang it and /dev/zero cannot grow it.
/// </summary>
public sealed class ImageMetadataReaderTests : IDisposable
{
    private readonly string _host = Directory.CreateTempSubdirectory("burrow-host-").FullName;
    private readonly string _root = Directory.CreateTempSubdirectory("burrow-image-").FullName;
    private readonly string _meta;

    public ImageMetadataReaderTests()
    {
        _meta = Path.Combine(_root, ".singularity.d");
        Directory.CreateDirectory(Path.Combine(_meta, "env"));
        Directory.CreateDirectory(Path.Combine(_root, "bin"));
        File.WriteAllText(Path.Combine(_host, "id_ed25519"), "HOST SECRET\n");
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_host, recursive: true);
    }

    private ImageMetadata Read()
    {
        using var reader = new RootDirectoryReader(_root);
        return ImageMetadataReader.FromRoot(reader, "test-image");
    }

    [Fact]
    public void LinksToHostFilesAreNotFollowedOutOfTheImage()
    {
        string secret = Path.Combine(_host, "id_ed25519");
        File.CreateSymbolicLink(Path.Combine(_meta, "runscript"), secret);
        File.CreateSymbolicLink(Path.Combine(_meta, "env", "90-rel.sh"), "../../../../../../../.." + secret);
        File.CreateSymbolicLink(Path.Combine(_meta, "Singularity"), "/proc/self/environ");
        File.CreateSymbolicLink(Path.Combine(_meta, "labels.json"), "/etc/passwd");
        ImageMetadata m = Read();
        Assert.Equal("", m.Runscript);
        Assert.Equal("", m.Deffile);
        Assert.Empty(m.Labels);
        Assert.DoesNotContain(m.Environment, e => e.Item2.Contains("HOST SECRET", StringComparison.Ordinal));
    }

    [Fact]
    public void LinksInsideTheImageAreFollowedThere()
    {
        File.WriteAllText(Path.Combine(_meta, "real-runscript"), "#!/bin/sh\necho inside\n");
        File.CreateSymbolicLink(Path.Combine(_meta, "runscript"), "/.singularity.d/real-runscript");
        File.WriteAllText(Path.Combine(_meta, "env", "10-real.sh"), "export A=1\n");
        File.CreateSymbolicLink(Path.Combine(_meta, "env", "20-link.sh"), "10-real.sh");
        ImageMetadata m = Read();
        Assert.Equal("#!/bin/sh\necho inside\n", m.Runscript);
        Assert.Equal([("/.singularity.d/env/10-real.sh", "export A=1\n"), ("/.singularity.d/env/20-link.sh", "export A=1\n")], m.Environment);
    }

    [Fact]
    public async Task AFifoAndADeviceAreLeftOutWithoutBlocking()
    {
        HostTools.Mkfifo(Path.Combine(_meta, "runscript"));
        HostTools.Mkfifo(Path.Combine(_meta, "env", "50-fifo.sh"));
        // A link to /dev/zero resolves to the image's /dev/zero (missing here), never the host's device.
        File.CreateSymbolicLink(Path.Combine(_meta, "Singularity"), "/dev/zero");
        ImageMetadata m = await Task.Run(Read).WaitAsync(TimeSpan.FromSeconds(10)); // a TimeoutException if it blocked
        Assert.Equal("", m.Runscript);
        Assert.Equal("", m.Deffile);
        Assert.Empty(m.Environment);
    }

    [Fact]
    public void AnOversizedFileIsAnErrorNamingIt()
    {
        File.WriteAllText(Path.Combine(_meta, "runscript"), new string('y', ImageMetadataReader.MaxFileBytes + 1));
        var e = Assert.Throws<BurrowException>(() => Read());
        Assert.Contains("/.singularity.d/runscript", e.Message);
        Assert.Contains("is larger than 1 MiB", e.Message);
    }

    [Theory]
    [InlineData("{\"a\": ", "labels.json is not valid JSON")]
    [InlineData("[\"a\", \"b\"]", "is a JSON array, not an object of labels")]
    [InlineData("\"just a string\"", "is a JSON string, not an object of labels")]
    public void MalformedLabelsAreOneErrorNamingTheFile(string json, string says)
    {
        File.WriteAllText(Path.Combine(_meta, "labels.json"), json);
        var e = Assert.Throws<BurrowException>(() => Read());
        Assert.Contains(says, e.Message);
        Assert.Contains("test-image", e.Message);
    }

    [Fact]
    public void LabelsKeepTheirTextForJsonAndAreEscapedOnlyWhenPrinted()
    {
        File.WriteAllText(Path.Combine(_meta, "labels.json"), "{\"title\": \"\\u001b[2Kforged\", \"n\": 3}");
        ImageMetadata m = Read();
        Assert.Equal([("title", "\u001b[2Kforged"), ("n", "3")], m.Labels);
        string json = m.IndentedJson();
        Assert.DoesNotContain('\u001b', json);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal("\u001b[2Kforged", doc.RootElement.GetProperty("data").GetProperty("attributes").GetProperty("labels").GetProperty("title").GetString());
    }
}
