using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Where the home comes from and where it goes. By default the caller's home at the identity's home destination (the
/// same path, or /root in the root modes); <c>-H/--home SRC[:DST]</c> binds SRC instead, at DST (default SRC), even with
/// --contain, and the container's HOME and passwd line follow DST (Apptainer's custom home).
/// </summary>
public sealed record HomeSpec(string Source, string Destination, bool Custom)
{
    public const string Option = "--home";

    public static HomeSpec Resolve(ActionRequest request, HostUser user, IdentityDecision identity, string hostCwd)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Home is not { } given)
        {
            return new HomeSpec(user.Home, identity.HomeDestination, Custom: false);
        }
        IReadOnlyList<string> parts = BindSpec.SplitUnescaped(given, ':');
        if (parts.Count > 2 || parts[0].Length == 0)
        {
            throw new BurrowException($"{Option} {given}: expected SRC[:DST]", "for example --home /scratch/me or --home /scratch/me:/home/me");
        }
        string source = Path.GetFullPath(BindSpec.Unescape(parts[0]), hostCwd);
        string destination = parts.Count == 2 && parts[1].Length > 0 ? BindSpec.Unescape(parts[1]) : source;
        if (!destination.StartsWith('/'))
        {
            throw new BurrowException($"{Option} {given}: the destination '{destination}' is not an absolute path", "give the container path from /, e.g. --home " + source + ":/home/me");
        }
        destination = BindSpec.NormalizeIfAbsolute(destination);
        if (destination == "/")
        {
            throw new BurrowException($"{Option} {given}: cannot put the home over the container's /", "give a directory such as /home/me");
        }
        return new HomeSpec(source, destination, Custom: true);
    }

    /// <summary>The identity with its home destination moved to --home's DST, so the passwd line and HOME follow it.</summary>
    public static IdentityDecision Apply(IdentityDecision identity, ActionRequest request, HostUser user, string hostCwd)
    {
        ArgumentNullException.ThrowIfNull(identity);
        HomeSpec home = Resolve(request, user, identity, hostCwd);
        return home.Custom ? identity with { HomeDestination = home.Destination } : identity;
    }
}
