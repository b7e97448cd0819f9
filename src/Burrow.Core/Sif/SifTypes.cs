namespace Burrow.Core.Sif;

/// <summary>What a SIF data object holds (the descriptor's DataType; <c>siftool add --datatype N</c> is the code minus 0x4000).</summary>
public enum SifDataType
{
    Deffile = 0x4001, EnvVar, Labels, Partition, Signature, GenericJson, Generic, CryptoMessage, Sbom,
    /// <summary>Apptainer's addition; siftool 2.8.3 prints it as <c>Unknown</c>.</summary>
    OciRootIndex,
    /// <summary>Apptainer's addition; siftool 2.8.3 prints it as <c>Unknown</c>.</summary>
    OciBlob,
}

/// <summary>File system of a partition object.</summary>
public enum SifFsType
{
    Squash = 1, Ext3, Immutable, Raw, Encrypted,
    /// <summary>Apptainer's addition (unprivileged encryption); unknown to siftool 2.8.3.</summary>
    GocryptfsSquash,
}

/// <summary>Role of a partition object; at most one is <see cref="PrimarySystem"/>.</summary>
public enum SifPartitionType { System = 1, PrimarySystem, Data, Overlay }

/// <summary>Hash of a signature object (Go's crypto.Hash numbering as the reference stores it).</summary>
public enum SifHashType { Sha256 = 1, Sha384, Sha512, Blake2s256, Blake2b256 }

/// <summary>Format of a cryptographic message object.</summary>
public enum SifFormatType { OpenPgp = 1, Pem }

/// <summary>Kind of a cryptographic message object.</summary>
public enum SifMessageType { ClearSignature = 0x100, RsaOaep = 0x200 }

/// <summary>Format of an SBOM object.</summary>
public enum SifSbomFormat { CycloneDxJson = 1, CycloneDxXml, GitHubJson, SpdxJson, SpdxRdf, SpdxTagValue, SpdxYaml, SyftJson }

/// <summary>The display names siftool uses for each enumeration (Apptainer's reference, which adds the OCI types).</summary>
public static class SifNames
{
    public static string Of(SifDataType t) => t switch
    {
        SifDataType.Deffile => "Def.FILE",
        SifDataType.EnvVar => "Env.Vars",
        SifDataType.Labels => "JSON.Labels",
        SifDataType.Partition => "FS",
        SifDataType.Signature => "Signature",
        SifDataType.GenericJson => "JSON.Generic",
        SifDataType.Generic => "Generic/Raw",
        SifDataType.CryptoMessage => "Cryptographic Message",
        SifDataType.Sbom => "SBOM",
        SifDataType.OciRootIndex => "OCI.RootIndex",
        SifDataType.OciBlob => "OCI.Blob",
        _ => "Unknown",
    };

    public static string Of(SifFsType t) => t switch
    {
        SifFsType.Squash => "Squashfs",
        SifFsType.Ext3 => "Ext3",
        SifFsType.Immutable => "Archive",
        SifFsType.Raw => "Raw",
        SifFsType.Encrypted => "Encrypted squashfs",
        SifFsType.GocryptfsSquash => "Gocryptfs squashfs",
        _ => "Unknown",
    };

    public static string Of(SifPartitionType t) => t switch
    {
        SifPartitionType.System => "System",
        SifPartitionType.PrimarySystem => "*System",
        SifPartitionType.Data => "Data",
        SifPartitionType.Overlay => "Overlay",
        _ => "Unknown",
    };

    /// <summary>Go's crypto.Hash.String() for the stored hash type; siftool prints the Go name of whatever number is stored.</summary>
    public static string Of(SifHashType t) => t switch
    {
        SifHashType.Sha256 => "SHA-256",
        SifHashType.Sha384 => "SHA-384",
        SifHashType.Sha512 => "SHA-512",
        SifHashType.Blake2s256 => "BLAKE2s-256",
        SifHashType.Blake2b256 => "BLAKE2b-256",
        _ => "unknown hash value " + (int)t,
    };

    public static string Of(SifFormatType t) => t switch
    {
        SifFormatType.OpenPgp => "OpenPGP",
        SifFormatType.Pem => "PEM",
        _ => "Unknown",
    };

    public static string Of(SifMessageType t) => t switch
    {
        SifMessageType.ClearSignature => "Clear Signature",
        SifMessageType.RsaOaep => "RSA-OAEP",
        _ => "Unknown",
    };

    public static string Of(SifSbomFormat f) => f switch
    {
        SifSbomFormat.CycloneDxJson => "cyclonedx-json",
        SifSbomFormat.CycloneDxXml => "cyclonedx-xml",
        SifSbomFormat.GitHubJson => "github-json",
        SifSbomFormat.SpdxJson => "spdx-json",
        SifSbomFormat.SpdxRdf => "spdx-rdf",
        SifSbomFormat.SpdxTagValue => "spdx-tag-value",
        SifSbomFormat.SpdxYaml => "spdx-yaml",
        SifSbomFormat.SyftJson => "syft-json",
        _ => "unknown",
    };
}
