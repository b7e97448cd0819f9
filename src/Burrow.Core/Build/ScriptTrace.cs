using System.IO.Pipes;
using System.Text;

namespace Burrow.Core.Build;

/// <summary>
/// Which line of a definition file a failed script stopped at. Shells do not say (dash has no $LINENO in traps or
/// PS4), but a section runs with <c>sh -ex</c>, whose trace names each command as it starts (<c>+ apt-get install -y
/// podman</c>); the container's standard error is relayed through this class, unchanged, and the last traced command
/// is matched back to the script's lines, each of which knows its section and file line.
/// </summary>
internal sealed class ScriptTrace : IDisposable
{
    private readonly AnonymousPipeServerStream _pipe = new(PipeDirection.In, System.IO.HandleInheritability.None);
    private readonly Thread _relay;
    private readonly Lock _lock = new();
    private string? _last;

    public ScriptTrace()
    {
        _relay = new Thread(Relay) { IsBackground = true, Name = "burrow-build-trace" };
        _relay.Start();
    }

    /// <summary>The descriptor to give the container as its standard error.</summary>
    public int WriteDescriptor => (int)_pipe.ClientSafePipeHandle.DangerousGetHandle();

    /// <summary>The last command the shell traced, without "+ ".</summary>
    public string? LastCommand
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    /// <summary>Closes this process's copy of the write end and waits for the relay to drain what the container wrote.</summary>
    public void Finish()
    {
        _pipe.DisposeLocalCopyOfClientHandle();
        _relay.Join(TimeSpan.FromSeconds(5));
    }

    public void Dispose()
    {
        _pipe.DisposeLocalCopyOfClientHandle();
        _pipe.Dispose();
    }

    private void Relay()
    {
        using Stream stderr = Console.OpenStandardError();
        byte[] buffer = new byte[16384];
        var line = new StringBuilder();
        // --quiet: the script's own messages still pass (a failing %post must say why), its trace lines do not.
        bool quiet = Diagnostics.Log.Level >= Diagnostics.LogLevel.Error;
        try
        {
            int n;
            while ((n = _pipe.Read(buffer)) > 0)
            {
                if (!quiet)
                {
                    stderr.Write(buffer, 0, n);
                    stderr.Flush();
                }
                foreach (char c in Encoding.UTF8.GetString(buffer, 0, n))
                {
                    if (c != '\n')
                    {
                        if (line.Length < 4096)
                        {
                            line.Append(c);
                        }
                        continue;
                    }
                    Note(line.ToString(), quiet ? stderr : null);
                    line.Clear();
                }
            }
            Note(line.ToString(), quiet && line.Length > 0 ? stderr : null);
        }
        catch (IOException)
        {
            // the pipe or stderr went away: nothing more to relay
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Note(string line, Stream? relay)
    {
        if (relay is not null && !line.StartsWith("+ ", StringComparison.Ordinal))
        {
            relay.Write(Encoding.UTF8.GetBytes(line + "\n"));
            relay.Flush();
        }
        if (line.StartsWith("+ ", StringComparison.Ordinal))
        {
            lock (_lock)
            {
                _last = line[2..].Trim();
            }
        }
    }

    /// <summary>
    /// The script line a traced command most likely came from: among the lines whose first word is the command's,
    /// the one sharing the most words with it (a variable the trace shows expanded still leaves the rest); -1 if none.
    /// </summary>
    public static int Match(IReadOnlyList<string> scriptLines, string? traced)
    {
        if (string.IsNullOrWhiteSpace(traced))
        {
            return -1;
        }
        string[] words = traced.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int best = -1, bestScore = 0;
        for (int i = 0; i < scriptLines.Count; i++)
        {
            string[] lineWords = scriptLines[i].Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (lineWords.Length == 0 || Unquote(lineWords[0]) != Unquote(words[0]))
            {
                continue;
            }
            int score = 1 + words.Skip(1).Count(w => lineWords.Skip(1).Any(l => Unquote(l) == Unquote(w)));
            if (score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }
        return best;
    }

    private static string Unquote(string word) => word.Trim('\'', '"', ';');
}
