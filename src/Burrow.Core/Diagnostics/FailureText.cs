using System.Runtime.InteropServices;
using System.Text.Json;
using Burrow.Linux;

namespace Burrow.Core.Diagnostics;

/// <summary>What a user is told about one failure: the sentence, the fix (if there is one) and the exit code.</summary>
public sealed record FailureReport(string Message, string? Hint, int ExitCode)
{
    /// <summary>The one ERROR: line: "what failed, on what: why; what to do".</summary>
    public string Line => Hint is { Length: > 0 } h ? Message + "; " + h : Message;
}

/// <summary>
/// Turns any exception into words a user can act on: Burrow's own failures as they are, errno failures with the
/// system call, the object and a fix for the usual causes, and .NET's exception types by what they mean. This is
/// the one mapping the CLI's error boundary uses; code closer to a failure adds context by wrapping it in a
/// <see cref="BurrowException"/> whose message uses <see cref="Reason"/>.
/// </summary>
public static class FailureText
{
    /// <summary>The report for an exception that reached the top of a command.</summary>
    public static FailureReport Describe(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e is AggregateException { InnerExceptions.Count: 1 } single)
        {
            return Describe(single.InnerExceptions[0]);
        }
        return e switch
        {
            BurrowException b => new FailureReport(b.Message, b.Hint, b.ExitCode),
            OperationCanceledException when Interruption.Signal is { } signal => new FailureReport(
                $"interrupted by {Interruption.Name(signal)}; temporary files were removed", null, ExitCodes.SignalBase + signal),
            OperationCanceledException => new FailureReport("the operation was cancelled", null, ExitCodes.Failure),
            NotRegularFileException n => new FailureReport(n.Message, KindHint(n.Kind), ExitCodes.Failure),
            LinuxException l => new FailureReport(l.Message, ErrnoHint(l.Errno, l.Path), ExitCodes.Failure),
            FileNotFoundException f => new FailureReport($"{f.FileName ?? "a file"}: no such file", "check the path", ExitCodes.Failure),
            DirectoryNotFoundException d => new FailureReport(Strip(d.Message), "check the path", ExitCodes.Failure),
            PathTooLongException p => new FailureReport(Strip(p.Message), "use a shorter path", ExitCodes.Failure),
            EndOfStreamException => new FailureReport("a file ended before the data it should hold (truncated?)", "check that the file was copied whole", ExitCodes.Failure),
            IOException io => new FailureReport(Strip(io.Message), ErrnoHint(io.HResult, null), ExitCodes.Failure),
            UnauthorizedAccessException u => new FailureReport(Strip(u.Message), "check the permissions: Burrow runs as you", ExitCodes.Failure),
            JsonException j => new FailureReport("invalid JSON: " + Strip(j.Message), "check the file or the registry's response", ExitCodes.Failure),
            UriFormatException uf => new FailureReport("not a valid address: " + Strip(uf.Message), "write a registry as host[:port], the port 1 to 65535", ExitCodes.Failure),
            FormatException fe => new FailureReport("a value is not in the expected format: " + Strip(fe.Message), null, ExitCodes.Failure),
            InvalidDataException id => new FailureReport(Strip(id.Message), null, ExitCodes.Failure),
            ArgumentException a when IsFileTooLarge(a) => new FailureReport("a file Burrow was writing grew larger than the file size limit", ErrnoHint(Errno.EFBIG, null), ExitCodes.Failure),
            ArgumentException a => new FailureReport("invalid argument: " + Strip(a.Message), "see burrow --help", ExitCodes.Failure),
            _ => new FailureReport($"internal error ({e.GetType().Name}): {Strip(e.Message)}", "rerun with --debug and report it", ExitCodes.Failure),
        };
    }

    /// <summary>A short reason for wrapping messages ("cannot read X: {reason}"): plain words, no path repeated.</summary>
    public static string Reason(Exception e) => e switch
    {
        LinuxException l => l.Reason,
        NotRegularFileException n => "it is " + n.Kind.Describe(),
        FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
        UnauthorizedAccessException => "permission denied",
        PathTooLongException => "the path is too long",
        EndOfStreamException => "the file ends too early",
        ArgumentException when IsFileTooLarge(e) => "File too large (over the limit of ulimit -f)",
        IOException io when io.HResult is > 0 and < 200 => Marshal.GetPInvokeErrorMessage(io.HResult),
        _ => Strip(e.Message),
    };

    /// <summary>.NET reports EFBIG from a FileStream write or SetLength as an ArgumentException, not an IOException.</summary>
    public static bool IsFileTooLarge(Exception e) =>
        e is ArgumentException && e.Message.Contains("too large for the file system", StringComparison.Ordinal);

    /// <summary>The usual fix for an errno, when there is one to say.</summary>
    public static string? ErrnoHint(int errno, string? path) => errno switch
    {
        Errno.EACCES or Errno.EPERM => path is null ? "check the permissions: Burrow runs as you" : $"check the permissions of {path} and of its parent directories",
        Errno.ENOENT => "check the path",
        Errno.ENOSPC => "free some space (or set TMPDIR or BURROW_CACHEDIR to a file system with room)",
        Errno.EDQUOT => "you are over your disk quota: free some space or set BURROW_CACHEDIR elsewhere",
        Errno.EFBIG => "the file is larger than the file size limit (ulimit -f) allows",
        Errno.EMFILE or Errno.ENFILE => "too many open files: raise the limit (ulimit -n 1024)",
        Errno.ELOOP => "a symbolic link loops, or is where Burrow does not follow one",
        Errno.ENAMETOOLONG => "use a shorter path",
        Errno.EROFS => "the file system is read-only",
        Errno.ENOTDIR => "a part of the path is not a directory",
        Errno.EISDIR => "it is a directory",
        Errno.EMSGSIZE => "a value is too long",
        Errno.EPIPE => "the reader went away",
        _ => null,
    };

    private static string? KindHint(FileKind kind) => kind switch
    {
        FileKind.Directory => "give a file, not a directory",
        _ => "give a regular file",
    };

    /// <summary>.NET messages end with a full stop and sometimes carry inner detail on a second line; one line is wanted.</summary>
    private static string Strip(string message)
    {
        string m = message.Replace("\r", "", StringComparison.Ordinal).Split('\n')[0].Trim();
        return m.EndsWith('.') ? m[..^1] : m;
    }
}
