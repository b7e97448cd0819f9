using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// One <c>--overlay DIR[:ro]</c>: a host directory laid over the image. Writable, its <c>upper/</c> keeps the changes
/// and <c>work/</c> is overlayfs's scratch space (both made on first use, Apptainer's layout); read-only, its
/// <c>upper/</c> (or the directory itself, if it has none) is one more lower layer.
/// </summary>
public sealed record OverlaySpec(string Directory, bool ReadOnly, string Given)
{
    public string Upper => Directory.TrimEnd('/') + "/upper";

    public string Work => Directory.TrimEnd('/') + "/work";

    public static IReadOnlyList<OverlaySpec> ParseAll(IEnumerable<string> values, string hostCwd) =>
        values.Select(v => Parse(v, hostCwd)).ToArray();

    public static OverlaySpec Parse(string given, string hostCwd)
    {
        string path = given;
        bool readOnly = false;
        int colon = given.LastIndexOf(':');
        if (colon >= 0 && given[(colon + 1)..] is "ro" or "rw")
        {
            readOnly = given[(colon + 1)..] == "ro";
            path = given[..colon];
        }
        if (path.Length == 0)
        {
            throw new BurrowException($"--overlay {given}: no directory given", "for example --overlay ~/my-overlay or --overlay /data/layer:ro");
        }
        return new OverlaySpec(Path.GetFullPath(path, hostCwd), readOnly, given);
    }
}
