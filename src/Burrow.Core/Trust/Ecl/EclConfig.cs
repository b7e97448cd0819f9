using System.Globalization;
using Burrow.Core.Diagnostics;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Burrow.Core.Trust.Ecl;

/// <summary>How an execution group judges an image's signers (Apptainer's ECL modes).</summary>
public enum EclMode
{
    /// <summary>At least one listed key signed every selected object, with a signature that verified.</summary>
    Whitelist,

    /// <summary>Every listed key did.</summary>
    Whitestrict,

    /// <summary>No listed key signed anything.</summary>
    Blacklist,
}

/// <summary>One <c>[[execgroup]]</c>: images in <see cref="DirPath"/> (or anywhere, when empty) and the keys that judge them.</summary>
public sealed record EclGroup(string TagName, EclMode Mode, string DirPath, IReadOnlyList<byte[]> KeyFingerprints, bool AllowUnsigned, int Line)
{
    public string Describe() => $"execgroup \"{TagName}\" ({ModeName(Mode)}, {(DirPath.Length == 0 ? "any directory" : DirPath)})";

    public static string ModeName(EclMode m) => m.ToString().ToLowerInvariant();
}

/// <summary>
/// The execution control list, <c>PREFIX/etc/burrow/ecl.toml</c>, in Apptainer's format: <c>activated</c>,
/// <c>legacyinsecure</c> and <c>[[execgroup]]</c> tables with <c>tagname</c>, <c>mode</c>, <c>dirpath</c> and
/// <c>keyfp</c>, plus Burrow's <c>allowunsigned</c> (images that carry no signature, sandboxes among them, may run
/// from that group's directory). It is validated as Apptainer validates it (one group per dirpath, dirpaths
/// absolute and with symlinks resolved, a known mode, 40-hex-digit fingerprints) and more strictly: an unknown
/// key or a value of the wrong type is an error naming the file and line, because an administrator's typo
/// (<c>activate = true</c>) must not leave the list silently off.
/// </summary>
public sealed record EclConfig(string Path, bool Activated, bool LegacyInsecure, IReadOnlyList<EclGroup> Groups)
{
    /// <summary>An ECL file larger than this is refused.</summary>
    public const int MaxLength = 1 << 20;

    private static readonly string[] TopKeys = ["activated", "legacyinsecure", "execgroup"];
    private static readonly string[] GroupKeys = ["tagname", "mode", "dirpath", "keyfp", "allowunsigned"];

    /// <summary>Reads the file; a missing file is a list that is not activated.</summary>
    public static EclConfig Load(string path)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return new EclConfig(path, false, false, []);
            }
            if (info.Length > MaxLength)
            {
                throw Invalid(path, 0, $"the file is {info.Length} bytes, more than an execution control list can be");
            }
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Fail closed: a list that cannot be read might be activated.
            throw new BurrowException($"cannot read the execution control list {path}: {ErrorText.Of(e)}",
                "the administrator must make it readable by every user (mode 0644)");
        }
        return Parse(text, path);
    }

    public static EclConfig Parse(string text, string path)
    {
        DocumentSyntax doc = SyntaxParser.Parse(text, path, validate: true);
        if (doc.HasErrors)
        {
            DiagnosticMessage first = doc.Diagnostics.First(d => d.Kind == DiagnosticMessageKind.Error);
            throw Invalid(path, first.Span.Start.Line + 1, "not valid TOML: " + first.Message);
        }
        bool activated = false, legacy = false;
        foreach (KeyValueSyntax kv in doc.KeyValues)
        {
            string key = KeyName(kv.Key!, path);
            switch (key)
            {
                case "activated":
                    activated = Bool(kv, path);
                    break;
                case "legacyinsecure":
                    legacy = Bool(kv, path);
                    break;
                case "execgroup":
                    throw Invalid(path, LineOf(kv), "execgroup must be a list of tables: write each one as [[execgroup]]");
                default:
                    throw Unknown(path, kv, key, TopKeys);
            }
        }
        var groups = new List<EclGroup>();
        foreach (TableSyntaxBase table in doc.Tables)
        {
            string name = table.Name is { } n ? KeyName(n, path) : "";
            if (table is not TableArraySyntax || name != "execgroup")
            {
                throw Invalid(path, LineOf(table), $"unknown table [{name}]: the only table is [[execgroup]]");
            }
            groups.Add(Group(table, path));
        }
        var config = new EclConfig(path, activated, legacy, groups);
        config.Validate();
        return config;
    }

    private static EclGroup Group(TableSyntaxBase table, string path)
    {
        string tag = "", dir = "";
        EclMode? mode = null;
        var keys = new List<byte[]>();
        bool allowUnsigned = false;
        int line = LineOf(table);
        foreach (KeyValueSyntax kv in table.Items)
        {
            string key = KeyName(kv.Key!, path);
            switch (key)
            {
                case "tagname":
                    tag = String(kv, path);
                    break;
                case "mode":
                    string m = String(kv, path);
                    mode = m switch
                    {
                        "whitelist" => EclMode.Whitelist,
                        "whitestrict" => EclMode.Whitestrict,
                        "blacklist" => EclMode.Blacklist,
                        _ => throw Invalid(path, LineOf(kv), $"the mode field can only be either: whitelist, whitestrict, blacklist (not \"{m}\")"),
                    };
                    break;
                case "dirpath":
                    dir = String(kv, path);
                    break;
                case "keyfp":
                    if (kv.Value is not ArraySyntax array)
                    {
                        throw Invalid(path, LineOf(kv), "keyfp must be a list of fingerprints, e.g. keyfp = [\"12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84\"]");
                    }
                    foreach (ArrayItemSyntax item in array.Items)
                    {
                        if (item.Value is not StringValueSyntax s || s.Value is null)
                        {
                            throw Invalid(path, LineOf(kv), "keyfp must hold fingerprints as strings");
                        }
                        keys.Add(Fingerprint(s.Value, path, LineOf(item)));
                    }
                    break;
                case "allowunsigned":
                    allowUnsigned = Bool(kv, path);
                    break;
                default:
                    throw Unknown(path, kv, key, GroupKeys);
            }
        }
        if (mode is null)
        {
            throw Invalid(path, line, $"execgroup \"{tag}\" has no mode: give mode = \"whitelist\", \"whitestrict\" or \"blacklist\"");
        }
        return new EclGroup(tag, mode.Value, dir, keys, allowUnsigned, line);
    }

    private void Validate()
    {
        var seen = new Dictionary<string, EclGroup>(StringComparer.Ordinal);
        foreach (EclGroup g in Groups)
        {
            if (seen.TryGetValue(g.DirPath, out EclGroup? other))
            {
                throw Invalid(Path, g.Line, $"a specific dirpath can only appear in one execgroup: {(g.DirPath.Length == 0 ? "(empty)" : g.DirPath)} is also the dirpath of the execgroup on line {other.Line}");
            }
            seen[g.DirPath] = g;
            if (g.DirPath.Length == 0)
            {
                continue;
            }
            if (!System.IO.Path.IsPathRooted(g.DirPath) || System.IO.Path.GetFullPath(g.DirPath) != g.DirPath || (g.DirPath.Length > 1 && g.DirPath.EndsWith('/')))
            {
                throw Invalid(Path, g.Line, $"dirpath {g.DirPath} must be an absolute, clean path (no trailing /, . or ..)");
            }
            string? real = RealPath(g.DirPath);
            if (real is null)
            {
                throw Invalid(Path, g.Line, $"dirpath {g.DirPath} does not exist");
            }
            if (real != g.DirPath)
            {
                throw Invalid(Path, g.Line, $"all execgroup dirpaths should be fully cleaned with symlinks resolved: {g.DirPath} is {real}");
            }
        }
    }

    /// <summary>The group that judges an image whose real directory is <paramref name="directory"/>: an exact match, else the group with an empty dirpath.</summary>
    public EclGroup? GroupFor(string directory) =>
        Groups.FirstOrDefault(g => g.DirPath.Length > 0 && g.DirPath == directory) ?? Groups.FirstOrDefault(g => g.DirPath.Length == 0);

    internal static string? RealPath(string path)
    {
        try
        {
            return Burrow.Linux.FileDescriptors.RealPath(path);
        }
        catch (Burrow.Linux.LinuxException)
        {
            return null;
        }
    }

    private static byte[] Fingerprint(string text, string path, int line)
    {
        try
        {
            byte[] b = Convert.FromHexString(text);
            if (b.Length == 20)
            {
                return b;
            }
        }
        catch (FormatException)
        {
        }
        throw Invalid(path, line, $"expecting a 40 chars hex fingerprint string, not \"{text}\"");
    }

    private static string KeyName(KeySyntax key, string path)
    {
        if (key.DotKeys.ChildrenCount > 0)
        {
            throw Invalid(path, LineOf(key), "dotted keys are not used in an execution control list");
        }
        return key.Key switch
        {
            BareKeySyntax b => b.Key?.Text ?? "",
            StringValueSyntax s => s.Value ?? "",
            _ => "",
        };
    }

    private static bool Bool(KeyValueSyntax kv, string path) => kv.Value is BooleanValueSyntax b
        ? b.Value
        : throw Invalid(path, LineOf(kv), $"{KeyName(kv.Key!, path)} must be true or false");

    private static string String(KeyValueSyntax kv, string path) => kv.Value is StringValueSyntax { Value: { } s }
        ? s
        : throw Invalid(path, LineOf(kv), $"{KeyName(kv.Key!, path)} must be a string");

    private static int LineOf(SyntaxNode node) => node.Span.Start.Line + 1;

    private static BurrowException Unknown(string path, KeyValueSyntax kv, string key, string[] known) =>
        Invalid(path, LineOf(kv), $"unknown key \"{key}\" (the keys are {string.Join(", ", known)})");

    private static BurrowException Invalid(string path, int line, string message) =>
        new($"invalid execution control list {path}{(line > 0 ? ":" + line.ToString(CultureInfo.InvariantCulture) : "")}: {message}",
            "the administrator must fix it; until then no container can start");
}
