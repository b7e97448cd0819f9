using System.Text;
using System.Text.Json;
using Burrow.Core.Build.Tasks;

namespace Burrow.Core.Build;

/// <summary>
/// The files <c>apptainer build</c> puts into an image, as <see cref="GeneratedFile"/>s for the build's write task:
/// the base directories and empty host files every image needs as mount points, <c>/.singularity.d</c>'s scripts
/// made from the sections (runscript, startscript, test, runscript.help, env/90-environment.sh, the recipe), and the
/// SCIF layout of the <c>%app*</c> sections under <c>/scif</c>.
/// </summary>
public static class ImageLayout
{
    public const string Meta = "/.singularity.d";
    public const string EnvironmentScript = Meta + "/env/90-environment.sh";

    /// <summary>What %post appends exports to ($APPTAINER_ENVIRONMENT); it is sourced after 90-environment.sh.</summary>
    public const string PostEnvironmentScript = Meta + "/env/91-environment.sh";

    /// <summary>What %post appends KEY VALUE label lines to ($APPTAINER_LABELS); read into labels.json, then removed.</summary>
    public const string PostLabels = "/.build.labels";

    public const string Deffile = Meta + "/Singularity";
    public const string LabelsJson = Meta + "/labels.json";

    private const int Dir = 0x1ed, Exe = 0x1ed, Reg = 0x1a4;

    /// <summary>Directories and files every image has (existing ones are left alone).</summary>
    public static IReadOnlyList<GeneratedFile> Base() =>
    [
        .. new[] { Meta, Meta + "/libs", Meta + "/actions", Meta + "/env", "/dev", "/proc", "/root", "/var", "/var/tmp", "/tmp", "/etc", "/sys", "/home" }
            .Select(d => new GeneratedFile(d, "", d is "/tmp" or "/var/tmp" ? 0x3ff : d == "/root" ? 0x1c0 : Dir) { Type = 'd', KeepExisting = true }),
        new GeneratedFile("/etc/hosts", "", Reg) { KeepExisting = true },
        new GeneratedFile("/etc/resolv.conf", "", Reg) { KeepExisting = true },
        new GeneratedFile("/singularity", ".singularity.d/runscript", 0) { Type = 'l', KeepExisting = true },
        new GeneratedFile("/environment", ".singularity.d/env/90-environment.sh", 0) { Type = 'l', KeepExisting = true },
    ];

    /// <summary>The scripts of a stage's sections; null sections write nothing (what the bootstrap image had stays).</summary>
    public static IReadOnlyList<GeneratedFile> Scripts(DefinitionStage stage, Func<string, bool> runs, bool environmentExists)
    {
        var files = new List<GeneratedFile>();
        if (runs("help") && stage.Help is { IsEmpty: false } help)
        {
            files.Add(new GeneratedFile(Meta + "/runscript.help", help.Text.TrimEnd('\n') + "\n", Reg));
        }
        if (runs("environment") && stage.Environment is { IsEmpty: false } env)
        {
            files.Add(environmentExists
                ? new GeneratedFile(EnvironmentScript, "\n" + env.Text + "\n", Exe) { Append = true }
                : new GeneratedFile(EnvironmentScript, "#!/bin/sh\n\n" + env.Text + "\n", Exe));
        }
        if (runs("startscript") && stage.Startscript is { IsEmpty: false } start)
        {
            files.Add(new GeneratedFile(Meta + "/startscript", WithShebang(start), Exe));
        }
        if (runs("runscript") && stage.Runscript is { IsEmpty: false } run)
        {
            files.Add(new GeneratedFile(Meta + "/runscript", WithShebang(run), Exe));
        }
        if (runs("test") && stage.Test is { IsEmpty: false } test)
        {
            files.Add(new GeneratedFile(Meta + "/test", WithShebang(test), Exe));
        }
        return files;
    }

    /// <summary>
    /// A script with its interpreter line: the section's own <c>#!</c> line if it starts with one, else
    /// <c>#!/bin/sh</c>; the section's arguments (<c>%runscript -e</c>) are added to that line.
    /// </summary>
    public static string WithShebang(DefinitionScript script)
    {
        string shebang = "#!/bin/sh";
        string body = script.Text;
        if (script.Text.TrimStart().StartsWith("#!", StringComparison.Ordinal))
        {
            string trimmed = script.Text.TrimStart();
            int nl = trimmed.IndexOf('\n');
            shebang = (nl < 0 ? trimmed : trimmed[..nl]).Trim();
            body = nl < 0 ? "" : trimmed[(nl + 1)..];
        }
        string args = script.Args.Split('#')[0].Trim();
        if (args.Length > 0)
        {
            shebang += " " + args;
        }
        return shebang + "\n\n" + body.TrimEnd('\n') + "\n";
    }

    /// <summary>The SCIF layout of each app (Apptainer's apps plugin): /scif/apps/NAME/{bin,lib,scif/…} and /scif/data/NAME.</summary>
    public static IReadOnlyList<GeneratedFile> Apps(IReadOnlyList<AppDefinition> apps)
    {
        var files = new List<GeneratedFile>();
        if (apps.Count == 0)
        {
            return files;
        }
        var global = new StringBuilder();
        foreach (AppDefinition app in apps)
        {
            string root = "/scif/apps/" + app.Name;
            string meta = root + "/scif";
            string data = "/scif/data/" + app.Name;
            foreach (string d in new[] { "/scif", "/scif/apps", root, root + "/bin", root + "/lib", meta, meta + "/env", "/scif/data", data, data + "/input", data + "/output" })
            {
                files.Add(new GeneratedFile(d, "", Dir) { Type = 'd', KeepExisting = true });
            }
            files.Add(new GeneratedFile(meta + "/env/01-base.sh", AppBaseEnvironment(app.Name), Exe));
            if (app.Environment is { IsEmpty: false } env)
            {
                files.Add(new GeneratedFile(meta + "/env/90-environment.sh", env.Text, Exe));
            }
            if (app.Run is { IsEmpty: false } run)
            {
                files.Add(new GeneratedFile(meta + "/runscript", "#!/bin/sh\n\n" + run.Text + "\n", Exe));
            }
            if (app.Start is { IsEmpty: false } start)
            {
                files.Add(new GeneratedFile(meta + "/startscript", "#!/bin/sh\n\n" + start.Text + "\n", Exe));
            }
            if (app.Test is { IsEmpty: false } test)
            {
                files.Add(new GeneratedFile(meta + "/test", "#!/bin/sh\n\n" + test.Text + "\n", Exe));
            }
            if (app.Help is { IsEmpty: false } help)
            {
                files.Add(new GeneratedFile(meta + "/runscript.help", help.Text, Reg));
            }
            var labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["SCIF_APP_NAME"] = app.Name };
            foreach (LabelLine l in app.Labels)
            {
                labels[l.Key] = l.Value;
            }
            files.Add(new GeneratedFile(meta + "/labels.json", LabelsText(labels), Reg));
            global.Append(AppGlobalEnvironment(app));
        }
        files.Add(new GeneratedFile(Meta + "/env/94-appsbase.sh", global.ToString(), Exe));
        return files;
    }

    /// <summary>What %appinstall runs, appended to %post: in the app's directory, with its base environment.</summary>
    public static string AppInstall(AppDefinition app) =>
        $"\ncd /\n. /scif/apps/{app.Name}/scif/env/01-base.sh\ncd /scif/apps/{app.Name}\n{app.Install?.Text ?? ""}\ncd /\n";

    /// <summary>Labels as labels.json holds them: one object, tab-indented as Apptainer writes it.</summary>
    public static string LabelsText(IEnumerable<KeyValuePair<string, string>> labels)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, IndentCharacter = '\t', IndentSize = 1 }))
        {
            w.WriteStartObject();
            foreach ((string k, string v) in labels)
            {
                w.WriteString(k, v);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string AppBaseEnvironment(string name) =>
        $"#!/bin/sh\n\nSCIF_APPNAME={name}\nSCIF_APPROOT=\"/scif/apps/{name}\"\nSCIF_APPMETA=\"/scif/apps/{name}/scif\"\nSCIF_DATA=\"/scif/data\"\n"
        + $"SCIF_APPDATA=\"/scif/data/{name}\"\nSCIF_APPINPUT=\"/scif/data/{name}/input\"\nSCIF_APPOUTPUT=\"/scif/data/{name}/output\"\n"
        + "export SCIF_APPDATA SCIF_APPNAME SCIF_APPROOT SCIF_APPMETA SCIF_APPINPUT SCIF_APPOUTPUT SCIF_DATA\n";

    /// <summary>The exports /.singularity.d/env/94-appsbase.sh makes for every app (names with only [A-Za-z0-9_]).</summary>
    private static string AppGlobalEnvironment(AppDefinition app)
    {
        string n = new(app.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray());
        var sb = new StringBuilder($"## App Global Exports For: {n}\n\n");
        sb.Append($"SCIF_APPDATA_{n}=/scif/data/{app.Name}\nSCIF_APPMETA_{n}=/scif/apps/{app.Name}/scif\nSCIF_APPROOT_{n}=/scif/apps/{app.Name}\n");
        sb.Append($"SCIF_APPBIN_{n}=/scif/apps/{app.Name}/bin\nSCIF_APPLIB_{n}=/scif/apps/{app.Name}/lib\n\n");
        sb.Append($"export SCIF_APPDATA_{n} SCIF_APPMETA_{n} SCIF_APPROOT_{n} SCIF_APPBIN_{n} SCIF_APPLIB_{n}\n");
        if (app.Environment is { IsEmpty: false })
        {
            sb.Append($"export SCIF_APPENV_{n}=\"/scif/apps/{app.Name}/scif/env/90-environment.sh\"\n");
        }
        sb.Append($"export SCIF_APPLABELS_{n}=\"/scif/apps/{app.Name}/scif/labels.json\"\n");
        if (app.Run is { IsEmpty: false })
        {
            sb.Append($"export SCIF_APPRUN_{n}=\"/scif/apps/{app.Name}/scif/runscript\"\n");
        }
        if (app.Start is { IsEmpty: false })
        {
            sb.Append($"export SCIF_APPSTART_{n}=\"/scif/apps/{app.Name}/scif/startscript\"\n");
        }
        return sb.Append('\n').ToString();
    }
}
