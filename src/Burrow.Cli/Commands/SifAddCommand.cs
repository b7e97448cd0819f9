using System.CommandLine;
using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

/// <summary><c>burrow sif add</c>: siftool's add with its numeric flags; no group unless --groupid, as siftool.</summary>
public static class SifAddCommand
{
    public static Command Create()
    {
        Argument<string> path = SifCommand.ImageArgument();
        var objectPath = new Argument<string>("object_path") { Description = "File holding the object's data" };
        var dataType = new Option<int>("--datatype") { Description = "The type of data to add [needed]: 1-Deffile, 2-EnvVar, 3-Labels, 4-Partition, 5-Signature, 6-GenericJSON, 7-Generic, 8-CryptoMessage, 9-SBOM, 10-OCI.RootIndex, 11-OCI.Blob" };
        var partType = new Option<int>("--parttype") { Description = "The type of partition (with --datatype 4) [needed]: 1-System, 2-PrimSys, 3-Data, 4-Overlay" };
        var partFs = new Option<int>("--partfs") { Description = "The filesystem used (with --datatype 4) [needed]: 1-Squash, 2-Ext3, 3-ImmuObj, 4-Raw, 5-Encrypted squashfs, 6-Gocryptfs squashfs" };
        var partArch = new Option<string>("--partarch") { Description = "The main architecture used (with --datatype 4) [needed]: 1-386, 2-amd64, 3-arm, 4-arm64, 5-ppc64, 6-ppc64le, 7-mips, 8-mipsle, 9-mips64, 10-mips64le, 11-s390x, 12-riscv64, 13-loong64 (the name works too)" };
        var signHash = new Option<int>("--signhash") { Description = "The signature hash used (with --datatype 5) [needed]: 1-SHA256, 2-SHA384, 3-SHA512, 4-BLAKE2s_256, 5-BLAKE2b_256" };
        var signEntity = new Option<string>("--signentity") { Description = "The entity that signs (with --datatype 5) [needed], e.g. 433FE984155206BD962725E20E8713472A879943" };
        var sbomFormat = new Option<string>("--sbomformat") { Description = "The SBOM format (with --datatype 9): cyclonedx-json, cyclonedx-xml, github-json, spdx-json, spdx-rdf, spdx-tag-value, spdx-yaml, syft-json" };
        var groupId = new Option<uint>("--groupid") { Description = "Set groupid [default: 0, no group]" };
        var link = new Option<uint>("--link") { Description = "Set link pointer to an object ID [default: 0, none]" };
        var alignment = new Option<int?>("--alignment") { Description = "Set alignment [default: 4096 with --datatype 4, 0 otherwise]" };
        var fileName = new Option<string>("--filename") { Description = "Set logical filename/handle [default: none]" };
        var command = new Command("add", "Add data object")
        {
            path, objectPath, dataType, partType, partFs, partArch, signHash, signEntity, sbomFormat, groupId, link, alignment, fileName,
        };
        command.SetAction(result => SifCommand.Run(result, () =>
        {
            SifDataType type = result.GetValue(dataType) is >= 1 and <= 11 and int dt
                ? (SifDataType)(0x4000 + dt)
                : throw new BurrowException("--datatype is required with a value from 1 to 11", "see: burrow sif add --help", ExitCodes.Usage);
            string source = result.GetValue(objectPath)!;
            SifObjectSpec spec = new(type, Stream.Null)
            {
                GroupId = result.GetValue(groupId),
                LinkedId = result.GetValue(link),
                Alignment = result.GetValue(alignment),
                Name = result.GetValue(fileName) ?? "",
            };
            if (type == SifDataType.Partition)
            {
                int pt = result.GetValue(partType), fs = result.GetValue(partFs);
                string? arch = result.GetValue(partArch);
                if (pt == 0 || fs == 0 || string.IsNullOrEmpty(arch) || arch == "0")
                {
                    throw new BurrowException("with partition datatype, --partfs, --parttype and --partarch must be passed", null, ExitCodes.Usage);
                }
                spec = spec with { FsType = (SifFsType)fs, PartitionType = (SifPartitionType)pt, Arch = ArchName(arch) };
            }
            if (type == SifDataType.Signature)
            {
                spec = spec with { HashType = HashType(result.GetValue(signHash)), Entity = Entity(result.GetValue(signEntity) ?? "") };
            }
            if (type == SifDataType.Sbom)
            {
                string format = result.GetValue(sbomFormat) ?? "";
                spec = spec with
                {
                    SbomFormat = Enum.GetValues<SifSbomFormat>().Cast<SifSbomFormat?>().FirstOrDefault(f => SifNames.Of(f!.Value) == format)
                        ?? throw new BurrowException($"unknown SBOM format \"{format}\"", "give --sbomformat one of: cyclonedx-json, cyclonedx-xml, github-json, spdx-json, spdx-rdf, spdx-tag-value, spdx-yaml, syft-json", ExitCodes.Usage),
                };
            }
            using FileStream data = OpenSource(source);
            using SifImage image = SifImage.Open(result.GetValue(path)!, writable: true);
            image.AddObject(spec with { Data = data });
            return 0;
        }));
        return command;
    }

    private static FileStream OpenSource(string source)
    {
        try
        {
            // A regular file only: a FIFO would block for ever, /dev/zero would fill the disk.
            return Burrow.Linux.RegularFile.OpenRead(source);
        }
        catch (Burrow.Linux.NotRegularFileException e)
        {
            throw new BurrowException($"cannot add {source}: it is {Burrow.Linux.FileKindText.Describe(e.Kind)}", "give a regular file", ExitCodes.Failure, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new BurrowException($"cannot read {source}: {SifIoText.Of(e)}", null, ExitCodes.Failure, e);
        }
    }

    /// <summary>siftool takes the arch as a number (1 = 386 …); Burrow also takes the Go name.</summary>
    private static string ArchName(string arch)
    {
        if (int.TryParse(arch, NumberStyles.None, CultureInfo.InvariantCulture, out int code))
        {
            return code >= 1 && code <= SifArch.Names.Count ? SifArch.Names[code - 1]
                : throw new BurrowException($"unknown --partarch {code}", "use 1 to " + SifArch.Names.Count + " or a name: " + string.Join(", ", SifArch.Names), ExitCodes.Usage);
        }
        return SifArch.CodeOf(arch) is not null ? arch
            : throw new BurrowException($"unknown --partarch \"{arch}\"", "use a number or one of: " + string.Join(", ", SifArch.Names), ExitCodes.Usage);
    }

    private static SifHashType HashType(int value) => value is >= 1 and <= 5
        ? (SifHashType)value
        : throw new BurrowException($"invalid hash type: {value}", "give --signhash 1 (SHA256), 2 (SHA384), 3 (SHA512), 4 (BLAKE2s_256) or 5 (BLAKE2b_256)", ExitCodes.Usage);

    private static byte[] Entity(string hex)
    {
        byte[] b;
        try
        {
            b = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new BurrowException($"failed to decode signing entity fingerprint \"{hex}\": not hexadecimal", null, ExitCodes.Usage);
        }
        return b.Length == 20 ? b
            : throw new BurrowException($"invalid signing entity fingerprint length: got {b.Length}, want 20", "give --signentity the 40 hex digits of the key's fingerprint", ExitCodes.Usage);
    }
}
