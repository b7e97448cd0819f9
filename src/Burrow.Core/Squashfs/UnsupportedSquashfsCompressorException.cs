using Burrow.Core.Diagnostics;

namespace Burrow.Core.Squashfs;

/// <summary>
/// The image is well formed but uses a compressor this reader cannot decode here (legacy lzma, or lzo without
/// Debian's liblzo2-2). A caller can fall back to squashfuse_ll or unsquashfs; uncaught, the CLI prints it as one
/// ERROR line with the package to install.
/// </summary>
public sealed class UnsupportedSquashfsCompressorException : BurrowException
{
    internal UnsupportedSquashfsCompressorException(string image, SquashfsCompressor compressor, string reason, string hint)
        : base($"squashfs image {image} uses the {SquashfsCompressors.Name(compressor)} compressor, which Burrow cannot read: {reason}", hint)
    {
        Image = image;
        Compressor = compressor;
    }

    public string Image { get; }

    public SquashfsCompressor Compressor { get; }
}
