namespace Burrow.Core.Runtime.Serving;

/// <summary>Chooses the server for a plan's root: none for a directory; for a squashfs, the fallback for now.</summary>
public static class ImageServers
{
    public static IImageServer? For(RootFsPlan root) => root.Kind switch
    {
        RootFsKind.Squashfs => new SquashfuseServer(root.HostPath, root.Squashfs?.Offset ?? 0),
        _ => null,
    };
}
