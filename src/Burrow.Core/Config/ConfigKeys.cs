using System.Globalization;

namespace Burrow.Core.Config;

/// <summary>A TOML value of the file, reduced to what the keys use, with the line it is on.</summary>
internal abstract record ConfigValue(int Line)
{
    public abstract string TypeName { get; }
}

internal sealed record StringConfigValue(string Value, int Line) : ConfigValue(Line)
{
    public override string TypeName => "a string";
}

internal sealed record BoolConfigValue(bool Value, int Line) : ConfigValue(Line)
{
    public override string TypeName => "a boolean";
}

internal sealed record IntegerConfigValue(long Value, int Line) : ConfigValue(Line)
{
    public override string TypeName => "an integer";
}

internal sealed record ArrayConfigValue(IReadOnlyList<ConfigValue> Items, int Line) : ConfigValue(Line)
{
    public override string TypeName => "an array";
}

/// <summary>Any other TOML value (float, date, inline table): always the wrong type for a key of ours.</summary>
internal sealed record OtherConfigValue(string Name, int Line) : ConfigValue(Line)
{
    public override string TypeName => Name;
}

/// <summary>A value that does not fit its key: the parser adds the file, line and key.</summary>
internal sealed class ConfigValueException(string message) : Exception(message);

/// <summary>
/// Every key of burrow.conf: how its value is read into <see cref="BurrowConfig"/> and how it is shown. Keys are mapped
/// by hand (no reflection: the binary is NativeAOT), in the order the shipped file documents them.
/// </summary>
public static class ConfigKeys
{
    private sealed record Key(string Name, Func<BurrowConfig, ConfigValue, BurrowConfig> Apply, Func<BurrowConfig, string> Render);

    private static readonly Key[] s_keys =
    [
        new("allow-image-kinds", (c, v) => c with { AllowedImageKinds = Strings(v).Select(ImageKindOf).ToHashSet() },
            c => List(Enum.GetValues<ImageKind>().Where(c.AllowedImageKinds.Contains).Select(NameOf))),
        new("limit-container-paths", (c, v) => c with { LimitContainerPaths = Strings(v).Select(AbsoluteDirectory).ToArray() },
            c => List(c.LimitContainerPaths)),
        new("limit-container-owners", (c, v) => c with { LimitContainerOwners = Strings(v).Select(Owner).ToArray() },
            c => List(c.LimitContainerOwners)),
        new("bind-path", (c, v) => c with { BindPaths = Strings(v).Select(BindPath).ToArray() }, c => List(c.BindPaths)),
        new("user-bind-control", (c, v) => c with { UserBindControl = Switch(v) }, c => Bool(c.UserBindControl)),
        new("mount-home", (c, v) => c with { MountHome = Mount(v, minimal: false) }, c => Mode(c.MountHome)),
        new("mount-tmp", (c, v) => c with { MountTmp = Mount(v, minimal: false) }, c => Mode(c.MountTmp)),
        new("mount-proc", (c, v) => c with { MountProc = Mount(v, minimal: false) }, c => Mode(c.MountProc)),
        new("mount-sys", (c, v) => c with { MountSys = Mount(v, minimal: false) }, c => Mode(c.MountSys)),
        new("mount-dev", (c, v) => c with { MountDev = Mount(v, minimal: true) }, c => Mode(c.MountDev)),
        new("allow-pid-ns", (c, v) => c with { AllowPidNs = Switch(v) }, c => Bool(c.AllowPidNs)),
        new("allow-ipc-ns", (c, v) => c with { AllowIpcNs = Switch(v) }, c => Bool(c.AllowIpcNs)),
        new("allow-uts-ns", (c, v) => c with { AllowUtsNs = Switch(v) }, c => Bool(c.AllowUtsNs)),
        new("allow-net-ns", (c, v) => c with { AllowNetNs = Switch(v) }, c => Bool(c.AllowNetNs)),
        new("allow-fakeroot", (c, v) => c with { AllowFakeroot = Switch(v) }, c => Bool(c.AllowFakeroot)),
        new("allow-userns-modes", (c, v) => c with { AllowedUserNsModes = Strings(v).Select(UserNsMode).ToHashSet(StringComparer.Ordinal) },
            c => List(new[] { UserNsModes.Auto, UserNsModes.KeepId }.Where(c.AllowedUserNsModes.Contains))),
        new("sessiondir-max-size", (c, v) => c with { SessionDirMaxSizeMiB = SizeMiB(v) },
            c => c.SessionDirMaxSizeMiB.ToString(CultureInfo.InvariantCulture)),
        new("cache-dir", (c, v) => c with { CacheDir = OptionalDirectory(v) }, c => Quote(c.CacheDir ?? "")),
        new("temp-dir", (c, v) => c with { TempDir = OptionalDirectory(v) }, c => Quote(c.TempDir ?? "")),
        new("binary-path", (c, v) => c with { BinaryPath = SearchPath(v) }, c => Quote(c.BinaryPath)),
        new("ecl-file", (c, v) => c with { EclFile = FilePath(v) }, c => Quote(c.EclFile)),
    ];

    private static readonly Dictionary<string, Key> s_byName = s_keys.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>Every key, in the shipped file's order.</summary>
    public static IReadOnlyList<string> Names { get; } = s_keys.Select(k => k.Name).ToArray();

    public static bool IsKnown(string name) => s_byName.ContainsKey(name);

    /// <summary>The key's value in TOML syntax, as <c>burrow config show</c> prints it.</summary>
    public static string Render(BurrowConfig config, string name) => s_byName[name].Render(config);

    internal static BurrowConfig Apply(BurrowConfig config, string name, ConfigValue value) => s_byName[name].Apply(config, value);

    /// <summary>The known key nearest to a misspelt one (at most two edits away), for the hint.</summary>
    public static string? Nearest(string name) =>
        s_keys.Select(k => (k.Name, Distance: Levenshtein(k.Name, name))).Where(k => k.Distance <= 2).OrderBy(k => k.Distance).Select(k => k.Name).FirstOrDefault();

    public static string NameOf(ImageKind kind) => kind switch
    {
        ImageKind.Sif => "sif",
        ImageKind.Sandbox => "sandbox",
        ImageKind.Oci => "oci",
        ImageKind.Encrypted => "encrypted",
        _ => kind.ToString(),
    };

    private static ImageKind ImageKindOf(string s) => s switch
    {
        "sif" => ImageKind.Sif,
        "sandbox" => ImageKind.Sandbox,
        "oci" => ImageKind.Oci,
        "encrypted" => ImageKind.Encrypted,
        _ => throw new ConfigValueException($"'{s}' is not an image kind (sif, sandbox, oci, encrypted)"),
    };

    private static string UserNsMode(string s) => s is UserNsModes.Auto or UserNsModes.KeepId
        ? s
        : throw new ConfigValueException($"'{s}' is not a --userns mode (auto, keep-id)");

    private static IReadOnlyList<string> Strings(ConfigValue v) => v is ArrayConfigValue a
        ? a.Items.Select(i => i is StringConfigValue s ? s.Value : throw new ConfigValueException($"expected an array of strings, found {i.TypeName} in it")).ToArray()
        : throw new ConfigValueException($"expected an array of strings, found {v.TypeName}");

    private static string String(ConfigValue v) => v is StringConfigValue s ? s.Value : throw new ConfigValueException($"expected a string, found {v.TypeName}");

    /// <summary>true/false, or Apptainer's "yes"/"no".</summary>
    private static bool Switch(ConfigValue v) => v switch
    {
        BoolConfigValue b => b.Value,
        StringConfigValue { Value: "yes" } => true,
        StringConfigValue { Value: "no" } => false,
        StringConfigValue s => throw new ConfigValueException($"'{s.Value}' is not true, false, yes or no"),
        _ => throw new ConfigValueException($"expected true or false, found {v.TypeName}"),
    };

    private static MountMode Mount(ConfigValue v, bool minimal) => v switch
    {
        StringConfigValue { Value: "minimal" } when minimal => MountMode.Minimal,
        StringConfigValue { Value: "yes" } or BoolConfigValue { Value: true } => MountMode.Yes,
        StringConfigValue { Value: "no" } or BoolConfigValue { Value: false } => MountMode.No,
        StringConfigValue s => throw new ConfigValueException($"'{s.Value}' is not one of {(minimal ? "yes, no, minimal" : "yes, no")}"),
        _ => throw new ConfigValueException($"expected {(minimal ? "\"yes\", \"no\" or \"minimal\"" : "\"yes\" or \"no\"")}, found {v.TypeName}"),
    };

    /// <summary>Apptainer's sessiondir max size is in MiB; a tmpfs larger than 1 TiB is surely a typo.</summary>
    private static int SizeMiB(ConfigValue v) => v is IntegerConfigValue i
        ? i.Value is >= 1 and <= 1 << 20 ? (int)i.Value : throw new ConfigValueException($"{i.Value} is out of range (1 to {1 << 20} MiB)")
        : throw new ConfigValueException($"expected a size in MiB (an integer), found {v.TypeName}");

    private static string AbsoluteDirectory(string s)
    {
        if (!s.StartsWith('/'))
        {
            throw new ConfigValueException($"'{s}' is not an absolute path");
        }
        string normal = Runtime.Planning.BindSpec.NormalizeIfAbsolute(s);
        return normal;
    }

    private static string Owner(string s) => s.Length > 0 && !s.Contains(':') && !s.Any(char.IsWhiteSpace)
        ? s
        : throw new ConfigValueException($"'{s}' is not a user name or uid");

    /// <summary>Validated as -B values are, except that the source must be absolute (there is no working directory to resolve it against).</summary>
    private static string BindPath(string s)
    {
        string[] parts = s.Split(':');
        if (parts.Length > 3 || !parts[0].StartsWith('/') || (parts.Length > 1 && parts[1].Length > 0 && !parts[1].StartsWith('/')))
        {
            throw new ConfigValueException($"'{s}' is not src[:dst[:ro|rw]] with absolute paths");
        }
        if (parts.Length == 3 && parts[2] is not ("ro" or "rw"))
        {
            throw new ConfigValueException($"'{s}': unknown bind option '{parts[2]}' (ro or rw)");
        }
        return s;
    }

    /// <summary>An empty string means the default; $USER, $UID and $HOME are expanded when used.</summary>
    private static string? OptionalDirectory(ConfigValue v)
    {
        string s = String(v);
        if (s.Length == 0)
        {
            return null;
        }
        if (!s.StartsWith('/') && !s.StartsWith("$HOME", StringComparison.Ordinal))
        {
            throw new ConfigValueException($"'{s}' is not an absolute path (it may start with $HOME)");
        }
        return s;
    }

    private static string SearchPath(ConfigValue v)
    {
        string s = String(v);
        foreach (string dir in s.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (dir != "$PATH" && !dir.StartsWith('/'))
            {
                throw new ConfigValueException($"'{dir}' is not an absolute directory or $PATH");
            }
        }
        return s.Split(':', StringSplitOptions.RemoveEmptyEntries).Length > 0 ? s : throw new ConfigValueException("it names no directory");
    }

    /// <summary>Relative paths are kept as given; the loader resolves them against the configuration's directory.</summary>
    private static string FilePath(ConfigValue v)
    {
        string s = String(v);
        return s.Length > 0 ? s : throw new ConfigValueException("expected a file path, found an empty string");
    }

    private static string Bool(bool b) => b ? "true" : "false";

    private static string Mode(MountMode m) => Quote(m switch { MountMode.Yes => "yes", MountMode.No => "no", _ => "minimal" });

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Quote)) + "]";

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static int Levenshtein(string a, string b)
    {
        int[] row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int previous = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int next = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = next;
            }
        }
        return row[b.Length];
    }
}
