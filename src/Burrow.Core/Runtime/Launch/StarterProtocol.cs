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

    /// <summary>starter → engine: the network namespace exists; attach the network helper, then answer "G" (or "X").</summary>
    public const string NetworkNamespaceReady = "N";

    /// <summary>starter → engine (joining an instance): its namespaces are joined; write the payload's spec, then answer "G" (or "X").</summary>
    public const string Joined = "J";

    /// <summary>monitor → engine: "S&lt;status&gt;", the payload's exit status (128+N for signal N).</summary>
    public const char PayloadStatus = 'S';

    /// <summary>
    /// stage → engine: "P", the set-up is done and the payload is exec'd now. A status without it (and
    /// without "F") means the stage died before it could say why (its runtime could not even start).
    /// </summary>
    public const string PayloadStarting = "P";

    /// <summary>probe → engine (burrow check): "R&lt;feature&gt;\t&lt;1 or 0&gt;\t&lt;detail&gt;", one per feature tried.</summary>
    public const char ProbeResult = 'R';

    /// <summary>The engine receives into a buffer of this size; a longer packet would be cut short.</summary>
    public const int MaxPacketBytes = 8192;

    /// <summary>
    /// "F&lt;code&gt;\t&lt;message&gt;\t&lt;hint&gt;", each field cut to fit one packet the engine reads whole
    /// (a message can quote a 100,000-character path), tabs replaced so the fields stay three.
    /// </summary>
    public static string FormatStageFailure(int exitCode, string message, string? hint) =>
        StageFailure + exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\t" + Field(message, 2048) + "\t" + Field(hint ?? "", 1024);

    private static string Field(string text, int maxChars)
    {
        text = text.Replace('\t', ' ');
        if (text.Length <= maxChars)
        {
            return text;
        }
        int cut = char.IsHighSurrogate(text[maxChars - 1]) ? maxChars - 1 : maxChars; // never half a character
        return text[..cut] + $"… ({text.Length - cut} more characters)";
    }
}
