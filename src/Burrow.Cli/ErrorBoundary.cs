using Burrow.Core.Diagnostics;

namespace Burrow.Cli;

/// <summary>
/// The one place where a failure becomes output: every exception that leaves a command — Burrow's own, errno,
/// I/O, JSON, parsing, a failed write to standard output, a cancellation by a signal — is printed as exactly one
/// <c>ERROR:</c> line (<see cref="FailureText"/> chooses the words and the exit code), never as a stack trace.
/// With --debug the exception itself follows as DEBUG lines.
/// </summary>
public static class ErrorBoundary
{
    public static int Run(Func<int> command)
    {
        ArgumentNullException.ThrowIfNull(command);
        try
        {
            return command();
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    public static int Report(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        // A signal is the cause of whatever failed after it (a killed tar2sqfs, a cancelled download).
        FailureReport report = Interruption.Signal is not null && e is not BurrowException { ExitCode: ExitCodes.Usage }
            ? FailureText.Describe(new OperationCanceledException())
            : FailureText.Describe(e);
        try
        {
            Log.Failure(report.Line);
            if (Log.Level <= LogLevel.Debug)
            {
                foreach (string line in e.ToString().Split('\n'))
                {
                    Log.Debug(line.TrimEnd('\r'));
                }
            }
        }
        catch (Exception)
        {
            // stderr itself is gone: the exit code is all that is left to say it.
        }
        return report.ExitCode;
    }
}
