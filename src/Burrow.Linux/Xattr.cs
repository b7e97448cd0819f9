using System.Runtime.InteropServices;

namespace Burrow.Linux;

/// <summary>Extended attributes (file capabilities live in security.capability).</summary>
public static partial class Xattr
{
    private const int ENODATA = 61;

    [LibraryImport(Interop.Sys.Libc, EntryPoint = "getxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint GetXattr(string path, string name, byte* value, nuint size);

    public static unsafe bool Has(string path, string name)
    {
        nint n = GetXattr(path, name, null, 0);
        if (n >= 0)
        {
            return true;
        }
        int e = Errno.Last;
        if (e is ENODATA or 95 /* ENOTSUP */)
        {
            return false;
        }
        throw new LinuxException(e, "getxattr " + name, path);
    }
}
