using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Sif;

/// <summary>
/// Writing, in the order that keeps a half-finished edit harmless: object data first (beyond every claimed
/// extent), then a barrier, then the descriptor slot with its Used byte written last and alone, then the
/// header. A failure at any point leaves an image whose descriptors claim only bytes that are really there.
/// Layout rules (slot order ids, alignment, SizeWithPadding, DataSize) follow Apptainer's sif v2.
/// </summary>
public sealed partial class SifImage
{
    private const int CopyBufferSize = 1 << 20;

    /// <summary>Adds one object (the reference's AddObject): data, then its descriptor, then the header.</summary>
    public SifDescriptor AddObject(SifObjectSpec spec, SifEditOptions? options = null) => Writing(() => AddObjectCore(spec, options));

    private SifDescriptor AddObjectCore(SifObjectSpec spec, SifEditOptions? options)
    {
        RequireWritable();
        long t = EditTime(options);
        int slot = FreeSlot();
        SifDescriptor d = WriteObjectData(spec, slot, t, Descriptors);
        _storage.Barrier();
        WriteSlot(slot, d);
        _slots[slot] = d;
        Header = Header with
        {
            DescriptorsFree = FreeSlots(),
            DataSize = d.Offset + d.Size - Header.DataOffset,
            ModifiedAtUnix = t,
            RawArch = d.PartitionType == SifPartitionType.PrimarySystem ? d.Extra.Slice(8, 3).ToArray() : Header.RawArch,
        };
        WriteHeader();
        return d;
    }

    /// <summary>
    /// Deletes an object (the reference's DeleteObject). <paramref name="zero"/> overwrites its data with zeros;
    /// <paramref name="compact"/> shrinks the data section and the file to the last remaining object.
    /// </summary>
    public void DeleteObject(uint id, bool zero = false, bool compact = false, SifEditOptions? options = null) =>
        Writing(() => DeleteObjectCore(id, zero, compact, options));

    private bool DeleteObjectCore(uint id, bool zero, bool compact, SifEditOptions? options)
    {
        RequireWritable();
        SifDescriptor d = GetById(id);
        SifDescriptor? linker = Descriptors.FirstOrDefault(o => o.Id != id && o.LinkedId != 0 &&
            (o.LinkIsGroup ? o.LinkedId == d.GroupId && ByGroup(d.GroupId).Count() == 1 : o.LinkedId == id));
        if (linker is not null)
        {
            throw new BurrowException($"cannot delete object {id} from SIF image {Name}: object {linker.Id} links to it",
                $"delete object {linker.Id} first");
        }
        long t = EditTime(options);
        int slot = Array.IndexOf(_slots, d);
        ClearSlot(slot);
        _slots[slot] = null;
        if (zero)
        {
            ZeroRange(d.Offset, d.Size);
        }
        long dataSize = compact ? CalculatedDataSize() : Header.DataSize;
        Header = Header with
        {
            DescriptorsFree = FreeSlots(),
            DataSize = dataSize,
            ModifiedAtUnix = t,
            RawArch = d.PartitionType == SifPartitionType.PrimarySystem ? "00\0"u8.ToArray() : Header.RawArch,
        };
        WriteHeader();
        if (compact)
        {
            _storage.SetLength(Header.DataOffset + dataSize);
            _storage.Barrier();
        }
        return true;
    }

    /// <summary>
    /// Makes a System partition the primary one (the reference's SetPrimPart, with newer sif's fixes: the
    /// partition keeps its arch and both changed descriptors get the new modification time).
    /// </summary>
    public void SetPrimaryPartition(uint id, SifEditOptions? options = null) => Writing(() => SetPrimaryPartitionCore(id, options));

    private bool SetPrimaryPartitionCore(uint id, SifEditOptions? options)
    {
        RequireWritable();
        SifDescriptor d = GetById(id);
        if (!d.IsPartition)
        {
            throw new BurrowException($"cannot make object {id} of SIF image {Name} primary: it is {SifNames.Of(d.Type)}, not a partition");
        }
        if (d.PartitionType == SifPartitionType.PrimarySystem)
        {
            return true;
        }
        if (d.PartitionType != SifPartitionType.System)
        {
            throw new BurrowException($"cannot make object {id} of SIF image {Name} primary: it is a {SifNames.Of(d.PartitionType!.Value)} partition, not a System one");
        }
        long t = EditTime(options);
        // Demote first: a failure in between leaves no primary partition rather than two.
        if (PrimarySystemPartition is { } old)
        {
            ReplaceSlot(old, old.With(modifiedAt: t, extra: WithPartType(old, SifPartitionType.System)));
        }
        SifDescriptor promoted = d.With(modifiedAt: t, extra: WithPartType(d, SifPartitionType.PrimarySystem));
        ReplaceSlot(d, promoted);
        Header = Header with { RawArch = promoted.Extra.Slice(8, 3).ToArray(), ModifiedAtUnix = t };
        WriteHeader();
        return true;
    }

    /// <summary>
    /// Records the digest of an OCI blob or root index object in its descriptor (Apptainer's SetOCIBlobDigest
    /// and SetMetadata): the descriptor and the header get the new modification time.
    /// </summary>
    public void SetOciDigest(uint id, string digest, SifEditOptions? options = null) => Writing(() => SetOciDigestCore(id, digest, options));

    private bool SetOciDigestCore(uint id, string digest, SifEditOptions? options)
    {
        RequireWritable();
        SifDescriptor d = GetById(id);
        if (d.Type is not (SifDataType.OciBlob or SifDataType.OciRootIndex))
        {
            throw new BurrowException($"cannot set a digest on object {id} of SIF image {Name}: it is {SifNames.Of(d.Type)}, not an OCI blob or root index");
        }
        int colon = digest.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || digest.Length >= SifLayout.Descriptor.ExtraLength || !digest[(colon + 1)..].All(char.IsAsciiHexDigitLower)
            || !digest[..colon].All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new BurrowException($"\"{digest}\" is not a digest", "give it as algorithm:lowercase-hex, e.g. sha256:e3b0c442…");
        }
        long t = EditTime(options);
        byte[] extra = new byte[SifLayout.Descriptor.ExtraLength];
        Encoding.ASCII.GetBytes(digest).CopyTo(extra, 0);
        ReplaceSlot(d, d.With(modifiedAt: t, extra: extra));
        Header = Header with { ModifiedAtUnix = t };
        WriteHeader();
        return true;
    }

    /// <summary>A failed write (disk full, I/O error) becomes a user-facing error; the write order has kept the image consistent.</summary>
    private T Writing<T>(Func<T> edit)
    {
        try
        {
            return edit();
        }
        catch (IOException e)
        {
            throw new BurrowException($"cannot write SIF image {Name}: {SifIoText.Of(e)}",
                "the image is still consistent: the change was not applied or only its unclaimed data was written", ExitCodes.Failure, e);
        }
    }

    internal static SifImage CreateInto(SifStorage storage, string name, IReadOnlyList<SifObjectSpec> objects, SifCreateOptions options)
    {
        if (options.DescriptorCapacity < 0 || options.DescriptorCapacity > SifLayout.MaxDescriptors)
        {
            throw new ArgumentException($"descriptor capacity {options.DescriptorCapacity} is outside 0..{SifLayout.MaxDescriptors}", nameof(options));
        }
        byte[] script = Encoding.UTF8.GetBytes(options.LaunchScript);
        if (script.Length >= SifLayout.Header.LaunchScriptLength)
        {
            throw new BurrowException($"launch script of {script.Length} bytes is too long: SIF allows at most 31");
        }
        Array.Resize(ref script, SifLayout.Header.LaunchScriptLength);
        Guid id = options.Deterministic ? options.Id ?? Guid.Empty : options.Id ?? Guid.NewGuid();
        long t = options.Time is { } time ? SifTime.FromDateTime(time) : options.Deterministic ? SifLayout.GoZeroTime : DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long capacity = options.DescriptorCapacity;
        var header = new SifHeader
        {
            RawLaunchScript = script,
            RawVersion = SifLayout.Version.ToArray(),
            RawArch = "00\0"u8.ToArray(),
            RawId = id.ToByteArray(bigEndian: true),
            CreatedAtUnix = t,
            ModifiedAtUnix = t,
            DescriptorsFree = capacity,
            DescriptorsTotal = capacity,
            DescriptorsOffset = SifLayout.DefaultDescriptorsOffset,
            DescriptorsSize = capacity * SifLayout.DescriptorSize,
            DataOffset = SifLayout.DefaultDescriptorsOffset + capacity * SifLayout.DescriptorSize,
            DataSize = 0,
        };
        var image = new SifImage(storage, name, header, new SifDescriptor?[capacity]);
        storage.SetLength(0);
        foreach (SifObjectSpec spec in objects)
        {
            int slot = image.FreeSlot();
            SifDescriptor d = image.WriteObjectData(spec, slot, t, image.Descriptors);
            image._slots[slot] = d;
            image.Header = image.Header with
            {
                DescriptorsFree = image.Header.DescriptorsFree - 1,
                DataSize = d.Offset + d.Size - header.DataOffset,
                RawArch = d.PartitionType == SifPartitionType.PrimarySystem ? d.Extra.Slice(8, 3).ToArray() : image.Header.RawArch,
            };
        }
        storage.Barrier();
        byte[] table = new byte[capacity * SifLayout.DescriptorSize];
        for (int i = 0; i < capacity; i++)
        {
            image._slots[i]?.Encode(table.AsSpan(i * SifLayout.DescriptorSize));
        }
        storage.WriteAt(header.DescriptorsOffset, table);
        if (storage.Length < header.DescriptorsOffset)
        {
            // Even a table of no slots leaves the header area its full 4096 bytes, as the reference's file does.
            storage.SetLength(header.DescriptorsOffset);
        }
        storage.Barrier();
        image.WriteHeader();
        return image;
    }

    /// <summary>Copies one object's data to the end of the data section and returns its (not yet written) descriptor.</summary>
    private SifDescriptor WriteObjectData(SifObjectSpec spec, int slot, long time, IReadOnlyList<SifDescriptor> existing)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(spec.Data);
        byte[] name = Encoding.UTF8.GetBytes(spec.Name);
        if (name.Length >= SifLayout.Descriptor.NameLength)
        {
            throw new BurrowException($"object name \"{spec.Name}\" is {name.Length} bytes: SIF allows at most {SifLayout.Descriptor.NameLength - 1}");
        }
        Array.Resize(ref name, SifLayout.Descriptor.NameLength);
        if (spec.GroupId >= SifLayout.GroupMask || spec.LinkedId >= SifLayout.GroupMask)
        {
            throw new BurrowException($"group or link id {Math.Max(spec.GroupId, spec.LinkedId)} is too large: SIF allows at most {SifLayout.GroupMask - 1}");
        }
        CheckLink(spec, NewId(slot, existing), existing);
        byte[] extra = EncodeExtra(spec, existing);

        long start = Header.DataOffset + CalculatedDataSize();
        int align = spec.Alignment ?? (spec.Type == SifDataType.Partition ? SifLayout.PartitionAlignment : 0);
        if (align < 0)
        {
            throw new BurrowException($"alignment {align} is negative");
        }
        long offset = align <= 1 || start % align == 0 ? start : (start / align + 1) * align;

        using IncrementalHash? sha = spec.Type is SifDataType.OciBlob or SifDataType.OciRootIndex ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        byte[] buffer = new byte[CopyBufferSize];
        long n = 0;
        int r;
        while ((r = spec.Data.Read(buffer)) > 0)
        {
            _storage.WriteAt(offset + n, buffer.AsSpan(0, r));
            sha?.AppendData(buffer, 0, r);
            n += r;
        }
        if (n == 0 && _storage.Length < offset)
        {
            // An empty object still ends where its padding ends, as the reference's file does.
            _storage.SetLength(offset);
        }
        if (sha is not null)
        {
            Encoding.ASCII.GetBytes("sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset())).CopyTo(extra, 0);
        }
        long objectTime = spec.Time is { } ot ? SifTime.FromDateTime(ot) : time;
        uint group = spec.GroupId == 0 ? SifLayout.GroupMask : spec.GroupId | SifLayout.GroupMask;
        uint link = spec.LinkedId == 0 ? 0 : spec.LinkIsGroup ? spec.LinkedId | SifLayout.GroupMask : spec.LinkedId;
        return new SifDescriptor((int)spec.Type, NewId(slot, existing), group, link, offset, n, offset - start + n, objectTime, objectTime, 0, 0, name, extra);
    }

    /// <summary>
    /// The reference's id is the slot number; in an image whose ids do not follow their slots (never one
    /// the reference or Burrow wrote) that id may be taken, and then the smallest free id is used instead.
    /// </summary>
    private static uint NewId(int slot, IReadOnlyList<SifDescriptor> existing)
    {
        var taken = existing.Select(d => d.Id).ToHashSet();
        uint id = (uint)slot + 1;
        if (!taken.Contains(id))
        {
            return id;
        }
        for (id = 1; taken.Contains(id); id++)
        {
        }
        return id;
    }

    private static void CheckLink(SifObjectSpec spec, uint newId, IReadOnlyList<SifDescriptor> existing)
    {
        if (spec.LinkedId == 0)
        {
            return;
        }
        bool found = spec.LinkIsGroup
            ? existing.Any(d => d.GroupId == spec.LinkedId) || spec.GroupId == spec.LinkedId
            : existing.Any(d => d.Id == spec.LinkedId);
        if (!found && !(!spec.LinkIsGroup && spec.LinkedId == newId))
        {
            throw new BurrowException($"cannot link to {(spec.LinkIsGroup ? "group" : "object")} {spec.LinkedId}: it does not exist in the image");
        }
    }

    private static byte[] EncodeExtra(SifObjectSpec spec, IReadOnlyList<SifDescriptor> existing)
    {
        byte[] extra = new byte[SifLayout.Descriptor.ExtraLength];
        switch (spec.Type)
        {
            case SifDataType.Partition:
                if (spec.FsType is not { } fs || spec.PartitionType is not { } pt || spec.Arch is not { } arch)
                {
                    throw new BurrowException("a partition object needs a file system type, a partition type and an architecture");
                }
                string code = SifArch.CodeOf(arch)
                    ?? throw new BurrowException($"unknown architecture \"{arch}\"", "use a Go arch name: " + string.Join(", ", SifArch.Names));
                if (pt == SifPartitionType.PrimarySystem && existing.Any(d => d.PartitionType == SifPartitionType.PrimarySystem))
                {
                    throw new BurrowException("the image already contains a primary system partition", "add it as a System partition, or delete the current one first");
                }
                BinaryPrimitives.WriteInt32LittleEndian(extra, (int)fs);
                BinaryPrimitives.WriteInt32LittleEndian(extra.AsSpan(4), (int)pt);
                Encoding.ASCII.GetBytes(code).CopyTo(extra, 8);
                break;
            case SifDataType.Signature:
                // Unset metadata stays zero, as the reference leaves it without OptSignatureMetadata.
                BinaryPrimitives.WriteInt32LittleEndian(extra, (int)(spec.HashType ?? 0));
                if (spec.Entity is { } entity)
                {
                    if (entity.Length != 20)
                    {
                        throw new BurrowException($"signing entity fingerprint has {entity.Length} bytes: SIF stores a 20-byte OpenPGP v4 fingerprint");
                    }
                    entity.CopyTo(extra, 4);
                }
                break;
            case SifDataType.CryptoMessage:
                BinaryPrimitives.WriteInt32LittleEndian(extra, (int)(spec.FormatType ?? 0));
                BinaryPrimitives.WriteInt32LittleEndian(extra.AsSpan(4), (int)(spec.MessageType ?? 0));
                break;
            case SifDataType.Sbom:
                BinaryPrimitives.WriteInt32LittleEndian(extra, (int)(spec.SbomFormat ?? 0));
                break;
        }
        return extra;
    }

    /// <summary>Apptainer's calculatedDataSize: the end of the last object, so that space after deleted trailing objects is reused.</summary>
    private long CalculatedDataSize()
    {
        long end = Header.DataOffset;
        foreach (SifDescriptor? d in _slots)
        {
            if (d is not null && d.Offset + d.Size > end)
            {
                end = d.Offset + d.Size;
            }
        }
        return end - Header.DataOffset;
    }

    private long EditTime(SifEditOptions? options) =>
        options?.Time is { } t ? SifTime.FromDateTime(t)
        : options?.Deterministic == true || Header.IsDeterministic ? SifLayout.GoZeroTime
        : DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private int FreeSlot()
    {
        int slot = Array.IndexOf(_slots, null);
        if (slot < 0)
        {
            throw new BurrowException($"SIF image {Name} has no free descriptor slot (all {_slots.Length} are used)",
                "create a new image with more descriptors");
        }
        return slot;
    }

    /// <summary>
    /// The reference increments and decrements the stored count; counting the slots gives the same number on
    /// any consistent image and repairs an inconsistent one instead of carrying the error forward.
    /// </summary>
    private long FreeSlots() => _slots.Count(s => s is null);

    private void RequireWritable()
    {
        if (!_storage.CanWrite)
        {
            throw new InvalidOperationException($"SIF image {Name} was opened read-only");
        }
    }

    private long SlotOffset(int slot) => Header.DescriptorsOffset + (long)slot * SifLayout.DescriptorSize;

    /// <summary>Writes a slot with its Used byte last, on its own, after a barrier: the slot goes live atomically.</summary>
    private void WriteSlot(int slot, SifDescriptor d)
    {
        byte[] raw = new byte[SifLayout.DescriptorSize];
        d.Encode(raw);
        long at = SlotOffset(slot);
        _storage.WriteAt(at, raw.AsSpan(0, SifLayout.Descriptor.Used));
        _storage.WriteAt(at + SifLayout.Descriptor.Used + 1, raw.AsSpan(SifLayout.Descriptor.Used + 1));
        _storage.Barrier();
        _storage.WriteAt(at + SifLayout.Descriptor.Used, [1]);
        _storage.Barrier();
    }

    /// <summary>Retires a slot by its Used byte first, then zeroes the rest, as the reference leaves unused slots.</summary>
    private void ClearSlot(int slot)
    {
        long at = SlotOffset(slot);
        _storage.WriteAt(at + SifLayout.Descriptor.Used, [0]);
        _storage.Barrier();
        _storage.WriteAt(at, new byte[SifLayout.DescriptorSize]);
        _storage.Barrier();
    }

    /// <summary>Rewrites a live slot in place; only metadata bytes change, never the extent it claims.</summary>
    private void ReplaceSlot(SifDescriptor old, SifDescriptor updated)
    {
        int slot = Array.IndexOf(_slots, old);
        byte[] raw = new byte[SifLayout.DescriptorSize];
        updated.Encode(raw);
        _storage.WriteAt(SlotOffset(slot), raw);
        _storage.Barrier();
        _slots[slot] = updated;
    }

    private void ZeroRange(long offset, long size)
    {
        byte[] zeros = new byte[(int)Math.Min(size, CopyBufferSize)];
        for (long done = 0; done < size; done += zeros.Length)
        {
            _storage.WriteAt(offset + done, zeros.AsSpan(0, (int)Math.Min(zeros.Length, size - done)));
        }
        _storage.Barrier();
    }

    private void WriteHeader()
    {
        // One 128-byte write inside the first sector: the last step of every edit.
        byte[] raw = new byte[SifLayout.HeaderSize];
        Header.Encode(raw);
        _storage.WriteAt(0, raw);
        _storage.Barrier();
    }

    private static byte[] WithPartType(SifDescriptor d, SifPartitionType type)
    {
        byte[] extra = d.ExtraCopy();
        BinaryPrimitives.WriteInt32LittleEndian(extra.AsSpan(4), (int)type);
        return extra;
    }
}
