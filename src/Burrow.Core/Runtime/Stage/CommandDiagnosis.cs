using System.Buffers.Binary;
using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Stage;

/// <summary>
/// Says why a command that exists cannot start: execve fails with ENOENT, as for a missing file, when a
/// script's #! interpreter or a binary's program loader (ELF PT_INTERP) is missing, and the shell's
/// "not found" then names the wrong file. Runs in the container, as the payload, before exec; reads at
/// most the first 4 KiB of a regular file.
/// </summary>
internal static class CommandDiagnosis
{
    private const int HeadBytes = 4096;

    /// <summary>The failure to report if <paramref name="path"/> is a script or binary whose interpreter is missing, else null.</summary>
    public static BurrowException? MissingInterpreter(string path)
    {
        if (Interpreter(path) is not (string interpreter, bool script))
        {
            return null;
        }
        if (Exists(interpreter))
        {
            return null;
        }
        return script
            ? new BurrowException($"{path}: its interpreter {interpreter} (the script's #! line) is not in the container",
                $"install {interpreter} in the image, or change the script's first line", ExitCodes.CommandNotExecutable)
            : new BurrowException($"{path}: its program loader {interpreter} is not in the container",
                "the binary was built for another system, or the image lacks its C library", ExitCodes.CommandNotExecutable);
    }

    /// <summary>The #! interpreter or the ELF program interpreter of a regular file, if it names one.</summary>
    private static (string Path, bool Script)? Interpreter(string path)
    {
        try
        {
            if (FileStatus.OfPath(path) is not { Kind: FileKind.Regular })
            {
                return null;
            }
        }
        catch (LinuxException)
        {
            return null;
        }
        byte[] head = new byte[HeadBytes];
        int n;
        try
        {
            using SafeFileHandle f = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            n = RandomAccess.Read(f, head, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // execute-only, or gone: nothing more to say than the kernel's errno
        }
        ReadOnlySpan<byte> bytes = head.AsSpan(0, n);
        if (bytes.StartsWith("#!"u8))
        {
            ReadOnlySpan<byte> line = bytes[2..];
            int end = line.IndexOfAny((byte)'\n', (byte)'\r');
            string text = Encoding.UTF8.GetString(end < 0 ? line : line[..end]).Trim(' ', '\t');
            string interpreter = text.Split([' ', '\t'], 2)[0];
            return interpreter.Length == 0 ? null : (interpreter, true);
        }
        return ElfInterpreter(bytes) is { } loader ? (loader, false) : null;
    }

    /// <summary>PT_INTERP of a little-endian ELF file whose program headers and interpreter lie within the head read.</summary>
    private static string? ElfInterpreter(ReadOnlySpan<byte> b)
    {
        if (b.Length < 64 || !b.StartsWith("\u007fELF"u8) || b[5] != 1 /* little-endian */)
        {
            return null;
        }
        bool is64 = b[4] == 2;
        long phoff = is64 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(b[0x20..]) : BinaryPrimitives.ReadUInt32LittleEndian(b[0x1c..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(b[(is64 ? 0x36 : 0x2a)..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(b[(is64 ? 0x38 : 0x2c)..]);
        if (phentsize < (is64 ? 56 : 32) || phnum > 256)
        {
            return null;
        }
        for (int i = 0; i < phnum; i++)
        {
            long at = phoff + ((long)i * phentsize);
            if (at < 0 || at + phentsize > b.Length)
            {
                return null;
            }
            ReadOnlySpan<byte> ph = b.Slice((int)at, phentsize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != 3 /* PT_INTERP */)
            {
                continue;
            }
            long offset = is64 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[0x08..]) : BinaryPrimitives.ReadUInt32LittleEndian(ph[0x04..]);
            long size = is64 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(ph[0x20..]) : BinaryPrimitives.ReadUInt32LittleEndian(ph[0x10..]);
            if (offset < 0 || size <= 1 || size > 256 || offset + size > b.Length)
            {
                return null;
            }
            string name = Encoding.UTF8.GetString(b.Slice((int)offset, (int)size)).TrimEnd('\0');
            return name.StartsWith('/') ? name : null;
        }
        return null;
    }

    private static bool Exists(string path)
    {
        try
        {
            return FileStatus.OfPath(path) is not null;
        }
        catch (LinuxException)
        {
            return true; // EACCES on the way: not provably missing
        }
    }
}
