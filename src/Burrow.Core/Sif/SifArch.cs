namespace Burrow.Core.Sif;

/// <summary>
/// The two-digit architecture codes SIF stores (header and partition Extra) and the Go arch names the
/// reference shows and accepts ("amd64", "arm64", …). Code 13 (loong64) is Apptainer's addition.
/// </summary>
public static class SifArch
{
    public const string Unknown = "unknown";

    private static readonly string[] s_names =
    [
        Unknown, "386", "amd64", "arm", "arm64", "ppc64", "ppc64le", "mips", "mipsle", "mips64", "mips64le", "s390x", "riscv64", "loong64",
    ];

    /// <summary>Every name with a code, in code order (without "unknown").</summary>
    public static IReadOnlyList<string> Names { get; } = s_names[1..];

    /// <summary>The 2-character code for a Go arch name, or null if SIF has no code for it.</summary>
    public static string? CodeOf(string name)
    {
        int i = Array.IndexOf(s_names, name);
        return i <= 0 ? null : i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The Go arch name for a stored code ("unknown" for 00 or any code without a name, as the reference does).</summary>
    public static string NameOf(ReadOnlySpan<byte> code)
    {
        // The field is 3 bytes: two ASCII digits and a NUL; the reference compares the whole string.
        if (code.Length >= 2 && code[0] is >= (byte)'0' and <= (byte)'9' && code[1] is >= (byte)'0' and <= (byte)'9'
            && (code.Length == 2 || code[2] == 0))
        {
            int i = (code[0] - '0') * 10 + (code[1] - '0');
            if (i < s_names.Length)
            {
                return s_names[i];
            }
        }
        return Unknown;
    }

    /// <summary>The arch of the machine Burrow runs on, as a Go arch name.</summary>
    public static string Host => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
        System.Runtime.InteropServices.Architecture.S390x => "s390x",
        System.Runtime.InteropServices.Architecture.RiscV64 => "riscv64",
        System.Runtime.InteropServices.Architecture.LoongArch64 => "loong64",
        _ => Unknown,
    };
}
