using System.Text;
using System.Text.RegularExpressions;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Build;

/// <summary>
/// Build arguments (Apptainer ≥ 1.2): <c>{{ NAME }}</c> anywhere in a stage is replaced by the value given with
/// <c>--build-arg NAME=VALUE</c> or in a <c>--build-arg-file</c>, else by the stage's <c>%arguments</c> default
/// (which may itself name other arguments). A use on a line that a <c>#</c> comments out is left alone, and a name
/// with no value anywhere is an error that names its line.
/// </summary>
public static partial class BuildArguments
{
    /// <summary>Reads <c>--build-arg-file</c> (KEY=VALUE lines, blank and # lines skipped) then the <c>--build-arg</c> values, which win.</summary>
    public static IReadOnlyDictionary<string, string> Read(IEnumerable<string> args, string? file, Func<string, string> readFile, ICollection<string> warnings)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (file is not null)
        {
            string text = readFile(file);
            foreach (string raw in text.Split('\n'))
            {
                string line = raw.Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }
                if (TrySplit(line, out string? key, out string? value))
                {
                    values[key] = value;
                }
                else
                {
                    warnings.Add($"skipping \"{line}\" in the build argument file {file}: it is not NAME=VALUE");
                }
            }
        }
        foreach (string arg in args)
        {
            if (!TrySplit(arg, out string? key, out string? value))
            {
                throw new BurrowException($"--build-arg \"{arg}\" is not NAME=VALUE", "for example --build-arg VERSION=1.2", ExitCodes.Usage);
            }
            values[key] = value;
        }
        return values;
    }

    /// <summary>The defaults of a stage's %arguments section (NAME=VALUE lines); a malformed line is a warning.</summary>
    internal static IReadOnlyDictionary<string, string> Defaults(DefinitionScript? section, string path, ICollection<string> warnings)
    {
        var defaults = new Dictionary<string, string>(StringComparer.Ordinal);
        if (section is null)
        {
            return defaults;
        }
        string[] lines = section.Text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            if (TrySplit(line, out string? key, out string? value))
            {
                defaults[key] = value;
            }
            else
            {
                warnings.Add($"definition file {path}, line {section.FileLine(i + 1)}, section %arguments: skipping \"{line}\": it is not NAME=VALUE");
            }
        }
        return defaults;
    }

    /// <summary>Replaces every <c>{{ NAME }}</c> outside comments; the names used are added to <paramref name="consumed"/>.</summary>
    internal static string Substitute(string text, IReadOnlyDictionary<string, string> given, IReadOnlyDictionary<string, string> defaults,
        ISet<string> consumed, string path, int firstLine)
    {
        MatchCollection uses = Use().Matches(text);
        if (uses.Count == 0)
        {
            return text;
        }
        var sb = new StringBuilder(text.Length);
        int done = 0;
        foreach (Match m in uses)
        {
            int lineStart = text.LastIndexOf('\n', Math.Max(0, m.Index - 1)) + 1;
            if (m.Index == 0)
            {
                lineStart = 0;
            }
            if (Commented(text.AsSpan(lineStart, m.Index - lineStart)))
            {
                continue;
            }
            string name = m.Groups[1].Value;
            if (!given.TryGetValue(name, out string? value) && !defaults.TryGetValue(name, out value))
            {
                int line = firstLine + text.AsSpan(0, m.Index).Count('\n');
                throw new DefinitionException(path, line, null, $"the build argument \"{name}\" has no value",
                    $"give it with --build-arg {name}=VALUE or --build-arg-file FILE, or a default in the %arguments section");
            }
            // A default may name other arguments: resolved once, from the given values first.
            // (Apptainer does not count such a use; Burrow does, so that --build-arg RELEASE=13 is not called unused.)
            value = Use().Replace(value, inner =>
            {
                string n = inner.Groups[1].Value;
                if (given.TryGetValue(n, out string? g))
                {
                    consumed.Add(n);
                    return g;
                }
                return defaults.TryGetValue(n, out string? d) ? d : inner.Value;
            });
            sb.Append(text, done, m.Index - done).Append(value);
            done = m.Index + m.Length;
            consumed.Add(name);
        }
        sb.Append(text, done, text.Length - done);
        return sb.ToString();
    }

    /// <summary>Apptainer's rule: a # on the line before the use, followed by something other than ! (a shebang), makes it a comment.</summary>
    private static bool Commented(ReadOnlySpan<char> before)
    {
        for (int i = 0; i < before.Length; i++)
        {
            if (before[i] == '#' && i + 1 < before.Length && before[i + 1] != '!')
            {
                return true;
            }
        }
        return false;
    }

    private static bool TrySplit(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        key = null;
        value = null;
        int eq = text.IndexOf('=');
        if (eq <= 0 || text[..eq].Trim() is not { Length: > 0 } k)
        {
            return false;
        }
        key = k;
        value = text[(eq + 1)..].Trim();
        return true;
    }

    [GeneratedRegex(@"{{\s*(\w+)\s*}}", RegexOptions.CultureInvariant)]
    private static partial Regex Use();
}
