using System.Text;

namespace Burrow.Core.Build;

/// <summary>Collects one stage's sections as the parser meets them, then makes the immutable <see cref="DefinitionStage"/>.</summary>
internal sealed class SectionCollector(string path)
{
    private readonly Dictionary<string, (StringBuilder Text, string Args, int Line)> _scripts = new(StringComparer.Ordinal);
    private readonly List<FilesSection> _files = [];
    private readonly List<LabelLine> _labels = [];
    private readonly List<string> _appOrder = [];
    private readonly Dictionary<string, Dictionary<string, (StringBuilder Text, string Args, int Line)>> _apps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<LabelLine>> _appLabels = new(StringComparer.Ordinal);

    public bool IsEmpty => _scripts.Count == 0 && _files.Count == 0 && _labels.Count == 0 && _appOrder.Count == 0;

    /// <summary>Adds a section: <paramref name="heading"/> is its % line (trimmed), <paramref name="line"/> that line's number.</summary>
    public void Add(string heading, string body, int line)
    {
        string rest = heading[1..];
        int space = rest.IndexOfAny([' ', '\t']);
        string name = (space < 0 ? rest : rest[..space]).ToLowerInvariant();
        string args = space < 0 ? "" : rest[(space + 1)..].Trim();
        if (name == "files")
        {
            AddFiles(args, body, line);
            return;
        }
        if (name == "labels")
        {
            _labels.AddRange(Labels(body, line));
        }
        if (DefinitionParser.AppSections.Contains(name))
        {
            AddApp(name, args, body, line);
            return;
        }
        if (!DefinitionParser.Sections.Contains(name))
        {
            throw new DefinitionException(path, line, "%" + name, $"unknown section %{name}",
                "sections are %help %setup %files %labels %environment %post %runscript %startscript %test %arguments and the %app… sections; "
                + "a line of a script may not start with %");
        }
        Append(_scripts, name, args, body, line);
    }

    public DefinitionStage Build(Dictionary<string, string> header, Dictionary<string, int> headerLines, string raw, int firstLine) => new()
    {
        Header = header,
        HeaderLines = headerLines,
        Raw = raw,
        FirstLine = firstLine,
        Help = Script(_scripts, "help"),
        Setup = Script(_scripts, "setup"),
        Pre = Script(_scripts, "pre"),
        Post = Script(_scripts, "post"),
        Runscript = Script(_scripts, "runscript"),
        Startscript = Script(_scripts, "startscript"),
        Test = Script(_scripts, "test"),
        Environment = Script(_scripts, "environment"),
        Arguments = Script(_scripts, "arguments"),
        Labels = _labels,
        Files = _files,
        Apps = _appOrder.Select(name => new AppDefinition(name)
        {
            Install = Script(_apps[name], "appinstall"),
            Files = Script(_apps[name], "appfiles"),
            Environment = Script(_apps[name], "appenv"),
            Test = Script(_apps[name], "apptest"),
            Help = Script(_apps[name], "apphelp"),
            Run = Script(_apps[name], "apprun"),
            Start = Script(_apps[name], "appstart"),
            Labels = _appLabels.TryGetValue(name, out List<LabelLine>? l) ? l : [],
        }).ToArray(),
    };

    private void AddApp(string section, string args, string body, int line)
    {
        string[] words = args.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0].StartsWith('#'))
        {
            throw new DefinitionException(path, line, "%" + section, $"%{section} needs the app's name (%{section} NAME)");
        }
        string app = words[0];
        if (!_apps.TryGetValue(app, out var sections))
        {
            sections = new Dictionary<string, (StringBuilder, string, int)>(StringComparer.Ordinal);
            _apps[app] = sections;
            _appOrder.Add(app);
        }
        if (section == "applabels")
        {
            if (!_appLabels.TryGetValue(app, out List<LabelLine>? labels))
            {
                _appLabels[app] = labels = [];
            }
            labels.AddRange(Labels(body, line));
        }
        Append(sections, section, "", body, line);
    }

    private void AddFiles(string args, string body, int line)
    {
        string clean = args.Split('#')[0].Trim();
        string? from = null;
        if (clean.Length > 0)
        {
            string[] words = clean.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != 2 || !words[0].Equals("from", StringComparison.OrdinalIgnoreCase))
            {
                throw new DefinitionException(path, line, "%files", $"\"%files {clean}\" is not understood",
                    "use %files to copy from the host, or %files from STAGE to copy from an earlier stage");
            }
            from = words[1];
        }
        var transfers = new List<FileTransfer>();
        string[] lines = body.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string l = lines[i].Trim();
            if (l.Length == 0 || l[0] == '#')
            {
                continue;
            }
            IReadOnlyList<string> words = FilesLine.Split(l);
            int number = line + 1 + i;
            if (words.Count > 2)
            {
                throw new DefinitionException(path, number, "%files",
                    $"\"{l}\" names more than a source and a destination", "quote a path that holds spaces: \"my file\" /opt/");
            }
            transfers.Add(new FileTransfer(words[0], words.Count > 1 ? words[1] : "", number));
        }
        _files.Add(new FilesSection(from, transfers, line));
    }

    /// <summary>%labels lines: <c>KEY VALUE…</c> (the value may hold spaces); blank and # lines skipped.</summary>
    private static IEnumerable<LabelLine> Labels(string body, int line)
    {
        string[] lines = body.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string l = lines[i].Trim();
            if (l.Length == 0 || l[0] == '#')
            {
                continue;
            }
            int space = l.IndexOfAny([' ', '\t']);
            yield return space < 0 ? new LabelLine(l, "", line + 1 + i) : new LabelLine(l[..space], l[(space + 1)..].Trim(), line + 1 + i);
        }
    }

    private static void Append(Dictionary<string, (StringBuilder Text, string Args, int Line)> into, string name, string args, string body, int line)
    {
        if (into.TryGetValue(name, out var existing))
        {
            existing.Text.Append(body);
            into[name] = (existing.Text, args.Length > 0 ? args : existing.Args, existing.Line);
            return;
        }
        into[name] = (new StringBuilder(body), args, line);
    }

    private static DefinitionScript? Script(Dictionary<string, (StringBuilder Text, string Args, int Line)> from, string name) =>
        from.TryGetValue(name, out var s) ? new DefinitionScript(s.Text.ToString(), s.Args, s.Line) : null;
}

/// <summary>Splits a %files line into paths at white space, keeping "double" or 'single' quoted paths whole; a # word ends it.</summary>
internal static class FilesLine
{
    public static IReadOnlyList<string> Split(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in line)
        {
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    current.Append(c);
                }
                continue;
            }
            if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }
                continue;
            }
            if (c == '#' && !inWord)
            {
                break; // a comment after the paths
            }
            current.Append(c);
            inWord = true;
        }
        if (inWord)
        {
            words.Add(current.ToString());
        }
        return words;
    }
}
