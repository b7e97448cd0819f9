namespace Burrow.Core.Sif;

/// <summary>
/// Where each field sits in the 128-byte global header and in a 585-byte descriptor slot (little-endian,
/// packed, as Go's encoding/binary writes them). See shared/docs/sif-format.md §2–3.
/// </summary>
internal static class SifLayout
{
    public const int HeaderSize = 128;
    public const int DescriptorSize = 585;
    public const int DefaultDescriptorCapacity = 48;
    public const long DefaultDescriptorsOffset = 4096;
    public const int PartitionAlignment = 4096;

    /// <summary>Go's time.Time{}.Unix(): what deterministic images store instead of a real time.</summary>
    public const long GoZeroTime = -62135596800;

    /// <summary>Group ids and group links carry this mask; a bare mask means "no group".</summary>
    public const uint GroupMask = 0xF0000000;

    /// <summary>Reading more descriptors than this is refused: beyond any real image, and it bounds the table allocation (~58 MB).</summary>
    public const long MaxDescriptors = 100_000;

    public static ReadOnlySpan<byte> Magic => "SIF_MAGIC\0"u8;
    public static ReadOnlySpan<byte> Version => "01\0"u8;

    public static class Header
    {
        public const int LaunchScript = 0x00, LaunchScriptLength = 32;
        public const int Magic = 0x20, MagicLength = 10;
        public const int Version = 0x2A, VersionLength = 3;
        public const int Arch = 0x2D, ArchLength = 3;
        public const int Id = 0x30, IdLength = 16;
        public const int CreatedAt = 0x40;
        public const int ModifiedAt = 0x48;
        public const int DescriptorsFree = 0x50;
        public const int DescriptorsTotal = 0x58;
        public const int DescriptorsOffset = 0x60;
        public const int DescriptorsSize = 0x68;
        public const int DataOffset = 0x70;
        public const int DataSize = 0x78;

        /// <summary>LaunchScript ‖ Magic ‖ Version ‖ ID: the bytes a signature covers.</summary>
        public const int IntegrityLength = 61;
    }

    public static class Descriptor
    {
        public const int DataType = 0;
        public const int Used = 4;
        public const int Id = 5;
        public const int GroupId = 9;
        public const int LinkedId = 13;
        public const int Offset = 17;
        public const int Size = 25;
        public const int SizeWithPadding = 33;
        public const int CreatedAt = 41;
        public const int ModifiedAt = 49;
        public const int Uid = 57;
        public const int Gid = 65;
        public const int Name = 73, NameLength = 128;
        public const int Extra = 201, ExtraLength = 384;

        /// <summary>DataType ‖ Used ‖ relative ID ‖ LinkedID ‖ Size ‖ CreatedAt ‖ UID ‖ GID ‖ Name ‖ Extra.</summary>
        public const int IntegrityLength = 557;
    }
}
