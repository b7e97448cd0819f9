namespace Burrow.Core.Sif;

/// <summary>
/// One object to write: its type and data plus the reference's descriptor options (OptGroupID, OptLinkedID,
/// OptObjectName, OptObjectTime, OptObjectAlignment and the per-type metadata options).
/// </summary>
public sealed record SifObjectSpec(SifDataType Type, Stream Data)
{
    /// <summary>Object name (at most 127 UTF-8 bytes).</summary>
    public string Name { get; init; } = "";

    /// <summary>Group number; the library default is group 1 (as the reference's), 0 for no group.</summary>
    public uint GroupId { get; init; } = 1;

    /// <summary>Linked object id, or linked group when <see cref="LinkIsGroup"/>; 0 for none.</summary>
    public uint LinkedId { get; init; }

    public bool LinkIsGroup { get; init; }

    /// <summary>Object time; null takes the image's create or modify time.</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>Alignment of the data offset; null is the reference default (4096 for partitions, none otherwise), 0 or 1 none.</summary>
    public int? Alignment { get; init; }

    /// <summary>Partition metadata (required for <see cref="SifDataType.Partition"/>).</summary>
    public SifFsType? FsType { get; init; }

    public SifPartitionType? PartitionType { get; init; }

    /// <summary>Go arch name as the reference uses them ("amd64", "arm64", "386", …).</summary>
    public string? Arch { get; init; }

    /// <summary>Signature metadata: the signature's hash and the signer's 20-byte fingerprint (none for DSSE).</summary>
    public SifHashType? HashType { get; init; }

    public byte[]? Entity { get; init; }

    /// <summary>Cryptographic message metadata.</summary>
    public SifFormatType? FormatType { get; init; }

    public SifMessageType? MessageType { get; init; }

    /// <summary>SBOM metadata.</summary>
    public SifSbomFormat? SbomFormat { get; init; }
}

/// <summary>Options of a new image (the reference's OptCreateWith*).</summary>
public sealed record SifCreateOptions
{
    /// <summary>The image ID; null draws a random version-4 UUID (nil when <see cref="Deterministic"/>).</summary>
    public Guid? Id { get; init; }

    /// <summary>Launch script, at most 31 bytes (Apptainer writes "#!/usr/bin/env run-singularity\n").</summary>
    public string LaunchScript { get; init; } = "";

    /// <summary>Creation time; null is now (Go's zero time when <see cref="Deterministic"/>).</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>Nil ID and Go's zero time everywhere, so that equal inputs give equal bytes.</summary>
    public bool Deterministic { get; init; }

    /// <summary>Number of descriptor slots (objects the image can ever hold).</summary>
    public int DescriptorCapacity { get; init; } = SifLayout.DefaultDescriptorCapacity;
}

/// <summary>Options of an edit (add, delete, set primary): the time stamped into header and descriptors.</summary>
public sealed record SifEditOptions
{
    /// <summary>Null is now, except that a deterministic image keeps Go's zero time, as the reference does.</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>Stamp Go's zero time whatever the image is (the reference's Opt*Deterministic).</summary>
    public bool Deterministic { get; init; }
}
