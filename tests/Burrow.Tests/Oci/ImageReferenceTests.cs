using Burrow.Core.Diagnostics;
using Burrow.Core.Oci;
using Burrow.Core.Oci.Registry;

namespace Burrow.Tests.Oci;

public class ImageReferenceTests
{
    [Theory]
    [InlineData("alpine", "docker.io", "library/alpine", "latest")]
    [InlineData("alpine:3.20", "docker.io", "library/alpine", "3.20")]
    [InlineData("user/app", "docker.io", "user/app", "latest")]
    [InlineData("index.docker.io/library/debian:12", "docker.io", "library/debian", "12")]
    [InlineData("quay.io/org/app:v1", "quay.io", "org/app", "v1")]
    [InlineData("localhost/app", "localhost", "app", "latest")]
    [InlineData("127.0.0.1:15000/small", "127.0.0.1:15000", "small", "latest")]
    [InlineData("registry.example:5000/a/b/c:tag_1.0-x", "registry.example:5000", "a/b/c", "tag_1.0-x")]
    public void NormalisesLikeDocker(string text, string registry, string repo, string tag)
    {
        ImageReference r = ImageReference.Parse(text);
        Assert.Equal(registry, r.Registry);
        Assert.Equal(repo, r.Repository);
        Assert.Equal(tag, r.Tag);
        Assert.Null(r.Digest);
    }

    [Fact]
    public void DigestWinsForTheManifestUrl()
    {
        string hex = new('a', 64);
        ImageReference r = ImageReference.Parse("alpine:3@sha256:" + hex);
        Assert.Equal("sha256:" + hex, r.ManifestReference);
        Assert.Equal("3", r.Tag);
        Assert.Equal("registry-1.docker.io", r.ApiHost);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Alpine")]
    [InlineData("alpine@sha256:abc")]
    [InlineData("alpine@md5:" + "00000000000000000000000000000000")]
    [InlineData("a//b")]
    [InlineData("alpine:bad/tag")]
    [InlineData("../etc/passwd")]
    public void RefusesInvalidReferences(string text)
    {
        var e = Assert.Throws<BurrowException>(() => ImageReference.Parse(text));
        Assert.Contains("invalid image reference", e.Message);
    }

    [Fact]
    public void SourcesAreRecognisedByTransport()
    {
        Assert.IsType<RegistrySource>(ImageSource.TryParse("docker://alpine"));
        Assert.IsType<OciLayoutSource>(ImageSource.TryParse("oci:/some/dir:tag"));
        var archive = Assert.IsType<DockerArchiveSource>(ImageSource.TryParse("docker-archive:/x.tar"));
        Assert.Equal("/x.tar", archive.Path);
        Assert.Null(ImageSource.TryParse("/path/to/image.sif"));
        Assert.Null(ImageSource.TryParse("./sandbox"));
        Assert.Throws<BurrowException>(() => ImageSource.TryParse("library://alpine"));
    }

    [Fact]
    public void ParsesBearerChallenges()
    {
        var c = AuthChallenge.Parse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\"");
        AuthChallenge only = Assert.Single(c);
        Assert.True(only.IsBearer);
        Assert.Equal("https://auth.example/token", only.Realm);
        Assert.Equal("registry.example", only.Service);
        Assert.Equal("repository:a/b:pull,push", only.Scope);
    }

    [Fact]
    public void ParsesSeveralChallengesAndBasic()
    {
        var c = AuthChallenge.Parse("Basic realm=\"x, y\", Bearer realm=\"https://t\" , error=insufficient_scope");
        Assert.Equal(2, c.Count);
        Assert.True(c[0].IsBasic);
        Assert.Equal("x, y", c[0].Realm);
        Assert.True(c[1].IsBearer);
        Assert.Equal("insufficient_scope", c[1].Parameters["error"]);
    }

    [Theory]
    [InlineData("https://index.docker.io/v1/", "docker.io")]
    [InlineData("quay.io", "quay.io")]
    [InlineData("http://127.0.0.1:15001", "127.0.0.1:15001")]
    public void CredentialKeysAreNormalised(string key, string registry) => Assert.Equal(registry, CredentialStore.NormaliseKey(key));
}
