namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// The messages on the socket between the engine, the starter and the stage (one per SOCK_SEQPACKET
/// packet; the diagram is at the top of native/starter.c). End of file means the stage exec'd the
/// payload (the socket is close-on-exec there) or that every holder died.
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

    public static string FormatStageFailure(int exitCode, string message, string? hint) =>
        StageFailure + exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\t" + message + "\t" + (hint ?? "");
}
