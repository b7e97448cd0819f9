namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Every bind the user asked for: -B/--bind, then BURROW_BIND and BURROW_BINDPATH (Apptainer's APPTAINER_BIND and
/// APPTAINER_BINDPATH, appended to the options as Apptainer does), then --mount.
/// </summary>
public static class UserBinds
{
    public static readonly IReadOnlyList<string> Variables = ["BURROW_BIND", "BURROW_BINDPATH"];

    public static IReadOnlyList<BindSpec> All(ActionRequest request, IReadOnlyList<EnvVar> environment, string hostCwd)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(environment);
        var binds = new List<BindSpec>(BindSpec.ParseAll(request.Binds, hostCwd));
        foreach (string variable in Variables)
        {
            if (environment.LastOrDefault(v => v.Name == variable) is { Value.Length: > 0 } set)
            {
                binds.AddRange(BindSpec.ParseAll([set.Value], hostCwd, variable));
            }
        }
        binds.AddRange(MountSpec.ParseAll(request.Mounts, hostCwd));
        return binds;
    }

    /// <summary>
    /// Apptainer's order for user binds: shallower destinations first (then shorter), otherwise as given, so that
    /// <c>-B a:/data/sub -B b:/data</c> mounts /data before /data/sub instead of hiding it.
    /// </summary>
    public static IReadOnlyList<BindSpec> InMountOrder(IReadOnlyList<BindSpec> binds) =>
        binds.Select((b, i) => (b, i))
            .OrderBy(x => x.b.Destination.TrimEnd('/').Count(c => c == '/'))
            .ThenBy(x => x.b.Destination.TrimEnd('/').Length)
            .ThenBy(x => x.i)
            .Select(x => x.b)
            .ToArray();
}
