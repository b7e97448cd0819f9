using System.Text;
using System.Text.Json;

namespace Burrow.Core.Images;

/// <summary>
/// What <c>burrow inspect</c> shows of an image (Apptainer's inspect): labels, runscript, environment scripts and the
/// definition file. All of it is the image author's text: it is escaped for the terminal when printed, never here.
/// </summary>
public sealed record ImageMetadata(
    IReadOnlyList<(string Name, string Value)> Labels,
    string Runscript,
    IReadOnlyList<(string File, string Content)> Environment,
    string Deffile)
{
    /// <summary>The inspect-metadata.json this was read from (a SIF's), shown whole by --json; null when built here.</summary>
    public byte[]? SourceJson { get; init; }

    /// <summary>Apptainer's inspect-metadata.json layout (as stored in a SIF Burrow converted).</summary>
    public byte[] InspectJson() => SingularityMetadata.WriteInspectJson(Labels, Environment, Runscript, Deffile);

    /// <summary><see cref="InspectJson"/> indented, for <c>inspect --json</c>; control characters stay JSON-escaped.</summary>
    public string IndentedJson()
    {
        using JsonDocument doc = JsonDocument.Parse(SourceJson ?? InspectJson());
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            doc.WriteTo(w);
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
