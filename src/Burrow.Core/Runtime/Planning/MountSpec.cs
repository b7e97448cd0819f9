using System.Text;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Docker's and Apptainer's <c>--mount type=bind,source=SRC,destination=DST[,ro]</c>: fields separated by commas with
/// CSV quoting (<c>"source=/a,b"</c> keeps the comma), several mounts separated by newlines. Only bind mounts exist.
/// Each becomes a <see cref="BindSpec"/> whose origin is --mount.
/// </summary>
public static class MountSpec
{
    public const string Option = "--mount";

    public static IReadOnlyList<BindSpec> ParseAll(IEnumerable<string> values, string hostCwd)
    {
        var result = new List<BindSpec>();
        foreach (string value in values)
        {
            foreach (string line in value.Split('\n'))
            {
                if (line.Trim().Length > 0)
                {
                    result.Add(Parse(line.TrimEnd('\r'), hostCwd));
                }
            }
        }
        return result;
    }

    public static BindSpec Parse(string given, string hostCwd)
    {
        string? source = null, destination = null;
        bool readOnly = false;
        foreach (string field in CsvFields(given))
        {
            int eq = field.IndexOf('=');
            string key = eq < 0 ? field : field[..eq];
            string value = eq < 0 ? "" : field[(eq + 1)..];
            switch (key)
            {
                case "type":
                    if (value != "bind")
                    {
                        throw Bad(given, $"the mount type '{value}' is not supported; only type=bind is");
                    }
                    break;
                case "source" or "src":
                    source = value.Length > 0 ? value : throw Bad(given, "the source is empty");
                    break;
                case "destination" or "dst" or "target":
                    destination = value.Length > 0 ? value : throw Bad(given, "the destination is empty");
                    break;
                case "ro" or "readonly":
                    readOnly = value is "" or "true" or "1" ? true : value is "false" or "0" ? false : throw Bad(given, $"{key}={value}: expected true or false");
                    break;
                case "bind-propagation":
                    throw Bad(given, "bind-propagation is not supported for single mounts");
                case "image-src" or "id":
                    throw Bad(given, $"binding from inside an image file ({key}) is not supported");
                default:
                    throw Bad(given, $"unknown key '{key}'");
            }
        }
        if (source is null || destination is null)
        {
            throw Bad(given, "a mount needs a source and a destination");
        }
        return new BindSpec(Path.GetFullPath(source, hostCwd), BindSpec.NormalizeIfAbsolute(destination), readOnly, given, Option);
    }

    /// <summary>The fields of one CSV record: commas separate, double quotes protect commas, "" is a quote inside quotes.</summary>
    public static IReadOnlyList<string> CsvFields(string record)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < record.Length; i++)
        {
            char c = record[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < record.Length && record[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }
        if (quoted)
        {
            throw Bad(record, "a double quote is not closed");
        }
        fields.Add(current.ToString());
        return fields.Where(f => f.Length > 0).ToArray();
    }

    private static BurrowException Bad(string given, string why) =>
        new($"{Option} {given}: {why}", "for example --mount type=bind,source=/data,destination=/mnt/data,ro");
}
