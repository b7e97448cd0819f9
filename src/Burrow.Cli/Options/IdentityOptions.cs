using System.CommandLine;
using Burrow.Core.Identity;

namespace Burrow.Cli.Options;

/// <summary>The identity options shared by exec, run and shell; parsed here, decided by IdentityResolver.</summary>
public static class IdentityOptions
{
    public static readonly Option<bool> FakeRoot = new("--fakeroot", "-f")
    {
        Description = "Run as root in the container: uid 0 mapped to you, plus your /etc/subuid range if you have one",
    };

    public static readonly Option<string[]> Security = new("--security")
    {
        Description = "uid:N,gid:N[:G2…] run as that uid/gid inside (comma list or repeated)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string?> UserNs = new("--userns")
    {
        Description = "User namespace mode: keep-id[:uid=U,gid=G] or auto[:size=N] (Podman's modes)",
    };

    public static readonly Option<string[]> AddCaps = new("--add-caps")
    {
        Description = "Capabilities to keep inside the user namespace (root modes): comma list, CAP_ prefix optional, or all",
    };

    public static readonly Option<string[]> DropCaps = new("--drop-caps")
    {
        Description = "Capabilities to drop (comma list, CAP_ prefix optional, or all)",
    };

    public static readonly Option<bool> NoPrivs = new("--no-privs")
    {
        Description = "Drop all capabilities, even in the root modes",
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
        Security = SplitLists(result.GetValue(Security)),
        UserNs = result.GetValue(UserNs),
        AddCaps = SplitLists(result.GetValue(AddCaps)),
        DropCaps = SplitLists(result.GetValue(DropCaps)),
        NoPrivs = result.GetValue(NoPrivs),
    };

    /// <summary>Options may be repeated or given as comma lists; both mean the same.</summary>
    private static string[] SplitLists(string[]? values) =>
        values is null ? [] : values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
}
