namespace Burrow.Core.Squashfs;

/// <summary>
/// Builds the <see cref="InvalidDataException"/> for bytes of an image that are not a valid squashfs 4.0 file
/// system. The message names the image, the table or block and its byte position (relative to the start of the
/// squashfs, not of a SIF around it), e.g. "squashfs image app.sif: inode table at byte 1234: …".
/// </summary>
internal static class SquashfsDamage
{
    public static InvalidDataException Create(string image, string where, long position, string defect, Exception? inner = null) =>
        new($"squashfs image {image}: {where} at byte {position}: {defect}", inner);
}
