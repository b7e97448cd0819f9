using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime.Planning;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Core.Sif;

namespace Burrow.Core.Images;

/// <summary>
/// Reads an image's metadata for <c>burrow inspect</c>. From an image root (a sandbox directory today; a SIF's
/// squashfs through the same interface later) it reads <c>/.singularity.d</c> through an <see cref="IImageRootReader"/>,
/// exactly as the runtime reads the image: every path resolved inside the image root (a runscript linked to
/// <c>~/.ssh/id_ed25519</c> names the image's file of that name, not the host's), regular files only (a FIFO never
/// blocks, a link to /dev/zero is not read) and each file capped in size. From a SIF it reads the
/// <c>inspect-metadata.json</c> object Burrow and Apptainer write.
/// </summary>
public static class ImageMetadataReader
{
    public const string MetadataDirectory = "/.singularity.d";

    /// <summary>The most read of any one metadata file (labels, runscript, an environment script, the deffile).</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>The most environment scripts listed.</summary>
    public const int MaxEnvironmentScripts = 256;

    /// <summary>The most read of a SIF's inspect-metadata.json object.</summary>
    public const int MaxSifJsonBytes = 16 << 20;

    /// <summary>
    /// What the user named, parsed as every command parses IMAGE (<see cref="ImageSpec"/>, which refuses a FIFO, a
    /// device or a dangling link as what it is): a sandbox is read through the <see cref="OpenedImage"/>'s root
    /// reader; a SIF (an OCI source is pulled into the cache first) by its inspect-metadata.json object, or, when it
    /// has none (a SIF assembled with <c>sif add</c>, an old Singularity image), through the opened image's root reader
    /// (its squashfs, read in place).
    /// </summary>
    public static async Task<ImageMetadata> ReadAsync(string reference, CancellationToken ct)
    {
        switch (ImageSpec.Parse(reference, Environment.CurrentDirectory))
        {
            case OciImageSpec oci:
                PulledImage pulled = await new ImagePuller(new ImageCache(ImageCache.DefaultRoot())).PullAsync(oci.Source, new PullOptions(), ct).ConfigureAwait(false);
                return FromSif(pulled.SifPath) ?? FromOpened(new SifImageSpec(oci.Given, pulled.SifPath));
            case SifImageSpec sif:
                return FromSif(sif.File) ?? FromOpened(sif);
            case var spec:
                return FromOpened(spec);
        }
    }

    private static ImageMetadata FromOpened(ImageSpec spec)
    {
        using OpenedImage image = ImageOpener.Open(spec, new ImageOpenOptions());
        return FromRoot(image.Reader, spec.Given);
    }

    /// <summary><c>/.singularity.d</c> of an image root, read inside that root.</summary>
    public static ImageMetadata FromRoot(IImageRootReader root, string imageName)
    {
        ArgumentNullException.ThrowIfNull(root);
        string labelsJson = ReadOptional(root, MetadataDirectory + "/labels.json", imageName);
        IReadOnlyList<(string, string)> labels = labelsJson.Length == 0 ? [] : ParseLabels(labelsJson, imageName);
        var env = new List<(string, string)>();
        IReadOnlyList<string> scripts = root.ListFiles(MetadataDirectory + "/env");
        if (scripts.Count > MaxEnvironmentScripts)
        {
            Log.Warning($"image {imageName}: {scripts.Count} environment scripts; only the first {MaxEnvironmentScripts} are shown");
        }
        foreach (string name in scripts.Take(MaxEnvironmentScripts))
        {
            string file = MetadataDirectory + "/env/" + name;
            env.Add((file, ReadOptional(root, file, imageName)));
        }
        string runscript = ReadOptional(root, MetadataDirectory + "/runscript", imageName);
        string deffile = ReadOptional(root, MetadataDirectory + "/Singularity", imageName);
        return new ImageMetadata(labels, runscript, env, deffile);
    }

    /// <summary>
    /// The inspect-metadata.json object of a SIF file; null when it has none but has a root file system to read
    /// instead. Neither is an error.
    /// </summary>
    public static ImageMetadata? FromSif(string path)
    {
        byte[] json;
        using (SifImage sif = SifImage.Open(path))
        {
            SifDescriptor? d = sif.ByName("inspect-metadata.json").FirstOrDefault(x => x.Type == SifDataType.GenericJson);
            if (d is null)
            {
                return sif.PrimarySystemPartition is not null ? null
                    : throw new BurrowException($"image {path} has no inspect-metadata.json object and no root file system", "it holds no container image; list its objects with: burrow sif list " + path);
            }
            if (d.Size > MaxSifJsonBytes)
            {
                throw new BurrowException($"image {path}: its inspect-metadata.json object is {d.Size} bytes, more than the {MaxSifJsonBytes} Burrow reads");
            }
            try
            {
                json = sif.ReadObject(d);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BurrowException($"image {path}: cannot read its inspect-metadata.json object: {FailureText.Reason(e)}", null, ExitCodes.Failure, e);
            }
        }
        return FromInspectJson(json, path);
    }

    /// <summary>Apptainer's <c>{"data":{"attributes":{labels, environment, runscript, deffile}}}</c>.</summary>
    public static ImageMetadata FromInspectJson(byte[] json, string imageName)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("data", out JsonElement data) || data.ValueKind != JsonValueKind.Object
                || !data.TryGetProperty("attributes", out JsonElement attrs) || attrs.ValueKind != JsonValueKind.Object)
            {
                throw new BurrowException($"image {imageName}: inspect-metadata.json has no data.attributes object", "the image's metadata is damaged");
            }
            return new ImageMetadata(Pairs(attrs, "labels"), Str(attrs, "runscript"), Pairs(attrs, "environment"), Str(attrs, "deffile")) { SourceJson = json };
        }
        catch (JsonException e)
        {
            throw new BurrowException($"image {imageName}: inspect-metadata.json is not valid JSON ({Line(e)})", "the image's metadata is damaged");
        }
    }

    /// <summary>labels.json: one JSON object of name → value; other shapes are an error that says which.</summary>
    public static IReadOnlyList<(string, string)> ParseLabels(string text, string imageName)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new BurrowException($"image {imageName}: {MetadataDirectory}/labels.json is a JSON {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object of labels",
                    "it must look like {\"name\": \"value\"}; fix or remove it in the image");
            }
            return doc.RootElement.EnumerateObject()
                .Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))
                .ToList();
        }
        catch (JsonException e)
        {
            throw new BurrowException($"image {imageName}: {MetadataDirectory}/labels.json is not valid JSON ({Line(e)})", "fix or remove it in the image");
        }
    }

    /// <summary>A metadata file: its text, "" when missing, and a warning (not a read) when it is not a regular file.</summary>
    private static string ReadOptional(IImageRootReader root, string containerPath, string imageName)
    {
        switch (root.KindOf(containerPath))
        {
            case PathKind.Missing:
                return "";
            case PathKind.File:
                return root.ReadText(containerPath, MaxFileBytes) ?? "";
            default:
                Log.Warning($"image {imageName}: {containerPath} is not a regular file (a directory, FIFO or device); it is left out");
                return "";
        }
    }

    private static List<(string, string)> Pairs(JsonElement attrs, string name) =>
        attrs.TryGetProperty(name, out JsonElement o) && o.ValueKind == JsonValueKind.Object
            ? o.EnumerateObject().Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText())).ToList()
            : [];

    private static string Str(JsonElement attrs, string name) =>
        attrs.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static string Line(JsonException e) => e.LineNumber is { } line ? $"line {line + 1}: {e.Message.Split('.')[0]}" : e.Message.Split('.')[0];
}
