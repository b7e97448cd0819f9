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
        };
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
        if (KindOf(file) != PathKind.File)
        {
            throw new BurrowException($"--env-file {file}: no such file", "give the path of a file of NAME=value lines");
        }
        try
        {
            var info = new FileInfo(file);
            if (info.Length > MaxEnvFileBytes)
            {
                throw new BurrowException($"--env-file {file}: larger than {MaxEnvFileBytes} bytes", "an env file holds NAME=value lines");
            }
            return File.ReadAllText(file);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new BurrowException($"--env-file {file}: permission denied", "make it readable by you", inner: e);
        }
    }
}
