namespace Burrow.Core.Diagnostics;

/// <summary>
/// Apptainer-style messages on stderr (<c>INFO:    </c>, <c>WARNING: </c>, <c>ERROR:   </c>), so that
/// scripts and habits written for Apptainer carry over. Warnings are remembered and can be
/// reprinted at exit, because a security fallback must never scroll away unseen.
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
        Write(LogLevel.Warning, "WARNING: ", message);
    }

    /// <summary>Errors are always printed, whatever the level.</summary>
    public static void Failure(string message) => Error.WriteLine("ERROR:   " + message);

    private static void Write(LogLevel level, string prefix, string message)
    {
        if (level >= Level)
        {
            Error.WriteLine(prefix + message);
        }
    }
}

public enum LogLevel { Debug, Verbose, Info, Warning, Error, Silent }
