using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Images;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

/// <summary>The root's layers: --overlay directories, --writable-tmpfs, and which of them takes the writes.</summary>
public sealed class RootLayersTests
{
    private readonly PlanFixture _f = new();

    public RootLayersTests()
    {
        _f.HostPaths["/ov/a"] = PathKind.Directory;
        _f.HostPaths["/ov/b"] = PathKind.Directory;
        _f.HostPaths["/ov/b/upper"] = PathKind.Directory;
        _f.HostPaths["/ov/c"] = PathKind.Directory;
        _f.HostPaths["/ov/file"] = PathKind.File;
    }

    private static ActionRequest Exec(Func<ActionRequest, ActionRequest> with) => with(PlanFixture.Exec("true"));

    [Fact]
    public void ByDefaultTheRootIsReadOnlyWithNoLayers()
    {
        RootFsPlan root = _f.Plan(PlanFixture.Exec("true")).Root;
        Assert.False(RootPlanner.IsWritable(root));
        Assert.Empty(root.Overlays);
        Assert.Null(root.TmpfsSize);
    }

    [Fact]
    public void WritableTmpfsHasApptainersSizeLimit()
    {
        RootFsPlan root = _f.Plan(Exec(r => r with { WritableTmpfs = true })).Root;
        Assert.True(root.WritableTmpfs);
        Assert.Equal("64m", root.TmpfsSize);
        Assert.True(RootPlanner.IsWritable(root));
    }

    [Fact]
    public void LaterOverlaysLieAboveEarlierOnesAndReadOnlyOnesUseTheirUpperIfTheyHaveOne()
    {
        RootFsPlan root = _f.Plan(Exec(r => r with { Overlays = ["/ov/a:ro", "/ov/b:ro", "/ov/c"] })).Root;
        Assert.Equal(["/ov/c", "/ov/b", "/ov/a"], root.Overlays.Select(o => o.Directory));
        Assert.Equal(new OverlayLayer("/ov/c", "/ov/c/upper", "/ov/c/work", ReadOnly: false), root.Overlays[0]);
        Assert.Equal("/ov/b/upper", root.Overlays[1].Upper);
        Assert.Equal("/ov/a", root.Overlays[2].Upper);
        Assert.Null(root.Overlays[2].Work);
        Assert.True(RootPlanner.IsWritable(root));
    }

    [Fact]
    public void RootInAWritableContainerKeepsTheImagesPasswd()
    {
        _f.Identity = IdentityResolver.Resolve(IdentityRequest.Default with { FakeRoot = true }, _f.User, SubordinateIds.None);
        LaunchPlan plan = _f.Plan(Exec(r => r with { WritableTmpfs = true }));
        Assert.DoesNotContain(plan.Files, f => f.Target == "/etc/passwd");
    }

    [Theory]
    [InlineData("/ov/missing", "does not exist")]
    [InlineData("/ov/file", "is not a directory")]
    public void AnOverlayMustBeADirectory(string dir, string said)
    {
        var e = Assert.Throws<BurrowException>(() => _f.Plan(Exec(r => r with { Overlays = [dir] })));
        Assert.Contains($"--overlay {dir}: {dir} {said}", e.Message);
    }

    [Fact]
    public void OnlyOneOverlayTakesTheChanges()
    {
        Assert.Contains("only one can take the changes", Assert.Throws<BurrowException>(() => _f.Plan(Exec(r => r with { Overlays = ["/ov/a", "/ov/c"] }))).Message);
        Assert.Contains("--overlay and --writable", Assert.Throws<BurrowException>(() => _f.Plan(Exec(r => r with { Overlays = ["/ov/a"], Writable = true }))).Message);
        Assert.Contains("--writable-tmpfs and the writable overlay", Assert.Throws<BurrowException>(() => _f.Plan(Exec(r => r with { Overlays = ["/ov/a"], WritableTmpfs = true }))).Message);
        // A read-only overlay and --writable-tmpfs go together (Apptainer's e2e expects it).
        Assert.True(_f.Plan(Exec(r => r with { Overlays = ["/ov/a:ro"], WritableTmpfs = true })).Root.WritableTmpfs);
    }

    [Fact]
    public void WritableWinsOverWritableTmpfsWithAWarning()
    {
        _f.RootWritable = true;
        LaunchPlan plan = _f.Plan(Exec(r => r with { WritableTmpfs = true, Writable = true }));
        Assert.False(plan.Root.WritableTmpfs);
        Assert.Contains(plan.Warnings, w => w.Contains("--writable-tmpfs is ignored", StringComparison.Ordinal));
    }

    [Fact]
    public void WritableIsRefusedOnASif()
    {
        PlanInput input = _f.Input(Exec(r => r with { Writable = true }));
        input = input with { Image = input.Image with { Format = ImageFormat.Sif, RootWritableByCaller = false } };
        var e = Assert.Throws<BurrowException>(() => LaunchPlanner.Plan(input));
        Assert.Contains("cannot be changed in place", e.Message);
        Assert.Contains("--writable-tmpfs", e.Hint);
    }
}

/// <summary>Which roots the caller's shared image server serves (docs/ARCHITECTURE.md, "One server per image").</summary>
public sealed class SharedRootTests
{
    private readonly PlanFixture _f = new();

    private RootFsPlan Root(ImageFacts image, ActionRequest request)
    {
        PlanInput input = _f.Input(request);
        return RootPlanner.Plan(input with { Image = image with { RootPath = input.Image.RootPath } });
    }

    private ImageFacts Sif(bool verified = false) => _f.Input(PlanFixture.Exec("true")).Image with
    {
        Kind = RootFsKind.Squashfs, Format = ImageFormat.Sif, Squashfs = new SquashfsLocation(4096, 1 << 20), Verified = verified,
    };

    [Fact]
    public void ASifIsSharedUnlessVerifiedOrRefused()
    {
        Assert.True(Root(Sif(), PlanFixture.Exec("true")).Shared);
        Assert.False(Root(Sif(verified: true), PlanFixture.Exec("true")).Shared);
        Assert.False(Root(Sif(), PlanFixture.Exec("true") with { NoShare = true }).Shared);
    }

    [Fact]
    public void ADirectoryIsNeverShared()
    {
        Assert.False(_f.Plan(PlanFixture.Exec("true")).Root.Shared);
    }

    [Fact]
    public void ExplainSaysWhetherTheImageIsShared()
    {
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("true"));
        string shared = PlanExplainer.Render(plan with { Root = plan.Root with { Kind = RootFsKind.Squashfs, Shared = true } });
        string alone = PlanExplainer.Render(plan with { Root = plan.Root with { Kind = RootFsKind.Squashfs, Shared = false } });
        Assert.Contains("by the server your containers of this image share", shared);
        Assert.Contains("for this container alone", alone);
    }
}
