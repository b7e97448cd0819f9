namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// With --writable the root is the sandbox itself, so a missing mount point would be made in the user's image for good.
/// As Apptainer does, Burrow makes none there: a default mount whose target the image lacks is left out (with one
/// warning naming them), and a user bind or --home whose destination is missing stops the launch (PlanChecks).
/// Places a tmpfs or a --workdir directory shows are the container's own; mount points may be made in them.
/// </summary>
public static class WritableRoot
{
    public static (IReadOnlyList<MountStep> Mounts, IReadOnlyList<string> Warnings) LeaveOutMissingTargets(PlanInput input, IReadOnlyList<MountStep> mounts)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.Request.Writable)
        {
            return (mounts, []);
        }
        HomeSpec home = HomeSpec.Resolve(input.Request, input.Host.User, input.Identity, input.Host.Cwd);
        var kept = new List<MountStep>();
        var missing = new List<string>();
        foreach (MountStep m in mounts)
        {
            bool asked = MountPlanner.IsUserBind(m) || (home.Custom && m.Target == home.Destination);
            if (asked || !WouldCreateInImage(m.Target, kept, input))
            {
                kept.Add(m);
            }
            else
            {
                missing.Add(m.Target);
            }
        }
        return missing.Count == 0 ? (mounts, [])
            : (kept, [$"--writable: the image has no {string.Join(", ", missing)}, so nothing is mounted there (Burrow makes no mount point in a writable image)"]);
    }

    /// <summary>True when mounting on <paramref name="target"/> would need a mount point made in the image itself.</summary>
    public static bool WouldCreateInImage(string target, IReadOnlyList<MountStep> before, PlanInput input) =>
        ContainerView.Cover(target, before) is null && input.Image.KindOf(target) == PathKind.Missing;
}
