using System.Text;
using Burrow.Core.Oci;
using Burrow.Core.Oci.Layers;
using Burrow.Core.Oci.Sources;
using Burrow.Core.Sif;

namespace Burrow.Core.Images;

/// <summary>
/// Turns verified local layers into a SIF the way <c>apptainer build</c> does for docker sources: a deffile object,
/// generic JSON <c>inspect-metadata.json</c> and <c>oci-config.json</c>, and the squashfs as the primary system
/// partition with the image's architecture, all in group 1.
/// </summary>
public static class OciSifConverter
{
    public static void Convert(OciImage image, IReadOnlyList<LocalLayer> layers, string source, string compression, string workDir, string outSif, CancellationToken ct = default)
    {
        string arch = image.Architecture is { Length: > 0 } a && SifArch.CodeOf(a) is not null ? a : SifArch.Host;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        FsTree tree = LayerFlattener.Merge(layers);
        Diagnostics.Log.Verbose($"layer headers merged and digests checked in {clock.Elapsed.TotalSeconds:0.00} s");
        SingularityMetadata metadata = SingularityMetadata.From(image.Config, source, arch);
        metadata.AddTo(tree);

        string squashfs = Path.Combine(workDir, "rootfs.sqfs");
        try
        {
            SquashfsBuilder.Build(squashfs, compression, tar => LayerFlattener.Emit(tree, layers, tar), ct);
            using FileStream partition = new(squashfs, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            SifObjectSpec[] objects =
            [
                new(SifDataType.Deffile, new MemoryStream(Encoding.UTF8.GetBytes(metadata.Deffile))),
                new(SifDataType.GenericJson, new MemoryStream(metadata.InspectJson())) { Name = "inspect-metadata.json" },
                new(SifDataType.GenericJson, new MemoryStream(image.ConfigBytes)) { Name = "oci-config.json" },
                new(SifDataType.Partition, partition)
                {
                    FsType = SifFsType.Squash,
                    PartitionType = SifPartitionType.PrimarySystem,
                    Arch = arch,
                },
            ];
            SifBuilder.Create(outSif, objects, new SifCreateOptions { LaunchScript = "#!/usr/bin/env run-singularity\n" });
        }
        finally
        {
            File.Delete(squashfs);
        }
    }
}
