using System.CommandLine;
using System.Text;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Oci;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow inspect [--labels|--runscript|--environment|--deffile|--json] IMAGE</c>: the metadata Apptainer's
/// inspect shows, read from the SIF's <c>inspect-metadata.json</c> (an OCI source is pulled into the cache first),
/// or from <c>/.singularity.d</c> of a sandbox directory.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var labels = new Option<bool>("--labels", "-l") { Description = "Show the labels (the default)" };
        var runscript = new Option<bool>("--runscript", "-r") { Description = "Show the runscript" };
        var environment = new Option<bool>("--environment", "-e") { Description = "Show the environment scripts" };
        var deffile = new Option<bool>("--deffile", "-d") { Description = "Show the definition file the image was built from" };
        var json = new Option<bool>("--json", "-j") { Description = "Print the metadata as JSON" };
        var image = new Argument<string>("IMAGE") { Description = "A SIF file, a sandbox directory, or docker://, docker-archive:, oci:, oci-archive:" };
        var command = new Command("inspect", "Show an image's metadata (labels, runscript, environment, definition)");
        foreach (Option o in new Option[] { labels, runscript, environment, deffile, json })
        {
            command.Options.Add(o);
        }
        command.Arguments.Add(image);
        command.SetAction(async (result, ct) =>
        {
            GlobalOptions.Apply(result);
            CliConfig.Load(result); // cache-dir, temp-dir, binary-path
            string reference = result.GetValue(image)!;
            Metadata m = await ReadAsync(reference, ct);
            if (result.GetValue(json))
            {
                Console.Out.WriteLine(Indent(m.Json));
                return 0;
            }
            var sb = new StringBuilder();
            if (result.GetValue(runscript))
            {
                sb.Append(m.Runscript);
            }
            if (result.GetValue(environment))
            {
                foreach ((string file, string content) in m.Environment)
                {
                    sb.Append("=== ").Append(file).Append(" ===\n").Append(content).Append('\n');
                }
            }
            if (result.GetValue(deffile))
            {
                sb.Append(m.Deffile);
            }
            if (result.GetValue(labels) || sb.Length == 0)
            {
                foreach ((string k, string v) in m.Labels)
                {
                    sb.Append(k).Append(": ").Append(v).Append('\n');
                }
            }
            Console.Out.Write(sb.ToString());
            return 0;
        });
        return command;
    }

    private sealed record Metadata(string Json, IReadOnlyList<(string, string)> Labels, string Runscript, IReadOnlyList<(string, string)> Environment, string Deffile);

    private static async Task<Metadata> ReadAsync(string reference, CancellationToken ct)
    {
        if (ImageSource.TryParse(reference) is { } source)
        {
            PulledImage pulled = await new ImagePuller(new ImageCache(ImageCache.DefaultRoot())).PullAsync(source, new PullOptions(), ct);
            return FromSif(pulled.SifPath);
        }
        if (Directory.Exists(reference))
        {
            return FromSandbox(reference);
        }
        if (File.Exists(reference))
        {
            return FromSif(reference);
        }
        throw new BurrowException($"image {reference} does not exist", "give a SIF file, a sandbox directory or an OCI source such as docker://alpine");
    }

    private static Metadata FromSif(string path)
    {
        byte[] json;
        try
        {
            using SifImage sif = SifImage.Open(path);
            SifDescriptor d = sif.ByName("inspect-metadata.json").FirstOrDefault(x => x.Type == SifDataType.GenericJson)
                ?? throw new BurrowException($"image {path} has no inspect-metadata.json object", "it was not built by Burrow or Apptainer ≥ 1.0");
            json = sif.ReadObject(d);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"image {path}: cannot read it as a SIF file: {e.Message}");
        }
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            JsonElement attrs = doc.RootElement.GetProperty("data").GetProperty("attributes");
            return new Metadata(Encoding.UTF8.GetString(json), Pairs(attrs, "labels"), Str(attrs, "runscript"), Pairs(attrs, "environment"), Str(attrs, "deffile"));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new BurrowException($"image {path}: inspect-metadata.json is not valid: {e.Message}");
        }
    }

    private static Metadata FromSandbox(string dir)
    {
        string meta = Path.Combine(dir, ".singularity.d");
        string Read(string p) => File.Exists(Path.Combine(meta, p)) ? File.ReadAllText(Path.Combine(meta, p)) : "";
        var labels = new List<(string, string)>();
        string labelsJson = Read("labels.json");
        if (labelsJson.Length > 0)
        {
            using JsonDocument doc = JsonDocument.Parse(labelsJson);
            labels.AddRange(doc.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.ToString())));
        }
        var env = new List<(string, string)>();
        if (Directory.Exists(Path.Combine(meta, "env")))
        {
            env.AddRange(Directory.GetFiles(Path.Combine(meta, "env")).Order(StringComparer.Ordinal).Select(f => ("/.singularity.d/env/" + Path.GetFileName(f), File.ReadAllText(f))));
        }
        string runscript = Read("runscript");
        string deffile = Read("Singularity");
        byte[] json = SingularityMetadata.WriteInspectJson(labels, env, runscript, deffile);
        return new Metadata(Encoding.UTF8.GetString(json), labels, runscript, env, deffile);
    }

    private static List<(string, string)> Pairs(JsonElement attrs, string name) =>
        attrs.TryGetProperty(name, out JsonElement o) && o.ValueKind == JsonValueKind.Object
            ? o.EnumerateObject().Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.ToString())).ToList()
            : [];

    private static string Str(JsonElement attrs, string name) =>
        attrs.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static string Indent(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            doc.WriteTo(w);
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
