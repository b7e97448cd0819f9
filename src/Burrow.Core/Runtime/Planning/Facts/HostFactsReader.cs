using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Planning.Facts;

/// <summary>Gathers <see cref="HostFacts"/>: the host side of the I/O the planner must not do.</summary>
public static class HostFactsReader
{
    /// <summary>Env files larger than this are surely not env files.</summary>
    public const int MaxEnvFileBytes = 1 << 20;

    public static HostFacts Read(ActionRequest request, HostUser user, IdentityDecision identity, Config.BurrowConfig? config = null)
    {
        config ??= Config.BurrowConfig.Default;
        string cwd = CurrentDirectory();
        var paths = new Dictionary<string, PathKind>(StringComparer.Ordinal);
        foreach (string path in FactQueries.HostPaths(request, user, cwd, identity, config))
        {
            paths[path] = KindOf(path);
        }
        var envFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in request.EnvFiles)
        {
            envFiles[file] = ReadEnvFile(file);
        }
        var environment = new List<EnvVar>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            environment.Add(new EnvVar((string)e.Key, (string?)e.Value ?? ""));
        }
        // GetEnvironmentVariables has no order; sort so that plans (and --explain) are reproducible.
        environment.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new HostFacts
        {
            User = user, Cwd = cwd, Environment = environment, Paths = paths, EnvFiles = envFiles, Config = config,
            TerminalFds = ProcessSecurity.Terminals(0, 1, 2),
            UnprivilegedPortStart = request.Publish.Count > 0 ? UnprivilegedPortStart() : 1024,
        };
    }

    /// <summary>net.ipv4.ip_unprivileged_port_start (1024 when it cannot be read, the kernel's default).</summary>
    private static int UnprivilegedPortStart()
    {
        try
        {
            return int.TryParse(File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim(), out int port) ? port : 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 1024;
        }
    }

    /// <summary>The kind of a host path, following symlinks as a bind mount's source does.</summary>
    public static PathKind KindOf(string path)
    {
        try
        {
            return FileStatus.OfPath(path)?.Kind switch
            {
                null => PathKind.Missing,
                FileKind.Regular => PathKind.File,
                FileKind.Directory => PathKind.Directory,
                _ => PathKind.Other,
            };
        }
        catch (LinuxException e)
        {
            // EACCES on a parent, ELOOP…: the path cannot be used as a bind source either.
            Log.Debug($"host path {path}: {e.Message}");
            return PathKind.Missing;
        }
    }

    private static string CurrentDirectory()
    {
        try
        {
            return Directory.GetCurrentDirectory();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BurrowException("cannot tell the current working directory: " + e.Message, "cd to a directory that exists, or give --pwd", inner: e);
        }
    }

    private static string ReadEnvFile(string file)
    {
        // Said for what it is: a directory, a FIFO (which would block the read) or /dev/zero is not an env file.
        switch (Files.UserPath.Stat(file, "--env-file", allowMissing: true))
        {
            case null:
                throw new BurrowException($"--env-file {file}: no such file", "give the path of a file of NAME=value lines");
            case { Kind: not FileKind.Regular } st:
                throw new BurrowException($"--env-file {file}: it is {st.Kind.Describe()}, not a regular file", "give the path of a file of NAME=value lines");
        }
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle fd = RegularFile.Open(file);
            return System.Text.Encoding.UTF8.GetString(FileDescriptors.ReadAll(fd, MaxEnvFileBytes, file));
        }
        catch (InvalidDataException)
        {
            throw new BurrowException($"--env-file {file}: larger than {MaxEnvFileBytes} bytes", "an env file holds NAME=value lines");
        }
        catch (NotRegularFileException e)
        {
            throw new BurrowException($"--env-file {file}: it is {e.Kind.Describe()}, not a regular file", "give the path of a file of NAME=value lines");
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"--env-file {file}: {(e.Errno == Errno.EACCES ? "permission denied" : e.Reason)}",
                e.Errno == Errno.EACCES ? "make it readable by you" : "give the path of a file of NAME=value lines", inner: e);
        }
    }
}
