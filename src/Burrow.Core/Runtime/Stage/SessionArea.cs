using System.Text;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// The session tmpfs on the engine's session directory, private to this mount namespace:
/// <c>root/</c> where the container root is assembled, <c>image/</c> where a squashfs image is mounted, and a second tmpfs <c>data/</c> holding
/// <c>upper/</c> and <c>work/</c> for the overlay's writable layer, <c>mp/</c> for the mount points the image lacks, and <c>files/</c> for
/// generated files. The session tmpfs is unbindable, so a recursive bind of a parent directory (the
/// home) does not carry it, or anything under it, into the container; <c>data/</c> is a separate
/// mount because an unbindable mount can be neither the source of a bind nor an overlay layer.
/// </summary>
internal sealed class SessionArea
{
    private SessionArea(string path) => Path = path;

    public string Path { get; }

    public string Upper => Path + "/data/upper";

    public string Work => Path + "/data/work";

    /// <summary>A lower layer above the image that holds the mount points the image lacks.</summary>
    public string MountPointLayer => Path + "/data/mp";

    public string RootMountPoint => Path + "/root";

    /// <summary>Where a squashfs image's FUSE file system is mounted, to be the overlay's lower layer.</summary>
    public string ImageMountPoint => Path + "/image";

    /// <param name="dataSize">A size limit for the data tmpfs (--writable-tmpfs writes land there), or null.</param>
    public static SessionArea Mount(string path, string? dataSize)
    {
        const MountAttributes attrs = MountAttributes.NoSuid | MountAttributes.NoDev;
        using (SafeFileHandle tmpfs = Mounts.CreateFileSystem("tmpfs", [new("mode", "0700")], attrs, "the session directory"))
        {
            Mounts.Attach(tmpfs, path);
        }
        Mounts.MakeUnbindable(path);
        Directory.CreateDirectory(path + "/root");
        Directory.CreateDirectory(path + "/image");
        Directory.CreateDirectory(path + "/data");
        KeyValuePair<string, string?>[] dataOptions = dataSize is null ? [new("mode", "0700")] : [new("mode", "0700"), new("size", dataSize)];
        using (SafeFileHandle data = Mounts.CreateFileSystem("tmpfs", dataOptions, attrs, "the session data"))
        {
            Mounts.Attach(data, path + "/data");
        }
        foreach (string dir in new[] { "upper", "work", "mp", "files" })
        {
            Directory.CreateDirectory(path + "/data/" + dir);
        }
        return new SessionArea(path);
    }

    /// <summary>Writes a generated file and returns an O_PATH descriptor for it, to bind from.</summary>
    public SafeFileHandle WriteFile(int index, SynthesizedFile file)
    {
        string path = Path + "/data/files/" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            f.Write(Encoding.UTF8.GetBytes(file.Content));
        }
        FileSystem.SetMode(path, file.Mode & 0x1ff);
        return FileDescriptors.OpenPath(path);
    }
}
