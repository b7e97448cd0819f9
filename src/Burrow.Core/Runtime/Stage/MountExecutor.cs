using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Planning;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// Performs one planned mount: builds it detached (open_tree for binds, fsopen for new file
/// systems), sets its flags on the whole detached tree, and attaches it to a target opened inside
/// the container root by <see cref="RootDirectory.OpenMountTarget"/>.
/// A missing mount point is created only on a mount that belongs to the container (the root, or a
/// file system the stage made, such as a tmpfs): never in a host directory that a bind shows, because
/// that would leave files on the host (a bind of /tmp on /etc would get empty passwd and group files).
/// </summary>
internal sealed class MountExecutor
{
    private readonly RootDirectory _root;
    private readonly ulong _rootMount;
    private readonly HashSet<ulong> _containerMounts = [];
    private readonly Dictionary<ulong, MountStep> _hostBinds = [];

    public MountExecutor(RootDirectory root)
    {
        _root = root;
        _rootMount = FileStatus.MountId(root.Handle, "the container root");
        _containerMounts.Add(_rootMount);
    }

    public void Perform(MountStep step)
    {
        try
        {
            if (step.Kind == MountKind.Symlink)
            {
                MakeSymlink(step);
                return;
            }
            if (step.Kind == MountKind.Bind && step.MakeSource is int mode && step.Source is { } source)
            {
                MakeSource(source, mode);
            }
            using SafeFileHandle mount = Build(step, out CreateKind targetKind);
            ulong id = FileStatus.MountId(mount, step.Target);
            using SafeFileHandle target = _root.OpenMountTarget(step.Target, targetKind, (dir, at) => RefuseHostDirectory(dir, at, step.Target));
            CheckTargetKind(target, targetKind, step.Target, Describe(step), MountPlanner.IsUserBind(step));
            Mounts.Attach(mount, target, step.Target);
            if (step.Kind == MountKind.Bind && !step.ContainerOwned)
            {
                _hostBinds[id] = step;
            }
            else
            {
                // A file system the stage made, or a --workdir directory that holds the container's own files.
                _containerMounts.Add(id);
            }
        }
        catch (Exception e) when (e is LinuxException or BurrowException)
        {
            string what = Describe(step);
            string reason = e is LinuxException le ? le.Message : e.Message;
            if (step.Optional)
            {
                Log.Warning($"skipping {what}: {reason}");
                return;
            }
            if (e is LinuxException { Errno: Errno.EXDEV })
            {
                throw new BurrowException($"refusing {what}: {reason}",
                    "a symlink on the destination's path climbs out of the container root; bind to a path without it");
            }
            throw e as BurrowException ?? new BurrowException($"cannot perform {what}: {reason}", Hint(step, (LinuxException)e));
        }
    }

    /// <summary>A link in a file system the stage mounted (/dev's tmpfs): never in the image or a host directory.</summary>
    private void MakeSymlink(MountStep step)
    {
        string text = step.Source ?? throw new BurrowException($"the plan's link {step.Target} has no target");
        _root.CreateSymlink(step.Target, text, (dir, at) => RefuseHostDirectory(dir, at, step.Target), allowExisting: true);
    }

    /// <summary>
    /// A --workdir directory the container uses (tmp, var_tmp, home, scratch/…): made with its mode when missing, with any
    /// missing parents below the work directory, which the planner checked exists.
    /// </summary>
    private static void MakeSource(string source, int mode)
    {
        var missing = new Stack<string>();
        for (string? dir = source; dir is { Length: > 1 } && FileStatus.OfPath(dir) is null; dir = Path.GetDirectoryName(dir))
        {
            missing.Push(dir);
        }
        while (missing.TryPop(out string? dir))
        {
            FileSystem.MakeDirectory(dir, mode);
        }
    }

    /// <summary>Binds a generated file (read-only, nosuid, nodev) over its target.</summary>
    public void BindSynthesized(SynthesizedFile file, SafeFileHandle source)
    {
        using (source)
        {
            try
            {
                using SafeFileHandle mount = Mounts.CloneTree(source, file.Target, recursive: false);
                Mounts.SetAttributes(mount, MountAttributes.ReadOnly | MountAttributes.NoSuid | MountAttributes.NoDev, recursive: false, file.Target);
                using SafeFileHandle target = _root.OpenMountTarget(file.Target, CreateKind.File, (dir, at) => RefuseHostDirectory(dir, at, file.Target));
                CheckTargetKind(target, CreateKind.File, file.Target, "the generated file " + file.Target, userBind: false);
                Mounts.Attach(mount, target, file.Target);
            }
            catch (LinuxException e)
            {
                throw new BurrowException($"cannot place the generated file {file.Target}: {e.Message}");
            }
        }
    }

    /// <summary>Called before a missing component is created in <paramref name="directory"/> (container path <paramref name="at"/>).</summary>
    private void RefuseHostDirectory(SafeFileHandle directory, string at, string target)
    {
        ulong id = FileStatus.MountId(directory, at);
        if (_containerMounts.Contains(id))
        {
            return;
        }
        string? host = _hostBinds.TryGetValue(id, out MountStep? bind) && bind.Source is not null
            && ContainerPaths.TryRebase(at, bind.Target, bind.Source, out string? rebased) ? rebased : null;
        string where = host is not null ? $"{at} is the host directory {host} ({bind!.Reason})" : $"{at} is a host directory bound into the container";
        throw new BurrowException($"refusing to create {target}: {where}, and Burrow never creates anything in a host directory you bound",
            $"bind to a destination where nothing needs to be created (a bind over {at} hides what the image has there), "
            + $"or create what {target} needs in {host ?? "that host directory"} yourself");
    }

    /// <summary>move_mount says only EINVAL or ENOTDIR when a directory goes on a file or the other way round.</summary>
    private void CheckTargetKind(SafeFileHandle target, CreateKind wanted, string path, string what, bool userBind)
    {
        FileStatus st = FileStatus.Of(target, path);
        if ((wanted == CreateKind.Directory) == (st.Kind == FileKind.Directory))
        {
            return;
        }
        string has = FileStatus.MountId(target, path) == _rootMount ? "the image has" : "the container has";
        string need = wanted == CreateKind.Directory ? "a directory" : "a file";
        string hint = userBind
            ? $"choose another destination for the bind, or bind {need} there"
            : $"the image needs {need} at {path}: fix or rebuild the image";
        throw new BurrowException($"cannot perform {what}: {has} {Article(st.Kind)} at {path}, where {need} is mounted", hint);
    }

    private static string Article(FileKind kind) => kind switch
    {
        FileKind.Directory => "a directory",
        FileKind.Regular => "a file",
        FileKind.CharDevice or FileKind.BlockDevice => "a device",
        FileKind.Fifo => "a FIFO",
        FileKind.Socket => "a socket",
        FileKind.Symlink => "a symbolic link",
        _ => "something that is not a directory",
    };

    private static SafeFileHandle Build(MountStep step, out CreateKind targetKind)
    {
        targetKind = step.TargetKind == TargetKind.File ? CreateKind.File : CreateKind.Directory;
        MountAttributes attrs = Attributes(step.Flags);
        if (step.Kind == MountKind.Bind)
        {
            string source = step.Source ?? throw new BurrowException($"the plan's bind on {step.Target} has no source");
            FileStatus st = FileStatus.OfPath(source)
                ?? throw new BurrowException($"bind source {source} does not exist", "create it, or correct the --bind option");
            targetKind = st.Kind == FileKind.Directory ? CreateKind.Directory : CreateKind.File;
            SafeFileHandle tree = Mounts.CloneTree(source, step.Flags.HasFlag(MountFlags.Recursive));
            try
            {
                Mounts.SetAttributes(tree, attrs, recursive: true, source);
            }
            catch
            {
                tree.Dispose();
                throw;
            }
            return tree;
        }
        string type = step.Kind switch
        {
            MountKind.Tmpfs => "tmpfs",
            MountKind.Proc => "proc",
            MountKind.Sysfs => "sysfs",
            MountKind.Devpts => "devpts",
            MountKind.Mqueue => "mqueue",
            _ => throw new BurrowException($"unknown mount kind {step.Kind} for {step.Target}"),
        };
        return Mounts.CreateFileSystem(type, Options(step.Data), attrs, step.Target);
    }

    private static MountAttributes Attributes(MountFlags flags) =>
        (flags.HasFlag(MountFlags.ReadOnly) ? MountAttributes.ReadOnly : 0)
        | (flags.HasFlag(MountFlags.NoSuid) ? MountAttributes.NoSuid : 0)
        | (flags.HasFlag(MountFlags.NoDev) ? MountAttributes.NoDev : 0)
        | (flags.HasFlag(MountFlags.NoExec) ? MountAttributes.NoExec : 0);

    /// <summary>"size=64m,mode=1777,noatime" → key/value pairs (value null for a flag).</summary>
    private static IEnumerable<KeyValuePair<string, string?>> Options(string? data)
    {
        foreach (string part in (data ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            yield return eq < 0 ? new(part, null) : new(part[..eq], part[(eq + 1)..]);
        }
    }

    private static string Describe(MountStep step)
    {
        string reason = step.Reason is { Length: > 0 } ? " (" + step.Reason + ")" : "";
        return step.Kind == MountKind.Bind
            ? $"the bind of {step.Source} on {step.Target}{reason}"
            : $"the {step.Kind.ToString().ToLowerInvariant()} mount on {step.Target}{reason}";
    }

    private static string? Hint(MountStep step, LinuxException e) => e.Errno switch
    {
        Errno.ENOTDIR => $"{step.Target} is a file in the container but the source is a directory, or the other way round",
        Errno.EPERM or Errno.EACCES => "the kernel refused this mount inside an unprivileged user namespace",
        _ => null,
    };
}
