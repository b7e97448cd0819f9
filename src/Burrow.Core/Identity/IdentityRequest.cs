namespace Burrow.Core.Identity;

/// <summary>What the user asked for on the command line about identity and privilege, unvalidated.</summary>
public sealed record IdentityRequest
{
    public static IdentityRequest Default { get; } = new();

    /// <summary>--fakeroot / -f</summary>
    public bool FakeRoot { get; init; }

    /// <summary>Each --security value as given, e.g. "uid:3210", "gid:3210:44".</summary>
    public IReadOnlyList<string> Security { get; init; } = [];

    /// <summary>--userns value as given: "keep-id", "keep-id:uid=U,gid=G", "auto", "auto:size=N"; null when absent.</summary>
    public string? UserNs { get; init; }

    /// <summary>--add-caps, --drop-caps as given (comma lists, CAP_ prefix optional, "all").</summary>
    public IReadOnlyList<string> AddCaps { get; init; } = [];
    public IReadOnlyList<string> DropCaps { get; init; } = [];

    /// <summary>--no-privs: drop every capability even in the root modes.</summary>
    public bool NoPrivs { get; init; }
}
