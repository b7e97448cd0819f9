using Burrow.Core.Identity;

namespace Burrow.Tests.Identity;

/// <summary>Callers the identity tests resolve for: shaped like the E2E users (uid 1001, a 65536 range at 100000).</summary>
internal static class Users
{
    public static HostUser Alice { get; } = new()
    {
        Name = "alice",
        Uid = 1001,
        Gid = 1001,
        Groups = [new HostGroup(1001, "alice"), new HostGroup(27, "sudo")],
        Home = "/home/alice",
    };

    public const string AliceRange = "alice:100000:65536\n";

    public static SubordinateIds WithRange { get; } = new(AliceRange, AliceRange);

    public static SubordinateIds Files(string subuid, string? subgid = null) => new(subuid, subgid ?? subuid);
}
