using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// Performs one planned mount: builds it detached (open_tree for binds, fsopen for new file
/// systems), sets its flags on the whole detached tree, and attaches it to a target opened inside
/// the container root by <see cref="RootDirectory.OpenMountTarget"/>.
/// </summary>
internal sealed class MountExecutor(RootDirectory root)
{
    public void Perform(MountStep step)
    {
        try
        {
            using SafeFileHandle mount = Build(step, out CreateKind targetKind);
            using SafeFileHandle target = root.OpenMountTarget(step.Target, targetKind);
            Mounts.Attach(mount, target, step.Target);
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

    /// <summary>Binds a generated file (read-only, nosuid, nodev) over its target.</summary>
    public void BindSynthesized(SynthesizedFile file, SafeFileHandle source)
    {
        using (source)
        {
            try
            {
                using SafeFileHandle mount = Mounts.CloneTree(source, file.Target, recursive: false);
                Mounts.SetAttributes(mount, MountAttributes.ReadOnly | MountAttributes.NoSuid | MountAttributes.NoDev, recursive: false, file.Target);
                using SafeFileHandle target = root.OpenMountTarget(file.Target, CreateKind.File);
                Mounts.Attach(mount, target, file.Target);
            }
            catch (LinuxException e)
            {
                throw new BurrowException($"cannot place the generated file {file.Target}: {e.Message}");
            }
        }
    }

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
