using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
using Burrow.Core.Runtime.Launch;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Instances;

/// <summary>
/// The caller's instances: one state file (NAME.json) and two logs (NAME.out, NAME.err) per instance in a 0700
/// directory of their own ($XDG_RUNTIME_DIR/burrow/instances, else the cache directory's), so no other user can
/// see, join or stop them. State files are written to a temporary name and renamed, never seen half-written.
/// </summary>
public sealed partial class InstanceStore
{
    private const string Hint = "set XDG_RUNTIME_DIR or BURROW_CACHEDIR to a directory of your own";

    private InstanceStore(string directory) => Directory = directory;

    public string Directory { get; }

    public static InstanceStore Open()
    {
        string path = Path.Combine(SessionDirectory.BaseDirectory(), "instances");
        TrustedDirectory.Ensure(path, "the instance directory", Hint).Dispose();
        return new InstanceStore(path);
    }

    /// <summary>Apptainer's rule, near enough: letters, digits, '.', '_' and '-', starting with a letter or digit.</summary>
    public static string CheckName(string name)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw new BurrowException($"instance name '{TerminalText.Escape(name)}' is not valid: use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit",
                "for example: burrow instance start IMAGE web1", ExitCodes.Usage);
        }
        return name;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    public string StatePath(string name) => Path.Combine(Directory, name + ".json");

    public string StdoutPath(string name) => Path.Combine(Directory, name + ".out");

    public string StderrPath(string name) => Path.Combine(Directory, name + ".err");

    private const int MaxStateBytes = 16 << 20;

    public InstanceRecord? Read(string name)
    {
        try
        {
            // Never through a symlink, never a FIFO that would block: only the regular file itself.
            using SafeFileHandle path = FileDescriptors.OpenPath(StatePath(name));
            using SafeFileHandle file = FileDescriptors.OpenReadable(path, StatePath(name));
            return JsonSerializer.Deserialize(FileDescriptors.ReadAll(file, MaxStateBytes, StatePath(name)), InstanceJsonContext.Default.InstanceRecord);
        }
        catch (LinuxException e) when (e.Errno == Errno.ENOENT)
        {
            return null;
        }
        catch (Exception e) when (e is NotRegularFileException or LinuxException or InvalidDataException)
        {
            Log.Warning($"instance {name}: its state file {StatePath(name)} is not a regular file of at most {MaxStateBytes >> 20} MiB ({e.Message}); removing it");
            Remove(name);
            return null;
        }
        catch (JsonException e)
        {
            // Written by rename, so only another program can have damaged it: say so and treat it as gone.
            Log.Warning($"instance {name}: its state file {StatePath(name)} is damaged ({e.Message}); removing it");
            Remove(name);
            return null;
        }
    }

    public IReadOnlyList<InstanceRecord> All() =>
        System.IO.Directory.EnumerateFiles(Directory, "*.json")
            .Select(p => Path.GetFileNameWithoutExtension(p))
            .Where(n => NamePattern().IsMatch(n))
            .Order(StringComparer.Ordinal)
            .Select(Read)
            .OfType<InstanceRecord>()
            .ToArray();

    public void Write(InstanceRecord record)
    {
        string temp = StatePath(record.Name) + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using (FileStream f = Images.PrivateFiles.CreateFile(temp, overwrite: true))
        {
            JsonSerializer.Serialize(f, record, InstanceJsonContext.Default.InstanceRecord);
            f.Flush(flushToDisk: false);
        }
        File.Move(temp, StatePath(record.Name), overwrite: true);
    }

    /// <summary>Removes the instance's state and logs.</summary>
    public void Remove(string name)
    {
        foreach (string path in new[] { StatePath(name), StdoutPath(name), StderrPath(name) })
        {
            File.Delete(path);
        }
    }

    /// <summary>Whether the record's engine still runs (the same process, not a reused pid).</summary>
    public static InstanceState StateOf(InstanceRecord record) =>
        EngineStartTime(record.EnginePid) == record.EngineStartTime ? InstanceState.Running
        : record.ExitStatus is null ? InstanceState.Killed
        : InstanceState.Exited;

    /// <summary>Field 22 (starttime) of /proc/PID/stat, or 0 when there is no such process.</summary>
    public static ulong EngineStartTime(int pid) => Runtime.Launch.JoinTarget.StartTimeOf(pid);
}
