using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Sharing;

/// <summary>
/// Which containers may share one image server: the same user, the same squashfs (the same file by device, inode,
/// size and modification time, at the same offset), the same identity (the user namespace they share has these maps,
/// so that the image's owners look the same to each of them), and under Slurm the same job step (a step's processes
/// are killed when it ends; a server started by one step must not serve another).
/// </summary>
public sealed record SharedImageKey(string Text)
{
    public static SharedImageKey For(RootFsPlan root, IdentityPlan identity, uint uid, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(environment);
        FileStatus st = FileStatus.OfPathOrError(root.HostPath);
        SquashfsLocation where = root.Squashfs ?? new SquashfsLocation(0, st.Size);
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"uid {uid}\n");
        s.Append(CultureInfo.InvariantCulture, $"image {Fingerprint(st)} {where.Offset} {where.Length}\n");
        s.Append(CultureInfo.InvariantCulture, $"maps {Maps(identity.UidMap)} / {Maps(identity.GidMap)} setgroups {identity.AllowSetgroups} writer {identity.Writer}\n");
        s.Append(CultureInfo.InvariantCulture, $"slurm {environment("SLURM_JOB_ID")}.{environment("SLURM_STEP_ID")}\n");
        return new SharedImageKey(s.ToString());
    }

    /// <summary>The file as it is now: what the server checks again on the descriptor it opens.</summary>
    public static string Fingerprint(FileStatus st) =>
        string.Create(CultureInfo.InvariantCulture, $"{st.DeviceMajor}:{st.DeviceMinor}:{st.Inode}:{st.Size}:{st.ModifiedSeconds}.{st.ModifiedNanoseconds:D9}");

    /// <summary>The name of the server's directory: 128 bits of the key's SHA-256.</summary>
    public string DirectoryName => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Text))[..16]);

    private static string Maps(IReadOnlyList<IdMapEntry> map) =>
        string.Join(",", map.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.ContainerId}:{e.HostId}:{e.Count}")));
}
