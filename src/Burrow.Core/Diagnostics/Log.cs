namespace Burrow.Core.Diagnostics;

/// <summary>
/// Apptainer-style messages on stderr (<c>INFO:    </c>, <c>WARNING: </c>, <c>ERROR:   </c>), so that
/// scripts and habits written for Apptainer carry over. Warnings are remembered and can be
/// reprinted at exit, because a security fallback must never scroll away unseen. Messages quote image paths,
/// layer entry names and registry replies, so control characters are escaped here, once for every message
/// (<see cref="TerminalText"/>): an ERROR: or WARNING: is always exactly one line, and longer INFO/VERBOSE/DEBUG
/// texts (a launch plan) continue on indented lines that cannot pass for a message of their own.
/// </summary>
public static class Log
{
    private static readonly List<string> s_warnings = [];

    public static LogLevel Level { get; set; } = LogLevel.Info;

    public static TextWriter Error { get; set; } = Console.Error;

    public static IReadOnlyList<string> Warnings => s_warnings;

    public static void Debug(string message) => Write(LogLevel.Debug, "DEBUG:   ", message);

    public static void Verbose(string message) => Write(LogLevel.Verbose, "VERBOSE: ", message);

    public static void Info(string message) => Write(LogLevel.Info, "INFO:    ", message);

    public static void Warning(string message)
    {
        lock (s_warnings)
        {
            s_warnings.Add(message);
        }
        if (LogLevel.Warning >= Level)
        {
            Error.WriteLine("WARNING: " + TerminalText.Escape(message));
        }
    }

    /// <summary>Errors are always printed, whatever the level, as one line.</summary>
    public static void Failure(string message) => Error.WriteLine("ERROR:   " + TerminalText.Escape(message));

    private static void Write(LogLevel level, string prefix, string message)
    {
        if (level < Level)
        {
            return;
        }
        string[] lines = message.Split('\n');
        var text = new System.Text.StringBuilder(prefix).Append(TerminalText.Escape(lines[0]));
        for (int i = 1; i < lines.Length; i++)
        {
            text.Append('\n').Append(' ', prefix.Length).Append(TerminalText.Escape(lines[i]));
        }
        Error.WriteLine(text.ToString());
    }
}

public enum LogLevel { Debug, Verbose, Info, Warning, Error, Silent }
