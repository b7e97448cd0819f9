using System.Text;
using System.Text.Json;
using Burrow.Core.Oci;
using Burrow.Core.Oci.Layers;

namespace Burrow.Core.Images;

/// <summary>
/// What Apptainer writes into an image converted from OCI, so that run/exec/inspect behave the same: ENV as
/// <c>/.singularity.d/env/10-docker2singularity.sh</c>, ENTRYPOINT/CMD as <c>/.singularity.d/runscript</c>,
/// labels as <c>/.singularity.d/labels.json</c>, and the mount points a read-only image must already contain.
/// </summary>
public sealed class SingularityMetadata
{
    public const string EnvFile = "/.singularity.d/env/10-docker2singularity.sh";

    private SingularityMetadata(string environment, string runscript, IReadOnlyDictionary<string, string> labels, string deffile)
    {
        Environment = environment;
        Runscript = runscript;
        Labels = labels;
        Deffile = deffile;
    }

    public string Environment { get; }
    public string Runscript { get; }
    public IReadOnlyDictionary<string, string> Labels { get; }
    public string Deffile { get; }

    public static SingularityMetadata From(OciImageConfig config, string source, string arch)
    {
        OciRuntimeConfig rc = config.Config ?? new OciRuntimeConfig();
        var env = new StringBuilder("#!/bin/sh\n# Converted from the OCI image config by Burrow; values already set by the caller win.\n");
        foreach (string kv in rc.Env ?? [])
        {
            int eq = kv.IndexOf('=');
            if (eq <= 0 || !IsShellName(kv[..eq]))
            {
                continue; // Not a name a shell can export; Apptainer skips these too.
            }
            string name = kv[..eq];
            env.Append("export ").Append(name).Append("=\"${").Append(name).Append(":-").Append(EscapeDoubleQuoted(kv[(eq + 1)..])).Append("}\"\n");
        }
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string v) in rc.Labels ?? [])
        {
            labels[k] = v;
        }
        labels["org.opencontainers.image.architecture"] = arch;
        return new SingularityMetadata(env.ToString(), MakeRunscript(rc.Entrypoint ?? [], rc.Cmd ?? []), labels,
            "bootstrap: docker\nfrom: " + source + "\n");
    }

    /// <summary>
    /// ENTRYPOINT runs with the caller's arguments, or with CMD when there are none; CMD alone is replaced by
    /// arguments. Each word is single-quoted, so nothing in the image config is re-evaluated by the shell.
    /// </summary>
    private static string MakeRunscript(List<string> entrypoint, List<string> cmd)
    {
        var sb = new StringBuilder("#!/bin/sh\n# Converted from the OCI image's ENTRYPOINT and CMD by Burrow.\n");
        string ep = string.Join(' ', entrypoint.Select(Quote));
        string cm = string.Join(' ', cmd.Select(Quote));
        if (entrypoint.Count == 0 && cmd.Count == 0)
        {
            sb.Append("if [ $# -eq 0 ]; then set -- /bin/sh; fi\n");
        }
        else if (entrypoint.Count == 0)
        {
            sb.Append("if [ $# -eq 0 ]; then set -- ").Append(cm).Append("; fi\n");
        }
        else
        {
            sb.Append("if [ $# -eq 0 ]; then set -- ").Append(ep).Append(cmd.Count > 0 ? " " + cm : "").Append("; else set -- ").Append(ep).Append(" \"$@\"; fi\n");
        }
        sb.Append("exec \"$@\"\n");
        return sb.ToString();
    }

    /// <summary>Adds the metadata files and the standard mount points (when missing) to the merged tree.</summary>
    internal void AddTo(FsTree tree)
    {
        const UnixFileMode dir = (UnixFileMode)0b111_101_101;
        const UnixFileMode exe = (UnixFileMode)0b111_101_101;
        const UnixFileMode reg = (UnixFileMode)0b110_100_100;
        foreach (string d in new[] { ".singularity.d", ".singularity.d/env", ".singularity.d/actions", ".singularity.d/libs",
                     "proc", "sys", "dev", "tmp", "var", "var/tmp", "home", "root", "etc", "mnt", "opt", "srv" })
        {
            AddIfMissing(tree, d, new FsInode { Kind = NodeKind.Directory, Mode = d is "tmp" or "var/tmp" ? (UnixFileMode)0b1_111_111_111 : dir, MTime = DateTimeOffset.UnixEpoch }, replace: d.StartsWith(".singularity.d", StringComparison.Ordinal));
        }
        foreach (string f in new[] { "etc/hosts", "etc/resolv.conf", "etc/passwd", "etc/group", "etc/localtime" })
        {
            AddIfMissing(tree, f, File(reg, ""), replace: false);
        }
        AddIfMissing(tree, EnvFile.TrimStart('/'), File(exe, Environment), replace: true);
        AddIfMissing(tree, ".singularity.d/runscript", File(exe, Runscript), replace: true);
        AddIfMissing(tree, ".singularity.d/labels.json", File(reg, LabelsJson()), replace: true);
    }

    public string LabelsJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach ((string k, string v) in Labels)
            {
                w.WriteString(k, v);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>Apptainer's inspect-metadata.json: <c>{"data":{"attributes":{labels, environment, runscript, deffile}},"type":"container"}</c>.</summary>
    public byte[] InspectJson() => WriteInspectJson(Labels.Select(kv => (kv.Key, kv.Value)), [(EnvFile, Environment)], Runscript, Deffile);

    /// <summary>The inspect-metadata.json layout, shared by conversion and by <c>burrow inspect</c> of a sandbox.</summary>
    public static byte[] WriteInspectJson(IEnumerable<(string Name, string Value)> labels, IEnumerable<(string File, string Content)> environment,
        string runscript, string deffile, string test = "", string helpfile = "")
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("data");
            w.WriteStartObject("attributes");
            w.WriteStartObject("labels");
            foreach ((string k, string v) in labels)
            {
                w.WriteString(k, v);
            }
            w.WriteEndObject();
            w.WriteStartObject("environment");
            foreach ((string k, string v) in environment)
            {
                w.WriteString(k, v);
            }
            w.WriteEndObject();
            w.WriteString("runscript", runscript);
            w.WriteString("deffile", deffile);
            // Apptainer's names; only written when the image has them, so older readers see what they always saw.
            if (test.Length > 0)
            {
                w.WriteString("test", test);
            }
            if (helpfile.Length > 0)
            {
                w.WriteString("helpfile", helpfile);
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("type", "container");
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static FsInode File(UnixFileMode mode, string content) =>
        new() { Kind = NodeKind.Regular, Mode = mode, MTime = DateTimeOffset.UnixEpoch, InlineData = Encoding.UTF8.GetBytes(content) };

    /// <summary>Adds a path only if its parents are real directories: never through a symlink an image planted.</summary>
    private static void AddIfMissing(FsTree tree, string path, FsInode inode, bool replace)
    {
        string[] parts = path.Split('/');
        FsNode node = tree.Root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (node.Children is null || !node.Children.TryGetValue(parts[i], out FsNode? child) || !child.IsDirectory)
            {
                return;
            }
            node = child;
        }
        if (node.Children!.TryGetValue(parts[^1], out FsNode? existing) && !(replace && !(existing.IsDirectory && inode.Kind == NodeKind.Directory)))
        {
            return;
        }
        node.Children[parts[^1]] = new FsNode(inode, int.MaxValue);
    }

    private static bool IsShellName(string s) => s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string EscapeDoubleQuoted(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("$", "\\$").Replace("`", "\\`");

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
