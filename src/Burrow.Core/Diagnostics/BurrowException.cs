namespace Burrow.Core.Diagnostics;

/// <summary>
/// A failure the user can act on. The message names the operation and the object; <see cref="Hint"/>
/// says how to fix it where there is a fix. The CLI prints these as <c>ERROR:</c> lines, never as stack traces.
/// </summary>
public class BurrowException : Exception
{
    public BurrowException(string message, string? hint = null, int exitCode = ExitCodes.Failure, Exception? inner = null)
        : base(message, inner)
    {
        Hint = hint;
        ExitCode = exitCode;
    }

    public string? Hint { get; }

    public int ExitCode { get; }
}
