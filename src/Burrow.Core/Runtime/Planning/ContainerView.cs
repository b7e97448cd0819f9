namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// What a container path will be once the planned mounts are in place, answered from the gathered
/// facts: the deepest mount covering the path decides (a later one wins at equal depth), else the image.
/// </summary>
public static class ContainerView
{
    /// <summary>The kind of <paramref name="path"/> in the container; null when only the kernel can tell (proc, sys…).</summary>
    public static PathKind? KindOf(string path, IReadOnlyList<MountStep> mounts, PlanInput input)
    {
        MountStep? cover = Cover(path, mounts);
        if (cover is null)
        {
            return input.Image.KindOf(path);
        }
        return cover.Kind switch
        {
            MountKind.Bind when ContainerPaths.TryRebase(path, cover.Target, cover.Source!, out string? hostPath) => input.Host.KindOf(hostPath),
            MountKind.Tmpfs => path == cover.Target ? PathKind.Directory : PathKind.Missing,
            MountKind.Generated => path == cover.Target ? PathKind.File : PathKind.Missing,
            _ => null,
        };
    }

    /// <summary>The mount that shows <paramref name="path"/>: the deepest covering one, a later one winning at equal depth; null for the image.</summary>
    public static MountStep? Cover(string path, IReadOnlyList<MountStep> mounts)
    {
        MountStep? cover = null;
        foreach (MountStep m in mounts)
        {
            if (m.Kind != MountKind.Symlink && ContainerPaths.IsAtOrUnder(path, m.Target) && (cover is null || m.Target.Length >= cover.Target.Length))
            {
                cover = m;
            }
        }
        return cover;
    }

    /// <summary>
    /// The payload's working directory: --pwd, else the home destination when contained, else the host cwd.
    /// Falls back to home, then /, when the host cwd does not exist in the container (Apptainer does the same).
    /// </summary>
    public static (string Cwd, bool FellBack) WorkingDirectory(PlanInput input, IReadOnlyList<MountStep> mounts)
    {
        if (input.Request.Pwd is { } pwd)
        {
            return (BindSpec.NormalizeIfAbsolute(pwd), false);
        }
        string home = input.Identity.HomeDestination;
        bool homeThere = KindOf(home, mounts, input) is PathKind.Directory;
        if (input.Request.IsContained)
        {
            return (homeThere ? home : "/", !homeThere);
        }
        if (KindOf(input.Host.Cwd, mounts, input) is PathKind.Directory or null)
        {
            return (input.Host.Cwd, false);
        }
        return (homeThere ? home : "/", true);
    }
}
