using Burrow.Core.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Sif;

/// <summary>
/// An opened SIF image. Opening reads and validates only the header and the descriptor table; object data is
/// read on demand through bounded streams. Opened writable, it can add, delete and re-prioritise objects
/// (SifImage.Edit.cs) in a crash-safe order.
/// </summary>
public sealed partial class SifImage : IDisposable
{
    private readonly SifStorage _storage;
    private SifDescriptor?[] _slots;

    private SifImage(SifStorage storage, string name, SifHeader header, SifDescriptor?[] slots)
    {
        _storage = storage;
        Name = name;
        Header = header;
        _slots = slots;
    }

    /// <summary>The file path or a description of the stream, as used in error messages.</summary>
    public string Name { get; }

    public SifHeader Header { get; private set; }

    /// <summary>Used descriptors in slot order (the order siftool lists them).</summary>
    public IReadOnlyList<SifDescriptor> Descriptors => _slots.OfType<SifDescriptor>().ToArray();

    /// <summary>The partition Apptainer runs (PartType PrimSys), or null.</summary>
    public SifDescriptor? PrimarySystemPartition => _slots.FirstOrDefault(d => d?.PartitionType == SifPartitionType.PrimarySystem);

    /// <summary>Bytes read from the file so far (header and table on open; object data as it is read).</summary>
    public long BytesRead => _storage.BytesRead;

    public bool IsWritable => _storage.CanWrite;

    /// <summary>The open file of an image opened from a path, for readers of its partitions; owned by this image.</summary>
    public SafeFileHandle? FileHandle => (_storage as FileSifStorage)?.Handle;

    public static SifImage Open(string path) => Open(path, writable: false);

    /// <summary>Opens a file; writable images are opened read-write without creating or truncating.</summary>
    public static SifImage Open(string path, bool writable)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new BurrowException("no SIF image given (an empty path)", "give the path of a .sif file", ExitCodes.Usage);
        }
        SafeFileHandle handle;
        try
        {
            // A regular file only (a FIFO would block the open, /dev/zero would pass for a huge image), opened once:
            // every later read and write goes through this descriptor.
            handle = Linux.RegularFile.Open(path, writable);
        }
        catch (Linux.NotRegularFileException e)
        {
            throw new BurrowException($"cannot open SIF image {path}: it is {Linux.FileKindText.Describe(e.Kind)}", "give the path of a .sif file", ExitCodes.Failure, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            bool denied = e is Linux.LinuxException { Errno: Linux.Errno.EACCES or Linux.Errno.EPERM } or UnauthorizedAccessException;
            throw new BurrowException($"cannot open SIF image {path}: {SifIoText.Of(e)}",
                denied && writable ? "editing an image needs write permission on it" : null, ExitCodes.Failure, e);
        }
        return Load(new FileSifStorage(handle, writable), path);
    }

    /// <summary>Opens an image held in a seekable stream (left open on dispose unless told otherwise).</summary>
    public static SifImage Open(Stream stream, bool writable = false, bool leaveOpen = true, string name = "(stream)")
    {
        if (!stream.CanSeek || !stream.CanRead || (writable && !stream.CanWrite))
        {
            throw new ArgumentException("a SIF image needs a readable, seekable stream (and writable to edit it)", nameof(stream));
        }
        return Load(new StreamSifStorage(stream, leaveOpen), name);
    }

    internal static SifImage Load(SifStorage storage, string name)
    {
        try
        {
            SifHeader header = SifValidator.ReadHeader(storage, name);
            SifDescriptor?[] slots = SifValidator.ReadDescriptors(storage, header, name);
            return new SifImage(storage, name, header, slots);
        }
        catch (Exception e)
        {
            storage.Dispose();
            if (e is IOException io and not EndOfStreamException)
            {
                throw new BurrowException($"cannot read SIF image {name}: {SifIoText.Of(io)}", null, ExitCodes.Failure, io);
            }
            if (e is EndOfStreamException)
            {
                throw SifValidator.Bad(name, "the file ended while reading the header or descriptor table");
            }
            throw;
        }
    }

    /// <summary>The object with this id, or a clear error.</summary>
    public SifDescriptor GetById(uint id) =>
        TryGetById(id) ?? throw new BurrowException($"object {id} not found in SIF image {Name}", "list the objects with: burrow sif list " + Name);

    public SifDescriptor? TryGetById(uint id) => _slots.FirstOrDefault(d => d?.Id == id);

    public IEnumerable<SifDescriptor> Select(Func<SifDescriptor, bool> predicate) => Descriptors.Where(predicate);

    public IEnumerable<SifDescriptor> ByType(SifDataType type) => Select(d => d.Type == type);

    public IEnumerable<SifDescriptor> ByGroup(uint group) => Select(d => d.GroupId == group && group != 0);

    /// <summary>Objects linked to an object (or to a group when <paramref name="isGroup"/>).</summary>
    public IEnumerable<SifDescriptor> LinkedTo(uint id, bool isGroup = false) => Select(d => d.LinkedId == id && id != 0 && d.LinkIsGroup == isGroup);

    public IEnumerable<SifDescriptor> ByName(string name) => Select(d => d.Name == name);

    /// <summary>A read-only stream of exactly the object's bytes. Streams are independent; the image must stay open.</summary>
    public Stream OpenObject(SifDescriptor d)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (TryGetById(d.Id) is not { } current || current.Offset != d.Offset || current.Size != d.Size)
        {
            throw new InvalidOperationException($"{d} is not part of SIF image {Name}");
        }
        return new SifObjectStream(_storage, d.Offset, d.Size);
    }

    public byte[] ReadObject(SifDescriptor d)
    {
        using Stream s = OpenObject(d);
        byte[] data = new byte[s.Length];
        s.ReadExactly(data);
        return data;
    }

    public void Dispose() => _storage.Dispose();
}
