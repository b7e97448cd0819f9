namespace Burrow.Core.Sif;

/// <summary>
/// Plain words for file errors: the NativeAOT build keeps only resource keys in exception messages
/// ("IO_FileNotFound_FileName"), which are no use to a user.
/// </summary>
public static class SifIoText
{
    public static string Of(Exception e) => e switch
    {
        Linux.LinuxException l => l.Reason.Length > 0 ? char.ToLowerInvariant(l.Reason[0]) + l.Reason[1..] : l.Message,
        Linux.NotRegularFileException n => "it is " + Linux.FileKindText.Describe(n.Kind),
        FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
        UnauthorizedAccessException => "permission denied",
        PathTooLongException => "the path is too long",
        IOException io when io.Message.Contains("DiskFull", StringComparison.Ordinal) || io.HResult == 28 => "no space left on device",
        IOException io when io.Message.Contains("SharingViolation", StringComparison.Ordinal) => "the file is in use",
        _ => e.Message,
    };
}
