using System.Formats.Tar;

namespace Burrow.Core.Oci.Layers;

/// <summary>A layer blob already on local disk, with the digests it must have.</summary>
public sealed record LocalLayer(string Path, Digest Digest, Digest? DiffId)
{
    /// <summary>True when this process wrote the file and checked its digest while downloading it: hashing it again proves nothing.</summary>
    public bool DigestVerified { get; init; }
}

/// <summary>
/// Flattens an image's layers into one tar stream in two sequential passes over each layer: the first reads only
/// headers (building the merged tree and checking both the blob digest and the diff_id), the second copies the
/// bytes of the files that survive. Memory is bounded by the number of paths, never by file sizes.
/// </summary>
public static class LayerFlattener
{
    /// <summary>Reads the layers into a merged tree; <paramref name="extend"/> may add generated files before emission.</summary>
    internal static FsTree Merge(IReadOnlyList<LocalLayer> layers)
    {
        var tree = new FsTree();
        for (int i = 0; i < layers.Count; i++)
        {
            LocalLayer layer = layers[i];
            using FileStream file = LayerCompression.OpenFile(layer.Path);
            string compression = LayerCompression.Sniff(file);
            // An uncompressed blob is its own tar: one hash is both its digest and its diff_id.
            bool blobIsTar = compression == "none" && layer.Digest.Algorithm == (layer.DiffId ?? layer.Digest).Algorithm;
            using var compressed = new HashingReadStream(file, layer.Digest, leaveOpen: true) { Enabled = !layer.DigestVerified && !blobIsTar };
            Digest diffId;
            try
            {
                using Stream tarStream = LayerCompression.Decompress(compressed, compression, leaveOpen: true);
                using var uncompressed = new HashingReadStream(tarStream, layer.DiffId ?? layer.Digest, leaveOpen: true);
                using (var reader = new TarReader(uncompressed, leaveOpen: true))
                {
                    new LayerApplier(tree, i, layer.Digest.ToString()).ApplyAll(reader);
                }
                uncompressed.Drain();
                diffId = uncompressed.Finish();
            }
            catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or IOException and not FileNotFoundException)
            {
                throw new ImageFormatException($"layer {layer.Digest}: cannot decompress it: {e.Message}", null, e);
            }
            compressed.Drain();
            Digest actual = layer.DigestVerified ? layer.Digest : blobIsTar ? diffId : compressed.Finish();
            if (actual != layer.Digest)
            {
                throw new ImageFormatException($"layer {layer.Digest}: the blob's digest is {actual}: it was changed or damaged",
                    "remove it from the cache with \"burrow cache clean --type blob --force\" and pull again");
            }
            if (layer.DiffId is { } expected && diffId != expected)
            {
                throw new ImageFormatException($"layer {layer.Digest}: its uncompressed digest {diffId} does not match the config's diff_id {expected}");
            }
        }
        return tree;
    }

    /// <summary>Writes the merged tree as one tar stream, copying file data from the layers in a second pass.</summary>
    internal static void Emit(FsTree tree, IReadOnlyList<LocalLayer> layers, Stream output) =>
        new FlatTarWriter(tree, output).Write(layers.Count, i =>
        {
            FileStream file = LayerCompression.OpenFile(layers[i].Path);
            return LayerCompression.Decompress(file, LayerCompression.Sniff(file), leaveOpen: false);
        });
}
