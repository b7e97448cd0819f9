using System.CommandLine;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;

namespace Burrow.Cli.Options;

/// <summary>The identity options shared by exec, run and shell; parsed here, decided by IdentityResolver.</summary>
public static class IdentityOptions
{
    public static readonly Option<bool> FakeRoot = new("--fakeroot", "-f")
    {
        Description = "Be root in the container: uid 0 is you and ids 1… your /etc/subuid range (without one only root is mapped, with a warning); $HOME at /root; capabilities inside the user namespace only",
    };

    public static readonly Option<string[]> Security = new("--security")
    {
        Description = "uid:N,gid:N[:G2…]: run as that uid and gid (and groups) inside, without capabilities; seccomp:FILE: apply an OCI/Docker seccomp profile too (comma list or repeated)",
        AllowMultipleArgumentsPerToken = false,
    };

    private const string SeccompPrefix = "seccomp:";

    public static readonly Option<string?> UserNs = new("--userns")
    {
        Description = "Podman's user namespace modes: keep-id[:uid=U,gid=G,size=N] (you, with your subordinate range mapped around you) or auto[:size=N] (root, with your range)",
    };

    public static readonly Option<string[]> AddCaps = new("--add-caps")
    {
        Description = "Capabilities for the root modes (--fakeroot, --userns=auto, keep-id:uid=0), inside the user namespace only: comma list, CAP_ prefix optional, or all; refused for a payload that is not root",
    };

    public static readonly Option<string[]> DropCaps = new("--drop-caps")
    {
        Description = "Capabilities to drop in the root modes (comma list, CAP_ prefix optional, or all)",
    };

    public static readonly Option<bool> NoPrivs = new("--no-privs")
    {
        Description = "Start the root modes without capabilities (--add-caps adds back)",
    };

    public static void AddTo(Command command)
    {
        command.Options.Add(FakeRoot);
        command.Options.Add(Security);
        command.Options.Add(UserNs);
        command.Options.Add(AddCaps);
        command.Options.Add(DropCaps);
        command.Options.Add(NoPrivs);
    }

    public static IdentityRequest Read(ParseResult result) => new()
    {
        FakeRoot = result.GetValue(FakeRoot),
        Security = SplitLists(result.GetValue(Security)).Where(v => !v.StartsWith(SeccompPrefix, StringComparison.OrdinalIgnoreCase)).ToArray(),
        UserNs = result.GetValue(UserNs),
        AddCaps = SplitLists(result.GetValue(AddCaps)),
        DropCaps = SplitLists(result.GetValue(DropCaps)),
        NoPrivs = result.GetValue(NoPrivs),
    };

    /// <summary>The file of --security seccomp:FILE (the action options' business, not identity's); null when not given.</summary>
    public static string? SeccompProfile(ParseResult result)
    {
        string[] files = SplitLists(result.GetValue(Security))
            .Where(v => v.StartsWith(SeccompPrefix, StringComparison.OrdinalIgnoreCase))
            .Select(v => v[SeccompPrefix.Length..])
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        return files.Length switch
        {
            0 => null,
            1 when files[0].Length > 0 => files[0],
            1 => throw new BurrowException("--security seccomp: names no file", "give the path of an OCI seccomp profile: --security seccomp:/path/profile.json", ExitCodes.Usage),
            _ => throw new BurrowException($"--security: {files.Length} seccomp profiles ({string.Join(", ", files)}); one at most", "merge them into one profile", ExitCodes.Usage),
        };
    }

    /// <summary>Options may be repeated or given as comma lists; both mean the same.</summary>
    private static string[] SplitLists(string[]? values) =>
        values is null ? [] : values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
}
