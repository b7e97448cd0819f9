using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// Assembles the container root on the session's <c>root/</c>: an image becomes the bottom layer of an
/// overlay; above it lie the read-only --overlay directories and the session's mount-point layer (mount
/// points the image lacks are made there, never in the image or in a user's overlay), and on top the layer
/// that takes writes — a writable --overlay's upper/, or the session tmpfs. A writable sandbox is bound as it is.
/// </summary>
internal static class RootBuilder
{
    /// <param name="mountPoints">Every place the plan mounts on, with what it must be (to prepare them in the upper layer).</param>
    /// <param name="handToEngine">Sends the FUSE device of a squashfs image to the engine, which serves it.</param>
    public static RootDirectory Build(RootFsPlan plan, SessionArea session, IReadOnlyList<(string Target, CreateKind Kind)> mountPoints,
        Action<SafeFileHandle> handToEngine)
    {
        string image = plan.Kind switch
        {
            RootFsKind.Directory => plan.HostPath,
            // Shared: mounted already, in the server's mount namespace, which this one is a copy of.
            RootFsKind.Squashfs => plan.SharedMount ?? MountSquashfs(plan, session, handToEngine),
            _ => throw new BurrowException($"this stage cannot use a root file system of kind {plan.Kind}"),
        };
        if (FileStatus.OfPath(image) is not { Kind: FileKind.Directory })
        {
            throw new BurrowException($"the image {plan.HostPath} is not a directory", "give the path of a root file system directory");
        }
        const MountAttributes attrs = MountAttributes.NoSuid | MountAttributes.NoDev;
        SafeFileHandle mount;
        try
        {
            if (!plan.Writable)
            {
                PrepareMountPoints(image, session.MountPointLayer, mountPoints);
            }
            mount = plan.Writable ? WritableBind(image, attrs) : Overlay(image, plan, session, attrs);
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot mount the image {plan.HostPath} as the container root: {e.Message}", OverlayHint(plan));
        }
        using (mount)
        {
            Mounts.Attach(mount, session.RootMountPoint);
        }
        return RootDirectory.Open(session.RootMountPoint);
    }

    /// <summary>
    /// With only the caller's own id mapped, the image's root-owned directories belong to an unmapped
    /// id, and no capability lets the stage create entries in them, through the overlay or otherwise.
    /// So the missing mount points are made in the upper layer before the overlay exists (the upper
    /// layer is our own tmpfs): the merged directory then shows the image's entries plus the new ones.
    /// Existing directories on the way are mirrored with the image's permission bits.
    /// </summary>
    private static void PrepareMountPoints(string image, string upper, IReadOnlyList<(string Target, CreateKind Kind)> mountPoints)
    {
        using RootDirectory lower = RootDirectory.Open(image);
        foreach ((string target, CreateKind kind) in mountPoints)
        {
            string existing;
            IReadOnlyList<string> missing;
            try
            {
                (existing, missing) = lower.ResolveExisting(target);
            }
            catch (LinuxException)
            {
                continue; // reported with its context when the mount itself is attempted
            }
            if (missing.Count == 0)
            {
                continue;
            }
            string path = upper;
            string inImage = "";
            foreach (string name in existing.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                path += "/" + name;
                inImage += "/" + name;
                if (!Directory.Exists(path))
                {
                    uint mode = lower.Stat(inImage)?.Permissions ?? 0x1ed;
                    FileSystem.MakeDirectory(path, (int)(mode & 0x3ff) | 0x1c0);
                }
            }
            for (int i = 0; i < missing.Count; i++)
            {
                path += "/" + missing[i];
                if (i == missing.Count - 1 && kind == CreateKind.File)
                {
                    if (!File.Exists(path))
                    {
                        File.WriteAllBytes(path, []);
                    }
                }
                else if (!Directory.Exists(path))
                {
                    FileSystem.MakeDirectory(path, 0x1ed);
                }
            }
        }
    }

    private static string MountSquashfs(RootFsPlan plan, SessionArea session, Action<SafeFileHandle> handToEngine)
    {
        try
        {
            FuseImageMount.Mount(plan, session.ImageMountPoint, handToEngine);
        }
        catch (LinuxException e) when (e.Operation == "open" && e.Path == FuseDevice.Path)
        {
            throw new BurrowException($"cannot open {FuseDevice.Path} to mount the image {plan.HostPath}: {e.Reason}",
                "distributions ship /dev/fuse mode 0666 (ask the administrator); or run with --unsquash to unpack the image instead");
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"cannot mount the image {plan.HostPath} over FUSE: {e.Message}",
                "FUSE mounts in a user namespace need Linux 4.18 or later; or run with --unsquash to unpack the image instead");
        }
        return session.ImageMountPoint;
    }

    private static SafeFileHandle WritableBind(string image, MountAttributes attrs)
    {
        SafeFileHandle tree = Mounts.CloneTree(image, recursive: false);
        Mounts.SetAttributes(tree, attrs, recursive: false, image);
        return tree;
    }

    private static SafeFileHandle Overlay(string image, RootFsPlan plan, SessionArea session, MountAttributes attrs)
    {
        OverlayLayer? writable = plan.Overlays.FirstOrDefault(o => !o.ReadOnly);
        (string upper, string work) = writable is { Work: { } w } ? (PrepareUpper(writable.Upper), PrepareUpper(w)) : (session.Upper, session.Work);
        string[] lowers = [session.MountPointLayer, .. plan.Overlays.Where(o => o.ReadOnly).Select(o => o.Upper), image];
        KeyValuePair<string, string?>[] rest =
        [
            new("upperdir", upper), new("workdir", work), new("userxattr", null),
        ];
        // "lowerdir+" (Linux 6.8) takes each path as is, topmost first; plain "lowerdir" needs ':' ',' '\' escaped.
        try
        {
            return Mounts.CreateFileSystem("overlay", [.. lowers.Select(l => new KeyValuePair<string, string?>("lowerdir+", l)), .. rest], attrs, image);
        }
        catch (LinuxException e) when (e.Errno == Errno.EINVAL && e.Operation.Contains("lowerdir+", StringComparison.Ordinal))
        {
            string joined = string.Join(':', lowers.Select(l => l.Replace("\\", "\\\\").Replace(":", "\\:").Replace(",", "\\,")));
            return Mounts.CreateFileSystem("overlay", [new("lowerdir", joined), .. rest], attrs, image);
        }
    }

    /// <summary>A writable overlay's upper/ or work/: made on first use inside the user's directory, and never a symlink.</summary>
    private static string PrepareUpper(string path)
    {
        FileSystem.MakeDirectory(path, 0x1ed);
        if (FileStatus.OfPath(path, followSymlinks: false) is not { Kind: FileKind.Directory })
        {
            throw new BurrowException($"the overlay's {path} is not a directory", "remove it; Burrow makes upper/ and work/ itself");
        }
        return path;
    }

    private static string OverlayHint(RootFsPlan plan) => plan.Writable
        ? "check that you can write to the sandbox"
        : plan.Overlays.Any(o => !o.ReadOnly)
            ? "the overlay directory must be yours and on a local file system overlayfs accepts as an upper layer (not NFS)"
            : "the image directory must be on a file system overlayfs accepts as a lower layer";
}
