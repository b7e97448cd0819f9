using System.Globalization;
using System.Text;

namespace Burrow.Core.Sif;

/// <summary>
/// The text siftool prints for header, list and info, reproduced byte for byte (Go's tabwriter
/// alignment, Go's time and size formats). Follows Apptainer's siftool where it differs from 2.8.3: the
/// OCI types are named and their digest shown.
/// </summary>
public static class SifText
{
    private const string Rule = "------------------------------------------------------------------------------";

    public static string Header(SifImage image)
    {
        SifHeader h = image.Header;
        var rows = new List<string[]>();
        string script = TrimZeros(h.RawLaunchScript);
        if (script.Length > 0)
        {
            rows.Add(["Launch Script:", script.EndsWith('\n') ? script[..^1] : script]);
        }
        rows.Add(["Version:", TrimZeros(h.RawVersion)]);
        if (h.PrimaryArch != SifArch.Unknown)
        {
            rows.Add(["Primary Architecture:", h.PrimaryArch]);
        }
        if (h.Id != Guid.Empty)
        {
            rows.Add(["ID:", h.Id.ToString("D")]);
        }
        if (!SifTime.IsZero(h.CreatedAtUnix))
        {
            rows.Add(["Created At:", SifTime.FormatGo(h.CreatedAtUnix)]);
        }
        if (!SifTime.IsZero(h.ModifiedAtUnix))
        {
            rows.Add(["Modified At:", SifTime.FormatGo(h.ModifiedAtUnix)]);
        }
        rows.Add(["Descriptors Free:", Num(h.DescriptorsFree)]);
        rows.Add(["Descriptors Total:", Num(h.DescriptorsTotal)]);
        rows.Add(["Descriptors Offset:", Num(h.DescriptorsOffset)]);
        rows.Add(["Descriptors Size:", ReadableSize(h.DescriptorsSize)]);
        rows.Add(["Data Offset:", Num(h.DataOffset)]);
        rows.Add(["Data Size:", ReadableSize(h.DataSize)]);
        return Tabulate(rows, padding: 1);
    }

    public static string List(SifImage image)
    {
        var sb = new StringBuilder();
        sb.Append(Rule).Append('\n');
        sb.Append("ID   |GROUP   |LINK    |SIF POSITION (start-end)  |TYPE\n");
        sb.Append(Rule).Append('\n');
        foreach (SifDescriptor d in image.Descriptors)
        {
            sb.Append(Num(d.Id).PadRight(4)).Append(' ');
            sb.Append('|').Append((d.GroupId == 0 ? "NONE" : Num(d.GroupId)).PadRight(7)).Append(' ');
            if (d.LinkedId == 0)
            {
                sb.Append('|').Append("NONE".PadRight(7)).Append(' ');
            }
            else if (d.LinkIsGroup)
            {
                sb.Append('|').Append(Num(d.LinkedId).PadRight(3)).Append(" (G) ");
            }
            else
            {
                sb.Append('|').Append(Num(d.LinkedId).PadRight(7)).Append(' ');
            }
            sb.Append(("|" + Num(d.Offset) + "-" + Num(d.Offset + d.Size) + " ").PadRight(26)).Append(' ');
            sb.Append('|').Append(TypeSummary(d)).Append('\n');
        }
        return sb.ToString();
    }

    public static string Info(SifDescriptor d)
    {
        var rows = new List<string[]>
        {
            new[] { "", "Data Type:", SifNames.Of(d.Type) },
            new[] { "", "ID:", Num(d.Id) },
            new[] { "", "Group ID:", d.GroupId == 0 ? "NONE" : Num(d.GroupId) },
            new[] { "", "Linked ID:", d.LinkedId == 0 ? "NONE" : d.LinkIsGroup ? Num(d.LinkedId) + " (G)" : Num(d.LinkedId) },
            new[] { "", "Offset:", Num(d.Offset) },
            new[] { "", "Size:", Num(d.Size) },
        };
        if (!SifTime.IsZero(d.CreatedAtUnix))
        {
            rows.Add(["", "Created At:", SifTime.FormatGo(d.CreatedAtUnix)]);
        }
        if (!SifTime.IsZero(d.ModifiedAtUnix))
        {
            rows.Add(["", "Modified At:", SifTime.FormatGo(d.ModifiedAtUnix)]);
        }
        if (d.Name.Length > 0)
        {
            rows.Add(["", "Name:", Diagnostics.TerminalText.Escape(d.Name)]); // the image's text: no ESC sequences on the terminal
        }
        switch (d.Type)
        {
            case SifDataType.Partition:
                rows.Add(["", "Filesystem Type:", SifNames.Of(d.FsType!.Value)]);
                rows.Add(["", "Partition Type:", SifNames.Of(d.PartitionType!.Value)]);
                rows.Add(["", "Architecture:", d.Arch!]);
                break;
            case SifDataType.Signature:
                rows.Add(["", "Hash Type:", SifNames.Of(d.HashType!.Value)]);
                if (!d.Entity.IsEmpty)
                {
                    rows.Add(["", "Entity:", Convert.ToHexString(d.Entity)]);
                }
                break;
            case SifDataType.CryptoMessage:
                rows.Add(["", "Format Type:", SifNames.Of(d.FormatType!.Value)]);
                rows.Add(["", "Message Type:", SifNames.Of(d.MessageType!.Value)]);
                break;
            case SifDataType.Sbom:
                rows.Add(["", "Format:", SifNames.Of(d.SbomFormat!.Value)]);
                break;
            case SifDataType.OciBlob or SifDataType.OciRootIndex:
                rows.Add(["", "Digest:", d.OciDigest!]);
                break;
        }
        return Tabulate(rows, padding: 2);
    }

    /// <summary>The TYPE column: "FS (Squashfs/*System/386)", "Signature (SHA-256)", …</summary>
    public static string TypeSummary(SifDescriptor d) => d.Type switch
    {
        SifDataType.Partition => $"{SifNames.Of(d.Type)} ({SifNames.Of(d.FsType!.Value)}/{SifNames.Of(d.PartitionType!.Value)}/{d.Arch})",
        SifDataType.Signature => $"{SifNames.Of(d.Type)} ({SifNames.Of(d.HashType!.Value)})",
        SifDataType.CryptoMessage => $"{SifNames.Of(d.Type)} ({SifNames.Of(d.FormatType!.Value)}/{SifNames.Of(d.MessageType!.Value)})",
        SifDataType.Sbom => $"{SifNames.Of(d.Type)} ({SifNames.Of(d.SbomFormat!.Value)})",
        _ => SifNames.Of(d.Type),
    };

    /// <summary>Go's readableSize in siftool: "%d B" below 1 KiB, else the rounded count of the largest binary unit.</summary>
    public static string ReadableSize(long size)
    {
        if (size is > -1024 and < 1024)
        {
            return Num(size) + " B";
        }
        const string units = "KMGTPE";
        ulong div = 1024;
        int exp = 0;
        for (long n = size / 1024; n <= -1024 || n >= 1024; n /= 1024)
        {
            div *= 1024;
            exp++;
        }
        double value = Math.Round((double)size / div, MidpointRounding.AwayFromZero);
        return value.ToString("F0", CultureInfo.InvariantCulture) + " " + units[exp] + "iB";
    }

    /// <summary>Go's text/tabwriter with minwidth 0, tabwidth 0 and space padding: every cell but the last is padded to its column's widest cell plus padding.</summary>
    private static string Tabulate(List<string[]> rows, int padding)
    {
        int columns = rows.Max(r => r.Length) - 1;
        int[] widths = new int[columns];
        foreach (string[] r in rows)
        {
            for (int c = 0; c < r.Length - 1; c++)
            {
                widths[c] = Math.Max(widths[c], Width(r[c]) + padding);
            }
        }
        var sb = new StringBuilder();
        foreach (string[] r in rows)
        {
            for (int c = 0; c < r.Length - 1; c++)
            {
                sb.Append(r[c]).Append(' ', widths[c] - Width(r[c]));
            }
            sb.Append(r[^1]).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>tabwriter counts UTF-8 runes.</summary>
    private static int Width(string s) => s.EnumerateRunes().Count();

    private static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Num(uint v) => v.ToString(CultureInfo.InvariantCulture);

    private static string TrimZeros(byte[] raw)
    {
        int end = raw.Length;
        while (end > 0 && raw[end - 1] == 0)
        {
            end--;
        }
        return Encoding.UTF8.GetString(raw, 0, end);
    }
}
