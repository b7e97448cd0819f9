using Burrow.Linux;

namespace Burrow.Core.Runtime;

/// <summary>Finds the host helpers Burrow runs (squashfuse_ll, unsquashfs…) the way a shell would.</summary>
public static class ExecutableSearch
{
    /// <summary>Standard places, searched after $PATH: a cron job or a batch system may run burrow with a minimal PATH.</summary>
    private static readonly string[] s_fallback = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"];

    /// <summary>The first executable regular file called <paramref name="name"/> on $PATH or in the standard places.</summary>
    public static string? OnPath(string name)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (string dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(s_fallback))
        {
            if (!dir.StartsWith('/'))
            {
                continue; // a relative PATH entry would make the helper depend on the working directory
            }
            string candidate = Path.Combine(dir, name);
            try
            {
                if (FileStatus.OfPath(candidate) is { Kind: FileKind.Regular } st && (st.Permissions & 0x49) != 0)
                {
                    return candidate;
                }
            }
            catch (LinuxException)
            {
                // An unreadable PATH directory is skipped, as a shell skips it.
            }
        }
        return null;
    }
}
