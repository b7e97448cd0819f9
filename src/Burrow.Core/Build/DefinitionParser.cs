using System.Text;
using System.Text.RegularExpressions;

namespace Burrow.Core.Build;

/// <summary>
/// Reads definition files the way Apptainer's parser does (its <c>pkg/build/types/parser</c>), from text to a
/// <see cref="Definition"/>, with nothing read from disk: stages start at lines beginning <c>Bootstrap:</c>; in each,
/// the lines before the first line whose first word starts with <c>%</c> are the header (<c>Key: value</c>,
/// <c>#</c> comments, <c>\</c> continuations), and every such line starts a section that runs to the next one.
/// Repeated sections are concatenated (the last one's arguments win), <c>%app*</c> sections name their app, and
/// <c>{{ NAME }}</c> is replaced from <c>--build-arg</c>/<c>--build-arg-file</c> values and the stage's
/// <c>%arguments</c> defaults before the stage is read again. Every mistake names the file, the line and the section.
/// </summary>
public static partial class DefinitionParser
{
    /// <summary>Header keywords Apptainer accepts, besides <c>otherurl1</c>, <c>otherurl2</c> ….</summary>
    public static readonly IReadOnlySet<string> HeaderKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "bootstrap", "from", "includecmd", "mirrorurl", "updateurl", "osversion", "include", "library", "registry", "namespace",
        "stage", "product", "user", "regcode", "productpgp", "registerurl", "modules", "fingerprints", "confurl",
        "setopt", "target", "frontend", "filename", "buildargs",
    };

    /// <summary>The sections of an image; the SCIF app sections are in <see cref="AppSections"/>.</summary>
    public static readonly IReadOnlySet<string> Sections = new HashSet<string>(StringComparer.Ordinal)
    {
        "help", "setup", "files", "labels", "environment", "pre", "post", "runscript", "test", "startscript", "arguments",
    };

    public static readonly IReadOnlySet<string> AppSections = new HashSet<string>(StringComparer.Ordinal)
    {
        "appinstall", "applabels", "appfiles", "appenv", "apptest", "apphelp", "apprun", "appstart",
    };

    /// <summary>Parses a whole definition file, substituting build arguments stage by stage.</summary>
    /// <param name="given">--build-arg and --build-arg-file values (they win over %arguments defaults).</param>
    /// <param name="unusedArguments">The given arguments no stage used (Apptainer refuses them unless told to warn).</param>
    public static Definition Parse(string text, string path, IReadOnlyDictionary<string, string> given, out IReadOnlyList<string> unusedArguments)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(given);
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        var warnings = new List<string>();
        var consumed = new HashSet<string>(StringComparer.Ordinal);
        var stages = new List<DefinitionStage>();
        var full = new StringBuilder();
        foreach ((string chunk, int firstLine) in SplitStages(text))
        {
            DefinitionStage? raw = ParseStage(chunk, path, firstLine);
            if (raw is null)
            {
                full.Append(chunk); // comments before the first Bootstrap: line stay in the recipe
                continue;
            }
            IReadOnlyDictionary<string, string> defaults = BuildArguments.Defaults(raw.Arguments, path, warnings);
            string substituted = BuildArguments.Substitute(chunk, given, defaults, consumed, path, firstLine);
            DefinitionStage stage = substituted == chunk ? raw : ParseStage(substituted, path, firstLine)!;
            stages.Add(stage);
            full.Append(substituted);
        }
        if (stages.Count == 0)
        {
            throw new DefinitionException(path, 0, null, "the definition file is empty (no header and no section)",
                "a definition starts with a header such as \"Bootstrap: docker\" and \"From: debian:12\"");
        }
        Validate(stages, path);
        unusedArguments = given.Keys.Where(k => !consumed.Contains(k)).Order(StringComparer.Ordinal).ToArray();
        return new Definition(path, full.ToString(), stages) { Warnings = warnings };
    }

    /// <summary>Parses a definition with no build arguments given; unused ones cannot exist.</summary>
    public static Definition Parse(string text, string path) => Parse(text, path, new Dictionary<string, string>(), out _);

    /// <summary>Splits at every line that starts with <c>Bootstrap:</c> (any case); the text before the first is a stage too.</summary>
    private static IEnumerable<(string Text, int FirstLine)> SplitStages(string text)
    {
        var starts = new List<int> { 0 };
        starts.AddRange(BootstrapLine().Matches(text).Select(m => m.Index).Where(i => i > 0));
        starts.Add(text.Length);
        for (int i = 0; i + 1 < starts.Count; i++)
        {
            if (starts[i + 1] > starts[i])
            {
                yield return (text[starts[i]..starts[i + 1]], LineAt(text, starts[i]));
            }
        }
    }

    private static int LineAt(string text, int index)
    {
        int line = 1;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
            }
        }
        return line;
    }

    /// <summary>One stage's text; null when it holds nothing but blank lines and comments.</summary>
    internal static DefinitionStage? ParseStage(string text, string path, int firstLine)
    {
        string[] lines = text.Split('\n');
        int count = text.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        int firstSection = count;
        for (int i = 0; i < count; i++)
        {
            if (IsSectionLine(lines[i]))
            {
                firstSection = i;
                break;
            }
        }
        (Dictionary<string, string> header, Dictionary<string, int> headerLines) = ParseHeader(lines, firstSection, path, firstLine);

        var builder = new SectionCollector(path);
        for (int i = firstSection; i < count;)
        {
            int end = i + 1;
            while (end < count && !IsSectionLine(lines[end]))
            {
                end++;
            }
            var body = new StringBuilder();
            for (int j = i + 1; j < end; j++)
            {
                body.Append(lines[j]).Append('\n');
            }
            builder.Add(lines[i].Trim(), body.ToString(), firstLine + i);
            i = end;
        }
        if (header.Count == 0 && builder.IsEmpty)
        {
            return null;
        }
        return builder.Build(header, headerLines, text, firstLine);
    }

    /// <summary>A line whose first word starts with % (Apptainer's rule: even inside a script body).</summary>
    private static bool IsSectionLine(string line)
    {
        string t = line.TrimStart();
        return t.Length > 0 && t[0] == '%';
    }

    private static (Dictionary<string, string>, Dictionary<string, int>) ParseHeader(string[] lines, int count, string path, int firstLine)
    {
        var header = new Dictionary<string, string>(StringComparer.Ordinal);
        var where = new Dictionary<string, int>(StringComparer.Ordinal);
        string? contKey = null;
        string contValue = "";
        int contLine = 0;
        for (int i = 0; i < count; i++)
        {
            string line = lines[i].Trim();
            int number = firstLine + i;
            if (line.Length == 0 || line[0] == '#')
            {
                if (contKey is not null)
                {
                    header[contKey] = contValue;
                    contKey = null;
                }
                continue;
            }
            string content = line.Split('#')[0];
            string key, value;
            if (contKey is null)
            {
                int colon = content.IndexOf(':');
                if (colon < 0)
                {
                    throw new DefinitionException(path, number, "header", $"the header line \"{line}\" has no value",
                        "header lines are \"Keyword: value\"; a section starts with % (%post, %files …)");
                }
                key = content[..colon].Trim().ToLowerInvariant();
                value = content[(colon + 1)..].Trim();
                contLine = number;
            }
            else
            {
                key = contKey;
                value = contValue + content.Trim();
                contKey = null;
            }
            if (value.EndsWith('\\'))
            {
                contKey = key;
                contValue = value[..^1];
                if (contValue.EndsWith("\\n", StringComparison.Ordinal))
                {
                    contValue = contValue[..^2] + "\n";
                }
                continue;
            }
            if (!HeaderKeys.Contains(key) && !OtherUrl().IsMatch(key))
            {
                throw new DefinitionException(path, number, "header", $"unknown header keyword \"{key}\"",
                    "known keywords: Bootstrap, From, Stage, OSVersion, MirrorURL, Include, Registry, Namespace, …");
            }
            header[key] = value;
            where[key] = contLine;
        }
        if (contKey is not null)
        {
            header[contKey] = contValue;
            where[contKey] = contLine;
        }
        return (header, where);
    }

    private static void Validate(List<DefinitionStage> stages, string path)
    {
        if (stages.Count > 1)
        {
            DefinitionStage? headless = stages.FirstOrDefault(s => s.Bootstrap is null);
            if (headless is not null)
            {
                throw new DefinitionException(path, headless.FirstLine, "header",
                    "this definition has several stages, and every stage needs a header with Bootstrap:");
            }
        }
        var names = new Dictionary<string, DefinitionStage>(StringComparer.Ordinal);
        foreach (DefinitionStage stage in stages)
        {
            if (stage.Bootstrap is { } agent && !Bootstrap.IsKnown(agent))
            {
                throw new DefinitionException(path, stage.LineOf("bootstrap"), "header", $"unknown bootstrap agent \"{agent}\"",
                    "use one of: " + string.Join(", ", Bootstrap.Agents));
            }
            foreach (FilesSection files in stage.Files.Where(f => f.FromStage is not null))
            {
                if (!names.ContainsKey(files.FromStage!))
                {
                    bool later = stages.Any(s => s.Name == files.FromStage);
                    throw new DefinitionException(path, files.Line, "%files", later
                        ? $"stage \"{files.FromStage}\" is built after this one, so nothing can be copied from it yet"
                        : $"no earlier stage is named \"{files.FromStage}\"", "name a stage with a \"Stage: NAME\" header line");
                }
            }
            if (stage.Name is { } name && !names.TryAdd(name, stage))
            {
                throw new DefinitionException(path, stage.LineOf("stage"), "header", $"two stages are named \"{name}\"");
            }
        }
    }

    [GeneratedRegex(@"^bootstrap:", RegexOptions.Multiline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BootstrapLine();

    [GeneratedRegex(@"^otherurl\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex OtherUrl();
}
