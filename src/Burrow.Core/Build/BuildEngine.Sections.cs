using System.Globalization;
using System.Text;
using Burrow.Core.Build.Tasks;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Runtime.Planning;
using Burrow.Core.Sif;
using Burrow.Linux;

namespace Burrow.Core.Build;

/// <summary>The sections: %files, %setup, %post (with the %appinstall scripts), and the metadata they leave.</summary>
public sealed partial class BuildEngine
{
    /// <summary>What %post is told (Apptainer's names): where to append exports and labels.</summary>
    private static readonly string[] s_postEnvironment =
    [
        "APPTAINER_ENVIRONMENT=" + ImageLayout.PostEnvironmentScript, "SINGULARITY_ENVIRONMENT=" + ImageLayout.PostEnvironmentScript,
        "APPTAINER_LABELS=" + ImageLayout.PostLabels, "SINGULARITY_LABELS=" + ImageLayout.PostLabels,
    ];

    private const string PostScript = "/.post.script";

    private void CopyFiles(StageState stage, bool fromStages)
    {
        var copies = new List<FileCopy>();
        foreach (FilesSection section in stage.Definition.Files.Where(f => (f.FromStage is not null) == fromStages))
        {
            string? sourceRoot = section.FromStage is { } name ? _named[name].Root : null;
            foreach (FileTransfer t in section.Files)
            {
                Log.Info($"Copying {t.Source} to {(t.Destination.Length > 0 ? t.Destination : t.Source)}" + (section.FromStage is { } s ? $" (from stage {s})" : ""));
                string source = sourceRoot is null ? Path.GetFullPath(t.Source, _options.WorkingDirectory) : t.Source;
                if (sourceRoot is null && source.IndexOfAny(['*', '?']) < 0 && FileStatus.OfPath(source, followSymlinks: false) is null)
                {
                    // Checked here, where the definition's name and line are known, before any copying starts.
                    throw new DefinitionException(_definition.Path, t.Line, "%files", $"the source {t.Source} does not exist ({source})",
                        "a relative source is relative to the directory burrow build runs in");
                }
                copies.Add(new FileCopy(source, t.Destination, sourceRoot, t.Line));
            }
        }
        if (copies.Count > 0)
        {
            _ns.Run(new BuildTask { Kind = BuildTaskKind.Copy, Root = stage.Root, Copies = copies }, "copying the %files");
        }
    }

    /// <summary>%appfiles: host files into /scif/apps/NAME (each line SRC [DST], DST relative to the app's directory).</summary>
    private void CopyAppFiles(StageState stage)
    {
        var copies = new List<FileCopy>();
        foreach (AppDefinition app in stage.Definition.Apps.Where(a => a.Files is { IsEmpty: false }))
        {
            string[] lines = app.Files!.Text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].Split('#')[0].Trim();
                if (line.Length == 0)
                {
                    continue;
                }
                IReadOnlyList<string> words = FilesLine.Split(line);
                string dst = "/scif/apps/" + app.Name + "/" + (words.Count > 1 ? words[1] : words[0]).TrimStart('/');
                copies.Add(new FileCopy(Path.GetFullPath(words[0], _options.WorkingDirectory), dst, null, app.Files.FileLine(i + 1)));
            }
        }
        if (copies.Count > 0)
        {
            _ns.Run(new BuildTask { Kind = BuildTaskKind.Copy, Root = stage.Root, Copies = copies }, "copying the %appfiles");
        }
    }

    /// <summary>%setup on the host, as root of the build's namespace, with $APPTAINER_ROOTFS naming the root file system.</summary>
    private void RunSetup(StageState stage, DefinitionScript setup)
    {
        Log.Info("Running setup scriptlet");
        string script = Path.Combine(_workspace, "setup-" + stage.Index.ToString(CultureInfo.InvariantCulture) + ".sh");
        File.WriteAllText(script, setup.Text);
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            env.Add(e.Key + "=" + e.Value);
        }
        env.AddRange(["APPTAINER_ROOTFS=" + stage.Root, "SINGULARITY_ROOTFS=" + stage.Root, .. s_postEnvironment[..2]]);
        int status = _ns.Exec(new BuildTask
        {
            Kind = BuildTaskKind.Exec,
            Argv = ScriptCommand.Argv(setup, script, "%setup", _definition.Path),
            Env = env,
            Cwd = _options.WorkingDirectory,
        });
        File.Delete(script);
        if (status != 0)
        {
            throw new BurrowException($"%setup failed with exit status {status} ({_definition.Path}, section %setup from line {setup.Line})", null, status);
        }
    }

    /// <summary>%post, then each %appinstall, in one script run in a writable container of the stage.</summary>
    private void RunPost(StageState stage)
    {
        DefinitionStage d = stage.Definition;
        var script = new ComposedScript();
        if (d.Post is { IsEmpty: false } post)
        {
            script.Add(post.Text, "%post", post);
        }
        foreach (AppDefinition app in d.Apps.Where(a => a.Install is { IsEmpty: false }))
        {
            script.AddApp(app);
        }
        if (script.IsEmpty)
        {
            return;
        }
        DefinitionScript section = d.Post ?? new DefinitionScript("", "", d.FirstLine);
        Log.Info("Running post scriptlet");
        _ns.Run(new BuildTask { Kind = BuildTaskKind.Write, Root = stage.Root, Files = [new GeneratedFile(PostScript, script.Text, 0x1ed)] },
            "writing the %post script");
        int status;
        string? last;
        using (var trace = new ScriptTrace())
        {
            try
            {
                status = _containers.Run(stage.Root, ActionKind.Exec, ScriptCommand.Argv(section, PostScript, "%post", _definition.Path), s_postEnvironment,
                    writable: true, new LaunchStdio { StandardError = trace.WriteDescriptor });
            }
            finally
            {
                trace.Finish();
            }
            last = trace.LastCommand;
        }
        _ns.Run(new BuildTask { Kind = BuildTaskKind.Write, Root = stage.Root, Files = [new GeneratedFile(PostScript, "", 0) { Type = 'r' }] },
            "removing the %post script");
        if (status != 0)
        {
            throw script.Failure(status, last, _definition.Path);
        }
    }

    /// <summary>The /.singularity.d files the stage's sections make, and labels.json with the build's labels.</summary>
    private void WriteMetadata(StageState stage)
    {
        DefinitionStage d = stage.Definition;
        var files = new List<GeneratedFile>();
        using (RootDirectory root = RootDirectory.Open(stage.Root))
        {
            if (_options.Runs("help") && d.Help is { IsEmpty: false })
            {
                Log.Info("Adding help info");
            }
            if (_options.Runs("environment") && d.Environment is { IsEmpty: false })
            {
                Log.Info("Adding environment to container");
            }
            if (_options.Runs("startscript") && d.Startscript is { IsEmpty: false })
            {
                Log.Info("Adding startscript");
            }
            if (_options.Runs("runscript") && d.Runscript is { IsEmpty: false })
            {
                Log.Info("Adding runscript");
            }
            if (_options.Runs("test") && d.Test is { IsEmpty: false })
            {
                Log.Info("Adding testscript");
            }
            files.AddRange(ImageLayout.Scripts(d, _options.Runs, root.Stat(ImageLayout.EnvironmentScript) is { Kind: FileKind.Regular }));
            files.AddRange(DefinitionHistory(root));
            files.Add(new GeneratedFile(ImageLayout.Deffile, _definition.FullRaw, 0x1a4));
            files.Add(new GeneratedFile(ImageLayout.LabelsJson, ImageLayout.LabelsText(Labels(stage, root)), 0x1a4));
            files.Add(new GeneratedFile(ImageLayout.PostLabels, "", 0) { Type = 'r' });
        }
        _ns.Run(new BuildTask { Kind = BuildTaskKind.Write, Root = stage.Root, Files = files }, "writing the image's metadata");
    }

    /// <summary>A recipe the bootstrap image already records moves to bootstrap_history/ApptainerN (Apptainer's names).</summary>
    private static IEnumerable<GeneratedFile> DefinitionHistory(RootDirectory root)
    {
        if (TryRead(root, ImageLayout.Deffile) is not { } previous)
        {
            yield break;
        }
        string history = ImageLayout.Meta + "/bootstrap_history";
        int n = 0;
        while (root.Exists(history + "/Apptainer" + n.ToString(CultureInfo.InvariantCulture)))
        {
            n++;
        }
        yield return new GeneratedFile(history, "", 0x1ed) { Type = 'd', KeepExisting = true };
        yield return new GeneratedFile(history + "/Apptainer" + n.ToString(CultureInfo.InvariantCulture), previous, 0x1a4);
    }

    /// <summary>
    /// labels.json as Apptainer merges it: the image's own labels, then what %post appended to $APPTAINER_LABELS, then
    /// the build's labels (date, architecture, the header), then %labels, which do not replace a label already there
    /// unless --force (a warning says so).
    /// </summary>
    private SortedDictionary<string, string> Labels(StageState stage, RootDirectory root)
    {
        DefinitionStage d = stage.Definition;
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string v) in ReadLabels(root, ImageLayout.LabelsJson))
        {
            labels[k] = v;
        }
        foreach (string line in (TryRead(root, ImageLayout.PostLabels) ?? "").Split('\n'))
        {
            string l = line.Trim();
            if (l.Length == 0 || l[0] == '#')
            {
                continue;
            }
            int space = l.IndexOfAny([' ', '\t']);
            labels[space < 0 ? l : l[..space]] = space < 0 ? "" : l[(space + 1)..].Trim();
        }
        DateTimeOffset now = DateTimeOffset.Now;
        labels["org.label-schema.schema-version"] = "1.0";
        labels["org.opencontainers.image.created"] = now.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        labels["org.label-schema.build-date"] = now.ToString("dddd'_'d'_'MMMM'_'yyyy'_'H':'m':'s'_'", CultureInfo.InvariantCulture) + (now.Offset == TimeSpan.Zero ? "UTC" : now.ToString("zzz", CultureInfo.InvariantCulture));
        labels["org.label-schema.usage.burrow.version"] = BurrowVersion();
        if (_options.Runs("help") && d.Help is { IsEmpty: false })
        {
            labels["org.label-schema.usage"] = ImageLayout.Meta + "/runscript.help";
            labels["org.label-schema.usage.apptainer.runscript.help"] = ImageLayout.Meta + "/runscript.help";
        }
        foreach ((string key, string value) in d.Header)
        {
            labels["org.label-schema.usage.singularity.deffile." + key] = value;
        }
        if (stage.BaseName is { } baseName && stage.BaseDigest is { } digest)
        {
            labels["org.opencontainers.image.base.name"] = baseName;
            labels["org.opencontainers.image.base.digest"] = digest;
        }
        labels["org.opencontainers.image.architecture"] = stage.Arch;
        labels["org.label-schema.build-arch"] = stage.Arch;
        if (_options.Runs("labels") && d.Labels.Count > 0)
        {
            Log.Info("Adding labels");
            foreach (LabelLine label in d.Labels)
            {
                if (labels.ContainsKey(label.Key) && !_options.Force)
                {
                    Log.Warning($"Label: {label.Key} already exists and force option is false, not overwriting (line {label.Line})");
                    continue;
                }
                labels[label.Key] = label.Value;
            }
        }
        return labels;
    }

    private static string BurrowVersion()
    {
        string version = System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(
            typeof(BuildEngine).Assembly)?.InformationalVersion ?? "unknown";
        int plus = version.IndexOf('+');
        return plus > 0 ? version[..plus] : version;
    }

    /// <summary>The script %post runs, and for each of its lines the section and the definition line it came from.</summary>
    private sealed class ComposedScript
    {
        private readonly StringBuilder _text = new();
        private readonly List<(string Text, string Section, int Line)> _lines = [];

        public bool IsEmpty => _lines.Count == 0;

        public string Text => _text.ToString();

        public void Add(string body, string section, DefinitionScript source)
        {
            string[] lines = body.Split('\n');
            int count = body.EndsWith('\n') ? lines.Length - 1 : lines.Length;
            for (int i = 0; i < count; i++)
            {
                _text.Append(lines[i]).Append('\n');
                _lines.Add((lines[i], section, source.FileLine(i + 1)));
            }
        }

        public void AddApp(AppDefinition app)
        {
            string section = "%appinstall " + app.Name;
            foreach (string glue in new[] { "cd /", $". /scif/apps/{app.Name}/scif/env/01-base.sh", $"cd /scif/apps/{app.Name}" })
            {
                _text.Append(glue).Append('\n');
                _lines.Add((glue, section, app.Install!.Line));
            }
            Add(app.Install!.Text, section, app.Install);
            _text.Append("cd /\n");
            _lines.Add(("cd /", section, app.Install.Line));
        }

        /// <summary>"%post failed with exit status 100 at line 15 of podman.def: apt-get install -y podman".</summary>
        public BurrowException Failure(int status, string? lastCommand, string path)
        {
            int i = ScriptTrace.Match(_lines.Select(l => l.Text).ToArray(), lastCommand);
            string section = i >= 0 ? _lines[i].Section : _lines[0].Section;
            string where = i >= 0
                ? $"at line {_lines[i].Line} of {path}: {_lines[i].Text.Trim()}"
                : $"in {path} (lines {_lines.Min(l => l.Line)}-{_lines.Max(l => l.Line)})";
            string hint = status == 127 ? "a command of the script was not found in the image"
                : status >= 128 && status < 160 ? $"the script was killed by signal {status - 128}" : "the script's own output above says why";
            return new BurrowException($"{section} failed with exit status {status} {where}", hint, status);
        }
    }
}
