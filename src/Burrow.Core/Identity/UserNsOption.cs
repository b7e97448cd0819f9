using System.Globalization;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Identity;

public enum UserNsMode { KeepId, Auto }

/// <summary>A parsed --userns value. Uid/Gid: keep-id's uid=/gid=; Size: the namespace size (size=).</summary>
public sealed record UserNsRequest(UserNsMode Mode, uint? Uid, uint? Gid, uint? Size);

/// <summary>Parses Podman's --userns values that Burrow supports: <c>keep-id[:uid=U,gid=G,size=N]</c> and <c>auto[:size=N]</c>.</summary>
public static class UserNsOption
{
    private const string Supported = "Burrow supports --userns=keep-id[:uid=U,gid=G,size=N] and --userns=auto[:size=N]";

    public static UserNsRequest? Parse(string? value)
    {
        if (value is null)
        {
            return null;
        }
        string text = value.Trim();
        int colon = text.IndexOf(':');
        string name = colon < 0 ? text : text[..colon];
        string options = colon < 0 ? "" : text[(colon + 1)..];
        UserNsMode mode = name switch
        {
            "keep-id" => UserNsMode.KeepId,
            "auto" => UserNsMode.Auto,
            "" => throw Bad(value, "the mode is missing"),
            "host" or "nomap" or "private" or "container" or "ns" => throw Bad(value, $"Podman's mode '{name}' is not supported"),
            _ => throw Bad(value, $"unknown mode '{name}'"),
        };
        if (colon >= 0 && options.Trim().Length == 0)
        {
            throw Bad(value, "nothing after the ':'");
        }

        uint? uid = null, gid = null, size = null;
        foreach (string option in options.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = option.IndexOf('=');
            string key = eq < 0 ? option : option[..eq];
            string v = eq < 0 ? "" : option[(eq + 1)..];
            switch (key)
            {
                case "uid" when mode == UserNsMode.KeepId:
                    uid = Number(value, key, v, allowZero: true);
                    break;
                case "gid" when mode == UserNsMode.KeepId:
                    gid = Number(value, key, v, allowZero: true);
                    break;
                case "size":
                    size = Number(value, key, v, allowZero: false);
                    break;
                default:
                    throw Bad(value, $"unknown option '{key}' for {name}");
            }
        }
        return new UserNsRequest(mode, uid, gid, size);
    }

    private static uint Number(string whole, string key, string text, bool allowZero)
    {
        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) || n == uint.MaxValue || (!allowZero && n == 0))
        {
            throw Bad(whole, $"{key}={text} is not a valid number ({(allowZero ? 0 : 1)} to 4294967294)");
        }
        return n;
    }

    private static BurrowException Bad(string value, string problem) =>
        new($"--userns={value}: {problem}", Supported, ExitCodes.Usage);
}
