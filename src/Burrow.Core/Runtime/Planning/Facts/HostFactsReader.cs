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
        ArgumentNullException.ThrowIfNull(request);
        string cwd = CurrentDirectory();
        config ??= Config.BurrowConfig.Default;
        var environment = new List<EnvVar>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            environment.Add(new EnvVar((string)e.Key, (string?)e.Value ?? ""));
        }
        // GetEnvironmentVariables has no order; sort so that plans (and --explain) are reproducible.
        environment.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var paths = new Dictionary<string, PathKind>(StringComparer.Ordinal);
        foreach (string path in FactQueries.HostPaths(request, user, cwd, identity, environment, config))
        {
            paths[path] = KindOf(path);
        }
        var envFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in request.EnvFiles)
        {
            envFiles[file] = ReadUserFile(file, "--env-file", MaxEnvFileBytes, "give the path of a file of NAME=value lines");
        }
        string? profile = request.SeccompProfile is { } p
            ? ReadUserFile(p, SeccompProfileReader.Option.TrimEnd(':'), SeccompProfileReader.MaxBytes, "give the path of an OCI seccomp profile (JSON)")
            : null;
        IReadOnlyList<int> terminals = ProcessSecurity.Terminals(0, 1, 2);
        return new HostFacts
        {
            User = user, Cwd = cwd, Environment = environment, Paths = paths, EnvFiles = envFiles, Config = config,
            TerminalFds = terminals,
            TerminalDevice = request.IsContained && terminals.Count > 0 ? TerminalDevice(terminals[0]) : null,
            SeccompProfile = profile,
            KernelVersion = Environment.OSVersion.Version,
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

    /// <summary>The device a terminal descriptor is open on (/dev/pts/3), or null when it cannot be told.</summary>
    private static string? TerminalDevice(int fd)
    {
        try
        {
            return new FileInfo("/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture)).LinkTarget is { } target
                && target.StartsWith("/dev/", StringComparison.Ordinal) && KindOf(target) == PathKind.Other ? target : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
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

    public static string CurrentDirectory()
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

    /// <summary>A file the user named on the command line: a regular file, at most <paramref name="max"/> bytes, read as text.</summary>
    private static string ReadUserFile(string file, string option, int max, string hint)
    {
        // Said for what it is: a directory, a FIFO (which would block the read) or /dev/zero is not such a file.
        switch (Files.UserPath.Stat(file, option, allowMissing: true))
        {
            case null:
                throw new BurrowException($"{option} {file}: no such file", hint);
            case { Kind: not FileKind.Regular } st:
                throw new BurrowException($"{option} {file}: it is {st.Kind.Describe()}, not a regular file", hint);
        }
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle fd = RegularFile.Open(file);
            return System.Text.Encoding.UTF8.GetString(FileDescriptors.ReadAll(fd, max, file));
        }
        catch (InvalidDataException)
        {
            throw new BurrowException($"{option} {file}: larger than {max} bytes", hint);
        }
        catch (NotRegularFileException e)
        {
            throw new BurrowException($"{option} {file}: it is {e.Kind.Describe()}, not a regular file", hint);
        }
        catch (LinuxException e)
        {
            throw new BurrowException($"{option} {file}: {(e.Errno == Errno.EACCES ? "permission denied" : e.Reason)}",
                e.Errno == Errno.EACCES ? "make it readable by you" : hint, inner: e);
        }
    }
}
