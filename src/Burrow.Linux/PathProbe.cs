using System.Runtime.InteropServices;

namespace Burrow.Linux;

/// <summary>access(2), which .NET's file APIs do not offer.</summary>
public static partial class PathProbe
{
    private const int WOk = 2;

    /// <summary>access(path, W_OK) for the real uid: may the caller write here?</summary>
    public static bool CanWrite(string path) => Access(path, WOk) == 0;

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);
}
