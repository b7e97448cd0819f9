using System.Text;
using Burrow.Core.Images;
using Burrow.Core.Oci;
using Burrow.Core.Oci.Sources;

namespace Burrow.Tests.Oci;

public class ManifestTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void RefusesSchema1WithAClearMessage()
    {
        var e = Assert.Throws<ImageFormatException>(() => ManifestReader.Parse(B("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}"), "", "docker://old/image"));
        Assert.Contains("schema 1", e.Message);
        Assert.Contains("docker://old/image", e.Message);
        Assert.Throws<ImageFormatException>(() => ManifestReader.Parse(B("{\"schemaVersion\":2}"), MediaTypes.DockerManifestV1Signed, "x"));
    }

    [Fact]
    public void RefusesNonImageArtifactsAndBadJson()
    {
        Assert.Throws<ImageFormatException>(() => ManifestReader.Parse(B("{\"schemaVersion\":2}"), "application/vnd.example.thing", "x"));
        Assert.Throws<ImageFormatException>(() => ManifestReader.Parse(B("{not json"), MediaTypes.OciManifest, "x"));
    }

    private const string Index = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":1,"platform":{"architecture":"amd64","os":"windows"}},
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:3333333333333333333333333333333333333333333333333333333333333333","size":1,"platform":{"architecture":"amd64","os":"linux"}},
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:4444444444444444444444444444444444444444444444444444444444444444","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}
        ]}
        """;

    [Theory]
    [InlineData("amd64", '3')]
    [InlineData("arm64", '4')]
    [InlineData("arm64/v8", '4')]
    [InlineData("arm/v7", '1')]
    [InlineData("arm", '1')]
    public void SelectsLinuxPlatforms(string arch, char digit)
    {
        OciManifest index = ManifestReader.Parse(B(Index), "", "x");
        Assert.Equal("sha256:" + new string(digit, 64), ManifestReader.SelectPlatform(index, arch, "x").Digest);
    }

    [Fact]
    public void NamesTheAvailablePlatformsWhenNoneMatches()
    {
        OciManifest index = ManifestReader.Parse(B(Index), "", "docker://multi");
        var e = Assert.Throws<ImageFormatException>(() => ManifestReader.SelectPlatform(index, "riscv64", "docker://multi"));
        Assert.Contains("linux/arm/v7, windows/amd64, linux/amd64, linux/arm64/v8", e.Message);
        Assert.Contains("--arch", e.Hint);
    }

    [Fact]
    public void RefusesAConfigWhoseDiffIdsDoNotMatchTheLayers()
    {
        var manifest = new OciManifest { SchemaVersion = 2, Layers = [new OciDescriptor { Digest = "sha256:" + new string('a', 64), Size = 1 }] };
        var e = Assert.Throws<ImageFormatException>(() => ManifestReader.ReadConfig(manifest, B("{\"rootfs\":{\"diff_ids\":[]}}"), "x"));
        Assert.Contains("1 layers but the config has 0 diff_ids", e.Message);
    }

    [Fact]
    public void RefusesALayerDigestThatIsNotAValidDigest()
    {
        var manifest = new OciManifest { SchemaVersion = 2, Layers = [new OciDescriptor { Digest = "sha256:../../etc/passwd", Size = 1 }] };
        Assert.Throws<InvalidDataException>(() => ManifestReader.ReadConfig(manifest, B("{\"rootfs\":{\"diff_ids\":[\"sha256:x\"]}}"), "x"));
    }

    [Fact]
    public void RunscriptQuotesEveryWordAndHandlesEntrypointAndCmd()
    {
        var config = new OciImageConfig
        {
            Config = new OciRuntimeConfig { Entrypoint = ["/bin/sh", "-c"], Cmd = ["echo 'quoted' $HOME"], Env = ["A=1", "BAD NAME=x", "Q=a\"b$c`d"] },
        };
        SingularityMetadata m = SingularityMetadata.From(config, "docker://x", "amd64");
        Assert.Contains("set -- '/bin/sh' '-c' 'echo '\\''quoted'\\'' $HOME'; else set -- '/bin/sh' '-c' \"$@\"; fi", m.Runscript);
        Assert.Contains("export A=\"${A:-1}\"", m.Environment);
        Assert.DoesNotContain("BAD", m.Environment);
        Assert.Contains("export Q=\"${Q:-a\\\"b\\$c\\`d}\"", m.Environment);
        Assert.Equal("bootstrap: docker\nfrom: docker://x\n", m.Deffile);
    }
}
