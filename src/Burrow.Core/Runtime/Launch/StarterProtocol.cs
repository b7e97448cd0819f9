namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// The messages on the socket between the engine, the starter and the stage (one per SOCK_SEQPACKET
/// packet; the diagram is at the top of native/starter.c). The monitor keeps the socket until it
/// has sent the payload's status; end of file before that means the starter died.
/// </summary>
internal static class StarterProtocol
{
    /// <summary>starter → engine: the user namespace exists; write the maps.</summary>
    public const string UserNamespaceReady = "U";

    /// <summary>engine → starter: maps written, carry on.</summary>
    public const string Go = "G";

    /// <summary>engine → starter: give up quietly (the engine reports why).</summary>
    public const string Abort = "X";

    /// <summary>starter → engine: "E&lt;errno&gt;\t&lt;operation&gt;".</summary>
    public const char StarterError = 'E';

    /// <summary>stage → engine: "F&lt;exit code&gt;\t&lt;message&gt;\t&lt;hint&gt;".</summary>
    public const char StageFailure = 'F';

    /// <summary>
    /// stage → engine: "M" with the /dev/fuse descriptor attached (SCM_RIGHTS), once the stage has mounted the
    /// image's FUSE file system; the engine serves it from then on. The descriptor must be opened inside the
    /// container's user namespace (the kernel refuses a FUSE mount on one opened outside), hence this direction.
    /// </summary>
    public const string ImageDevice = "M";

    /// <summary>monitor → engine: "S&lt;status&gt;", the payload's exit status (128+N for signal N).</summary>
    public const char PayloadStatus = 'S';

    public static string FormatStageFailure(int exitCode, string message, string? hint) =>
        StageFailure + exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\t" + message + "\t" + (hint ?? "");
}
