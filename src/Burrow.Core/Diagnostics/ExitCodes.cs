namespace Burrow.Core.Diagnostics;

/// <summary>
/// Exit codes shared by the CLI and the tests (as charliecloud's EXIT_* are; tests/Burrow.E2E compiles this very
/// file). A container's own status passes through unchanged; these are Burrow's.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command line is wrong: an unknown option, a missing argument.</summary>
    public const int Usage = 2;

    /// <summary>The container's command exists but cannot be executed (as a shell says).</summary>
    public const int CommandNotExecutable = 126;

    /// <summary>The container's command does not exist (as a shell says).</summary>
    public const int CommandNotFound = 127;

    /// <summary>128 + N: the payload, or Burrow itself, ended because of signal N.</summary>
    public const int SignalBase = 128;

    /// <summary>Burrow stopped because of SIGHUP, cleaning up first (128 + 1).</summary>
    public const int Hangup = SignalBase + 1;

    /// <summary>Burrow stopped because of SIGINT (Ctrl-C), cleaning up first (128 + 2).</summary>
    public const int Interrupted = SignalBase + 2;

    /// <summary>Burrow stopped because of SIGTERM, cleaning up first (128 + 15).</summary>
    public const int Terminated = SignalBase + 15;

    /// <summary>Any other failure, reported as one ERROR: line (Apptainer's 255).</summary>
    public const int Failure = 255;
}
