using Burrow.Core.Sif;

namespace Burrow.Core.Trust;

/// <summary>
/// The digests of a SIF's objects that a verification needs, computed in one read pass per object whatever the
/// number of signatures and algorithms that name it (a 100 MB partition is read once, not once per signature as
/// the reference does). The pass can also record the chunk digests of one object (<see cref="VerifiedExtent"/>)
/// from the same bytes.
/// </summary>
internal sealed class ObjectDigests(SifImage image)
{
    private const int BufferSize = 1 << 20;

    private readonly Dictionary<uint, HashSet<SifDigestAlgorithm>> _wanted = [];
    private readonly Dictionary<(uint Id, SifDigestAlgorithm Algorithm), byte[]> _values = [];
    private SifDescriptor? _record;

    /// <summary>Bytes of object data read so far.</summary>
    public long BytesHashed { get; private set; }

    /// <summary>The chunk digests of the recorded object, once <see cref="Compute"/> has run.</summary>
    public VerifiedExtent? Extent { get; private set; }

    public void Want(SifDescriptor d, SifDigestAlgorithm a)
    {
        if (_values.ContainsKey((d.Id, a)))
        {
            return;
        }
        if (!_wanted.TryGetValue(d.Id, out HashSet<SifDigestAlgorithm>? set))
        {
            _wanted[d.Id] = set = [];
        }
        set.Add(a);
    }

    /// <summary>Asks for <paramref name="d"/>'s chunk digests to be recorded during its pass.</summary>
    public void Record(SifDescriptor d)
    {
        _record = d;
        if (!_wanted.ContainsKey(d.Id))
        {
            _wanted[d.Id] = [];
        }
    }

    /// <summary>Reads each wanted object once, feeding every hash asked of it.</summary>
    public void Compute()
    {
        byte[] buffer = new byte[BufferSize];
        foreach ((uint id, HashSet<SifDigestAlgorithm> algorithms) in _wanted.OrderBy(w => w.Key))
        {
            SifDescriptor d = image.GetById(id);
            SifHasher[] hashers = algorithms.Select(SifHasher.Create).ToArray();
            VerifiedExtent.Recorder? recorder = _record?.Id == id ? new VerifiedExtent.Recorder(image.Name, d.Offset, d.Size) : null;
            using (Stream data = image.OpenObject(d))
            {
                int n;
                while ((n = data.Read(buffer)) > 0)
                {
                    ReadOnlySpan<byte> chunk = buffer.AsSpan(0, n);
                    foreach (SifHasher h in hashers)
                    {
                        h.Append(chunk);
                    }
                    recorder?.Append(chunk);
                    BytesHashed += n;
                }
            }
            foreach (SifHasher h in hashers)
            {
                _values[(id, h.Algorithm)] = h.Finish();
            }
            if (recorder is not null)
            {
                Extent = recorder.Finish();
            }
        }
        _wanted.Clear();
    }

    /// <summary>The digest of an object's data; computed now (one pass) if it was not asked for before.</summary>
    public byte[] Get(SifDescriptor d, SifDigestAlgorithm a)
    {
        if (!_values.TryGetValue((d.Id, a), out byte[]? v))
        {
            Want(d, a);
            Compute();
            v = _values[(d.Id, a)];
        }
        return v;
    }
}
