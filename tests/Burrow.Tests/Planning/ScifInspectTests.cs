using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Runtime.Planning.Facts;

namespace Burrow.Tests.Planning;

/// <summary>inspect's --test, --helpfile, --app and --list-apps, read inside the image root as Apptainer lays them out.</summary>
public sealed class ScifInspectTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("burrow-scif-").FullName;

    public ScifInspectTests()
    {
        string sd = Path.Combine(_root, ".singularity.d");
        Directory.CreateDirectory(sd);
        File.WriteAllText(Path.Combine(sd, "test"), "#!/bin/sh\ntrue\n");
        File.WriteAllText(Path.Combine(sd, "runscript.help"), "Usage: run me\n");
        string meta = Path.Combine(_root, "scif", "apps", "foo", "scif");
        Directory.CreateDirectory(Path.Combine(meta, "env"));
        File.WriteAllText(Path.Combine(meta, "runscript"), "#!/bin/sh\necho foo\n");
        File.WriteAllText(Path.Combine(meta, "runscript.help"), "foo's help\n");
        File.WriteAllText(Path.Combine(meta, "labels.json"), "{\"AUTHOR\": \"me\"}");
        File.WriteAllText(Path.Combine(meta, "env", "90-environment.sh"), "export FOO=1\n");
        Directory.CreateDirectory(Path.Combine(_root, "scif", "apps", "bar"));
        File.WriteAllText(Path.Combine(_root, "scif", "apps", "not-an-app"), "");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TheImagesTestAndHelpAreRead()
    {
        using var reader = new RootDirectoryReader(_root);
        ImageMetadata m = ImageMetadataReader.FromRoot(reader, "img");
        Assert.Equal("#!/bin/sh\ntrue\n", m.Test);
        Assert.Equal("Usage: run me\n", m.Helpfile);
        // Apptainer's inspect JSON names; read back the same.
        ImageMetadata back = ImageMetadataReader.FromInspectJson(m.InspectJson(), "img");
        Assert.Equal(m.Test, back.Test);
        Assert.Equal(m.Helpfile, back.Helpfile);
    }

    [Fact]
    public void AnAppsMetadataComesFromItsScifDirectory()
    {
        using var reader = new RootDirectoryReader(_root);
        ImageMetadata m = ImageMetadataReader.FromApp(reader, "foo", "img");
        Assert.Equal("#!/bin/sh\necho foo\n", m.Runscript);
        Assert.Equal("foo's help\n", m.Helpfile);
        Assert.Equal([("AUTHOR", "me")], m.Labels);
        Assert.Equal([("/scif/apps/foo/scif/env/90-environment.sh", "export FOO=1\n")], m.Environment);
        Assert.Equal(["bar", "foo"], reader.ListDirectories("/scif/apps"));
    }

    [Fact]
    public void AMissingAppIsAnErrorThatSaysHowToListThem()
    {
        using var reader = new RootDirectoryReader(_root);
        BurrowException e = Assert.Throws<BurrowException>(() => ImageMetadataReader.FromApp(reader, "nope", "img"));
        Assert.Equal("image img has no SCIF app nope (/scif/apps/nope does not exist)", e.Message);
        Assert.Equal("list the image's apps with: burrow inspect --list-apps img", e.Hint);
        Assert.Throws<BurrowException>(() => ImageMetadataReader.FromApp(reader, "../foo", "img"));
    }
}
