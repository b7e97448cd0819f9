using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Burrow.Core.Fuse;
using Burrow.Linux;
using Burrow.Linux.Interop;

namespace Burrow.Tests.Fuse;

/// <summary>
/// Every struct layout and constant the FUSE server and its system calls rely on, compared with the real headers
/// (linux/fuse.h, libc's): the test writes a C file of _Static_asserts and fails if the C compiler does.
/// </summary>
public sealed class FuseHeaderTests
{
    [CCompilerFact]
    public void LayoutsAndConstantsMatchTheCHeaders()
    {
        var c = new StringBuilder("""
            #define _GNU_SOURCE
            #include <linux/fuse.h>
            #include <stddef.h>
            #include <errno.h>
            #include <fcntl.h>
            #include <poll.h>
            #include <sys/eventfd.h>
            #include <sys/ioctl.h>
            #include <sys/socket.h>
            #include <sys/stat.h>
            #include <sys/uio.h>
            #define CHECK(e) _Static_assert(e, #e)

            """);
        Kernel<FuseInHeader>(c);
        Kernel<FuseOutHeader>(c);
        Kernel<FuseAttr>(c);
        Kernel<FuseEntryOut>(c);
        Kernel<FuseAttrOut>(c);
        Kernel<FuseForgetIn>(c);
        Kernel<FuseBatchForgetIn>(c);
        Kernel<FuseGetattrIn>(c);
        Kernel<FuseOpenIn>(c);
        Kernel<FuseOpenOut>(c);
        Kernel<FuseReadIn>(c);
        Kernel<FuseKstatfs>(c);
        Kernel<FuseGetxattrIn>(c);
        Kernel<FuseGetxattrOut>(c);
        Kernel<FuseAccessIn>(c);
        Kernel<FuseInitIn>(c);
        Kernel<FuseInitOut>(c);
        Kernel<FuseInterruptIn>(c);
        Kernel<FuseDirent>(c);
        Kernel<FuseDirentplus>(c);
        Struct<Sys.PollFd>(c, "struct pollfd", f => f.ToLowerInvariant());
        Struct<Sys.IoVec>(c, "struct iovec", f => f == "Base" ? "iov_base" : "iov_len");
        Struct<Sys.MsgHdr>(c, "struct msghdr", f => "msg_" + f switch
        {
            "NameLength" => "namelen", "IovLength" => "iovlen", "ControlLength" => "controllen", _ => f.ToLowerInvariant(),
        });
        Struct<Sys.CmsgHdr>(c, "struct cmsghdr", f => f == "Length" ? "cmsg_len" : "cmsg_" + f.ToLowerInvariant());
        c.AppendLine($"CHECK(CMSG_SPACE(sizeof(int)) == {Sys.CmsgSpaceOneFd});");
        c.AppendLine($"CHECK(CMSG_LEN(0) == {Sys.CmsgDataOffset});");

        foreach (FuseOpcode op in Enum.GetValues<FuseOpcode>())
        {
            Constant(c, "FUSE_" + Snake(op.ToString()).ToUpperInvariant(), (ulong)op);
        }
        foreach (FuseInitFlags f in Enum.GetValues<FuseInitFlags>())
        {
            Constant(c, "FUSE_" + Snake(f.ToString()).ToUpperInvariant(), (ulong)f);
        }
        foreach (FuseOpenFlags f in Enum.GetValues<FuseOpenFlags>().Where(f => f != FuseOpenFlags.None))
        {
            Constant(c, "FOPEN_" + Snake(f.ToString()).ToUpperInvariant(), (ulong)f);
        }
        c.AppendLine($"CHECK(FUSE_KERNEL_VERSION == {FuseConstants.KernelVersion});");
        c.AppendLine($"CHECK(FUSE_KERNEL_MINOR_VERSION >= {FuseConstants.KernelMinorVersion});");
        foreach ((string name, object value) in new (string, object)[]
        {
            ("FUSE_ROOT_ID", FuseConstants.RootId), ("FUSE_MIN_READ_BUFFER", FuseConstants.MinReadBuffer),
            ("FUSE_COMPAT_ENTRY_OUT_SIZE", FuseConstants.CompatEntryOutSize), ("FUSE_COMPAT_ATTR_OUT_SIZE", FuseConstants.CompatAttrOutSize),
            ("FUSE_COMPAT_INIT_OUT_SIZE", FuseConstants.CompatInitOutSize), ("FUSE_COMPAT_22_INIT_OUT_SIZE", FuseConstants.Compat22InitOutSize),
            ("FUSE_COMPAT_STATFS_SIZE", FuseConstants.CompatStatfsSize), ("FUSE_NAME_OFFSET", FuseConstants.NameOffset),
            ("FUSE_NAME_OFFSET_DIRENTPLUS", FuseConstants.NameOffsetDirentplus),
            ("sizeof(struct fuse_in_header)", FuseSession.InHeaderSize), ("sizeof(struct fuse_out_header)", FuseSession.OutHeaderSize),
            ("sizeof(struct fuse_in_header) + sizeof(struct fuse_write_in)", FuseSession.InHeaderSize + 40),
            ("O_ACCMODE", FuseConstants.OAccmode), ("O_RDONLY", FuseConstants.ORdonly), ("O_TRUNC", FuseConstants.OTrunc),
            ("S_IFMT", FuseConstants.SIfmt), ("S_IFDIR", FuseConstants.SIfdir),
        })
        {
            Constant(c, name, Convert.ToUInt64(value));
        }
        foreach ((string name, ulong value) in new (string, ulong)[]
        {
            ("O_NONBLOCK", Sys.O_NONBLOCK), ("F_GETFL", Sys.F_GETFL), ("F_SETFL", Sys.F_SETFL), ("POLLIN", (ulong)Sys.POLLIN),
            ("POLLERR", (ulong)Sys.POLLERR), ("POLLHUP", (ulong)Sys.POLLHUP), ("POLLNVAL", (ulong)Sys.POLLNVAL),
            ("EFD_CLOEXEC", Sys.EFD_CLOEXEC), ("EFD_NONBLOCK", Sys.EFD_NONBLOCK), ("FUSE_DEV_IOC_CLONE", Sys.FUSE_DEV_IOC_CLONE),
            ("SOL_SOCKET", Sys.SOL_SOCKET), ("SCM_RIGHTS", Sys.SCM_RIGHTS), ("MSG_CMSG_CLOEXEC", Sys.MSG_CMSG_CLOEXEC),
            ("MSG_NOSIGNAL", Sys.MSG_NOSIGNAL), ("MSG_CTRUNC", Sys.MSG_CTRUNC), ("O_RDWR", Sys.O_RDWR), ("O_CLOEXEC", Sys.O_CLOEXEC),
        })
        {
            Constant(c, name, value);
        }
        foreach (FieldInfo f in typeof(Errno).GetFields(BindingFlags.Static | BindingFlags.Public).Where(f => f.IsLiteral))
        {
            Constant(c, f.Name, Convert.ToUInt64(f.GetValue(null)));
        }

        string dir = Directory.CreateTempSubdirectory("burrow-fuse-header-").FullName;
        try
        {
            string source = Path.Combine(dir, "check.c");
            File.WriteAllText(source, c.ToString());
            var psi = new ProcessStartInfo("cc", ["-std=c11", "-fsyntax-only", "-Werror", source]) { RedirectStandardError = true, RedirectStandardOutput = true };
            using Process cc = Process.Start(psi)!;
            string errors = cc.StandardError.ReadToEnd() + cc.StandardOutput.ReadToEnd();
            cc.WaitForExit();
            Assert.True(cc.ExitCode == 0, "the C compiler disagrees with the C# layouts:\n" + errors);
            Assert.Contains("CHECK(offsetof(struct fuse_direntplus, dirent) == 128);", c.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Kernel<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T>(StringBuilder c) where T : struct =>
        Struct<T>(c, "struct " + Snake(typeof(T).Name), Snake);

    private static void Struct<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T>(StringBuilder c, string cName, Func<string, string> field)
        where T : struct
    {
        c.AppendLine($"CHECK(sizeof({cName}) == {Marshal.SizeOf<T>()});");
        foreach (FieldInfo f in typeof(T).GetFields(BindingFlags.Instance | BindingFlags.Public))
        {
            c.AppendLine($"CHECK(offsetof({cName}, {field(f.Name)}) == {Marshal.OffsetOf<T>(f.Name)});");
        }
    }

    private static void Constant(StringBuilder c, string name, ulong value) =>
        c.AppendLine($"CHECK((unsigned long long)({name}) == {value}ULL);");

    /// <summary>FuseEntryOut → fuse_entry_out, EntryValidNsec → entry_valid_nsec, Flags2 → flags2.</summary>
    internal static string Snake(string pascal)
    {
        var s = new StringBuilder();
        foreach (char ch in pascal)
        {
            if (char.IsUpper(ch) && s.Length > 0)
            {
                s.Append('_');
            }
            s.Append(char.ToLowerInvariant(ch));
        }
        return s.ToString();
    }
}

/// <summary>A fact that needs a C compiler; skipped, saying so, where there is none.</summary>
public sealed class CCompilerFactAttribute : FactAttribute
{
    public CCompilerFactAttribute()
    {
        string? path = Environment.GetEnvironmentVariable("PATH");
        if (path is null || !path.Split(':').Any(d => File.Exists(Path.Combine(d, "cc"))))
        {
            Skip = "no C compiler (cc) on PATH to check the layouts against the headers";
        }
    }
}
