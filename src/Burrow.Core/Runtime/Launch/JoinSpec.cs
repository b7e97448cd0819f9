using System.Globalization;
using System.Text;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// What the starter needs to exec a payload in a running instance's namespaces, in the form its C reader takes
/// (native/starter.c, <c>read_spec</c>): NUL-terminated text fields in a fixed order, each seccomp program as its
/// byte count followed by the raw <c>sock_filter</c> array. The starter does for a joined payload what the stage's
/// PayloadLauncher does for a new one, because after joining the mount namespace it cannot run the stage (see
/// docs/ARCHITECTURE.md, "Joining an instance").
/// </summary>
public static class JoinSpec
{
    public const string Version = "burrow-join-1";

    /// <summary>The umask field's value for "leave it as it is" (one above the largest umask, octal 1000).</summary>
    public const int KeepUmask = 0x200;

    /// <param name="fallbackCwd">Where the payload starts when <see cref="ProcessPlan.Cwd"/> does not exist in the container; null: nowhere else (an error).</param>
    public static byte[] Encode(ProcessPlan process, IdentityPlan identity, byte[]? filter, byte[]? profile, string? fallbackCwd)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(identity);
        if (process.Argv.Count == 0)
        {
            throw new ArgumentException("the payload has no command", nameof(process));
        }
        var bytes = new List<byte>(4096);
        void Field(string text)
        {
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                throw new Diagnostics.BurrowException($"a NUL character in {Shorten(text)} cannot reach the payload", "remove it from the command or the environment");
            }
            bytes.AddRange(Encoding.UTF8.GetBytes(text));
            bytes.Add(0);
        }
        void Number(ulong value) => Field(value.ToString(CultureInfo.InvariantCulture));
        void Hex(ulong value) => Field(value.ToString("x", CultureInfo.InvariantCulture));
        void Strings(IReadOnlyCollection<string> list)
        {
            Number((ulong)list.Count);
            foreach (string s in list)
            {
                Field(s);
            }
        }
        void Program(byte[]? program)
        {
            Number((ulong)(program?.Length ?? 0));
            bytes.AddRange(program ?? []);
        }

        CapabilitySets caps = process.Capabilities ?? CapabilitySets.None;
        Field(Version);
        Number(process.Uid);
        Number(process.Gid);
        Number(identity.AllowSetgroups ? 1u : 0u);
        Strings((process.SupplementaryGroups ?? []).Select(g => g.ToString(CultureInfo.InvariantCulture)).ToArray());
        Hex(caps.Bounding);
        Hex(caps.Effective);
        Hex(caps.Permitted);
        Hex(caps.Inheritable);
        Hex(caps.Ambient);
        Number(process.NoNewPrivileges ? 1u : 0u);
        Number(process.Session?.New == true ? 1u : 0u);
        Field(Convert.ToString(process.Umask is int u ? u & 0x1ff : KeepUmask, 8));
        Field(process.Cwd);
        Field(fallbackCwd ?? "");
        Strings(process.Argv.ToArray());
        Strings(process.Env.Select(e => e.Name + "=" + e.Value).ToArray());
        Program(filter);
        Program(profile);
        return bytes.ToArray();
    }

    private static string Shorten(string text) => text.Length <= 40 ? text.Replace("\0", "\\0", StringComparison.Ordinal) : text[..40].Replace("\0", "\\0", StringComparison.Ordinal) + "…";
}
