using Burrow.Core.Diagnostics;

namespace Burrow.Core.Images;

/// <summary>
/// A private (0700) temporary directory holding an unpacked image under <c>root/</c>, removed when disposed and,
/// should the process end another way, at process exit.
/// </summary>
public sealed class TemporarySandbox : IDisposable
{
    private static readonly List<TemporarySandbox> s_live = [];

    private TemporarySandbox(string directory) => Directory = directory;

    public string Directory { get; }

    public string Root => Path.Combine(Directory, "root");

    public static TemporarySandbox Create()
    {
        var sandbox = new TemporarySandbox(SifSandbox.NewTemporaryDirectory());
        lock (s_live)
        {
            if (s_live.Count == 0)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => RemoveAll();
            }
            s_live.Add(sandbox);
        }
        return sandbox;
    }

    public void Dispose()
    {
        lock (s_live)
        {
            if (!s_live.Remove(this))
            {
                return;
            }
        }
        Remove();
    }

    private static void RemoveAll()
    {
        TemporarySandbox[] all;
        lock (s_live)
        {
            all = [.. s_live];
            s_live.Clear();
        }
        foreach (TemporarySandbox sandbox in all)
        {
            sandbox.Remove();
        }
    }

    private void Remove()
    {
        try
        {
            if (System.IO.Directory.Exists(Directory))
            {
                MakeWritable(Directory);
                System.IO.Directory.Delete(Directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warning($"could not remove the temporary sandbox {Directory}: {e.Message}");
        }
    }

    /// <summary>Images contain read-only directories (0555 /proc, 0500 …) that would stop the removal.</summary>
    private static void MakeWritable(string dir)
    {
        foreach (string d in System.IO.Directory.EnumerateDirectories(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Prepend(dir))
        {
            UnixFileMode mode = PrivateFiles.GetMode(d);
            if ((mode & PrivateFiles.DirMode) != PrivateFiles.DirMode)
            {
                PrivateFiles.SetMode(d, mode | PrivateFiles.DirMode);
            }
        }
    }
}
