using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

/// <summary>Apptainer's -B, --mount and BURROW_BIND syntax.</summary>
public class BindSpecTests
{
    private const string Cwd = "/home/alice/work";

    private static BindSpec One(string value) => Assert.Single(BindSpec.ParseAll([value], Cwd));

    [Theory]
    [InlineData("/data", "/data", "/data", false)]
    [InlineData("/data:/mnt", "/data", "/mnt", false)]
    [InlineData("/data:/mnt:ro", "/data", "/mnt", true)]
    [InlineData("/data:/mnt:rw", "/data", "/mnt", false)]
    [InlineData("/data::ro", "/data", "/data", true)]
    [InlineData("rel", "/home/alice/work/rel", "/home/alice/work/rel", false)]
    [InlineData("/data:/mnt/../opt//x/", "/data", "/opt/x", false)]
    public void SourceDestinationAndMode(string given, string source, string destination, bool readOnly)
    {
        BindSpec b = One(given);
        Assert.Equal((source, destination, readOnly, given, "--bind"), (b.Source, b.Destination, b.ReadOnly, b.Given, b.Origin));
    }

    [Fact]
    public void EscapedCommasAndColonsStayInThePath()
    {
        BindSpec b = One(@"/d/file\,comma:/c/x\:y");
        Assert.Equal(("/d/file,comma", "/c/x:y"), (b.Source, b.Destination));
        Assert.Equal(["/a,b", "/c"], BindSpec.ParseAll([@"/a\,b,/c"], Cwd).Select(x => x.Source));
    }

    [Fact]
    public void CommaListsAndOptionsAfterAComma()
    {
        IReadOnlyList<BindSpec> binds = BindSpec.ParseAll(["/a:/x:ro,/b, /c:/y", "/d:/z:rw,ro"], Cwd);
        Assert.Equal(["/x", "/b", "/y", "/z"], binds.Select(b => b.Destination));
        Assert.True(binds[0].ReadOnly);
        Assert.True(binds[3].ReadOnly); // "rw,ro": ro anywhere wins, as in Apptainer
    }

    [Theory]
    [InlineData("/a:/b:/c:/d", "expected src[:dst[:ro|rw]]")]
    [InlineData(":/b", "expected src[:dst[:ro|rw]]")]
    [InlineData("/a:/b:rx", "unknown bind option 'rx'")]
    [InlineData("/a:/b:image-src=/x", "binding from inside an image file")]
    public void BadValuesSayWhat(string given, string says)
    {
        var e = Assert.Throws<BurrowException>(() => BindSpec.ParseAll([given], Cwd));
        Assert.Contains("--bind " + given, e.Message);
        Assert.Contains(says, e.Message);
    }

    [Theory]
    [InlineData("type=bind,source=/opt,destination=/other", "/opt", "/other", false)]
    [InlineData("src=/opt,dst=/other,ro", "/opt", "/other", true)]
    [InlineData("type=bind,source=/opt,target=/other,readonly=true", "/opt", "/other", true)]
    [InlineData("type=bind,\"source=/a,b\",destination=/c", "/a,b", "/c", false)]
    public void MountSyntax(string given, string source, string destination, bool readOnly)
    {
        BindSpec b = Assert.Single(MountSpec.ParseAll([given], Cwd));
        Assert.Equal((source, destination, readOnly, "--mount"), (b.Source, b.Destination, b.ReadOnly, b.Origin));
    }

    [Fact]
    public void OneMountValueMayHoldSeveralLines()
    {
        Assert.Equal(["/x", "/y"], MountSpec.ParseAll(["src=/a,dst=/x\nsrc=/b,dst=/y\n"], Cwd).Select(b => b.Destination));
    }

    [Theory]
    [InlineData("type=volume,src=/a,dst=/b", "the mount type 'volume' is not supported")]
    [InlineData("src=/a", "a mount needs a source and a destination")]
    [InlineData("src=/a,dst=/b,bind-propagation=shared", "bind-propagation is not supported")]
    [InlineData("src=/a,dst=/b,colour=red", "unknown key 'colour'")]
    [InlineData("src=\"/a,dst=/b", "a double quote is not closed")]
    public void BadMountsSayWhat(string given, string says)
    {
        var e = Assert.Throws<BurrowException>(() => MountSpec.ParseAll([given], Cwd));
        Assert.StartsWith("--mount ", e.Message);
        Assert.Contains(says, e.Message);
    }

    [Fact]
    public void BurrowBindVariablesAddToTheOptionsThenMountsFollow()
    {
        var request = new ActionRequest { Action = ActionKind.Exec, Binds = ["/a:/x"], Mounts = ["src=/d,dst=/w"] };
        IReadOnlyList<BindSpec> all = UserBinds.All(request, [new("BURROW_BINDPATH", "/c:/z"), new("BURROW_BIND", "/b:/y,/e")], Cwd);
        Assert.Equal(["/x", "/y", "/e", "/z", "/w"], all.Select(b => b.Destination));
        Assert.Equal(["--bind", "BURROW_BIND", "BURROW_BIND", "BURROW_BINDPATH", "--mount"], all.Select(b => b.Origin));
    }

    [Fact]
    public void UserBindsMountShallowestFirst()
    {
        IReadOnlyList<BindSpec> binds = BindSpec.ParseAll(["/a:/data/sub/deep", "/b:/data/sub", "/c:/data", "/d:/z"], Cwd);
        Assert.Equal(["/z", "/data", "/data/sub", "/data/sub/deep"], UserBinds.InMountOrder(binds).Select(b => b.Destination));
    }
}
