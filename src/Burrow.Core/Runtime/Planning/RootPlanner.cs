namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The container root: the image, and over it the read-only overlays, and on top the layer that takes writes —
/// a writable --overlay, the session tmpfs with --writable-tmpfs, or none (the root is read-only).
/// </summary>
public static class RootPlanner
{
    public static RootFsPlan Plan(PlanInput input)
    {
        ActionRequest request = input.Request;
        IReadOnlyList<OverlaySpec> overlays = OverlaySpec.ParseAll(request.Overlays, input.Host.Cwd);
        OverlayLayer[] layers = overlays.Reverse().Select(o => o.ReadOnly
            ? new OverlayLayer(o.Directory, input.Host.KindOf(o.Upper) == PathKind.Directory ? o.Upper : o.Directory, null, ReadOnly: true)
            : new OverlayLayer(o.Directory, o.Upper, o.Work, ReadOnly: false)).ToArray();
        // --writable wins over --writable-tmpfs (Apptainer warns and does the same); a writable overlay with it is refused.
        bool tmpfs = request.WritableTmpfs && !request.Writable && layers.All(l => l.ReadOnly);
        return new RootFsPlan(input.Image.RootPath, input.Image.Kind, request.Writable)
        {
            Squashfs = input.Image.Squashfs,
            // A verified image is served by the burrow that verified it, which checks every block it reads against what was signed.
            Shared = input.Image.Kind == RootFsKind.Squashfs && input.Image.Format == Images.ImageFormat.Sif && !input.Image.Verified && !request.NoShare,
            Overlays = layers,
            WritableTmpfs = tmpfs,
            // sessiondir-max-size (MiB, Apptainer's "sessiondir max size"): what --writable-tmpfs may hold.
            TmpfsSize = tmpfs ? input.Host.Config.SessionDirMaxSizeMiB.ToString(System.Globalization.CultureInfo.InvariantCulture) + "m" : null,
        };
    }

    /// <summary>True when writes to the root land somewhere (the sandbox itself, an overlay, the tmpfs).</summary>
    public static bool IsWritable(RootFsPlan root) => root.Writable || root.WritableTmpfs || root.Overlays.Any(o => !o.ReadOnly);
}
