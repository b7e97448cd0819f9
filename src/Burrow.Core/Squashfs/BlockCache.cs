namespace Burrow.Core.Squashfs;

/// <summary>What a cache entry holds: decompressed bytes (a metadata or data block, or a file's block map).</summary>
internal sealed class CachedBlock(byte[] data, int length, int storedSize)
{
    /// <summary>The decompressed bytes; only the first <see cref="Length"/> count.</summary>
    public byte[] Data { get; } = data;

    public int Length { get; } = length;

    /// <summary>For a metadata block: its on-disk size, header included (where the next block starts).</summary>
    public int StoredSize { get; } = storedSize;

    public ReadOnlySpan<byte> Span => Data.AsSpan(0, Length);
}

/// <summary>Names a cached block: its byte position and what was read there (metadata, or a data block's size word).</summary>
internal readonly record struct BlockKey(long Position, uint Tag)
{
    public const uint MetadataTag = 0xFFFF_FFFF, BlockMapTag = 0xFFFF_FFFE;
}

/// <summary>
/// A memory-bounded cache of decompressed blocks, shared by every reader thread. Sharded by key (one lock per
/// shard, held only for dictionary and list updates, never while decompressing), and a block that several
/// threads miss at once is decompressed by one of them while the others wait for it: 20,000 small files that
/// share fragment blocks decompress each fragment block once.
/// </summary>
/// <remarks>
/// Eviction is segmented LRU per shard: a block enters a probation segment and moves to a protected one
/// (80 % of the shard) on its second use. The hot set (inode and directory blocks, shared fragment blocks)
/// is used again and again and stays protected; one pass over a large file's data blocks only churns probation.
/// </remarks>
internal sealed class BlockCache
{
    private const int ShardCount = 16;

    // What an entry costs beyond its array: the entry object, the dictionary slot, the array header.
    private const int EntryOverhead = 96;

    private readonly Shard[] _shards;
    private long _hits, _misses;

    public BlockCache(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        CapacityBytes = capacityBytes;
        _shards = new Shard[ShardCount];
        for (int i = 0; i < ShardCount; i++)
        {
            _shards[i] = new Shard(capacityBytes / ShardCount);
        }
    }

    public long CapacityBytes { get; }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Bytes held now (arrays plus bookkeeping); never more than the capacity once a call returns.</summary>
    public long BytesHeld
    {
        get
        {
            long sum = 0;
            foreach (Shard s in _shards)
            {
                lock (s)
                {
                    sum += s.Probation.Bytes + s.Protected.Bytes;
                }
            }
            return sum;
        }
    }

    public CachedBlock GetOrAdd<TState>(BlockKey key, TState state, Func<TState, CachedBlock> load)
    {
        Shard shard = _shards[(int)((ulong)key.GetHashCode() % ShardCount)];
        Entry entry;
        bool owner = false;
        lock (shard)
        {
            if (shard.Map.TryGetValue(key, out Entry? found))
            {
                if (found.Value is { } hit)
                {
                    shard.Touch(found);
                    Interlocked.Increment(ref _hits);
                    return hit;
                }
                entry = found;
            }
            else
            {
                entry = new Entry(key);
                shard.Map.Add(key, entry);
                // A new entry is locked by the thread that will load it; nobody else can hold it yet.
                Monitor.Enter(entry);
                owner = true;
            }
        }
        if (owner)
        {
            Interlocked.Increment(ref _misses);
            return Load(shard, entry, state, load);
        }
        // Another thread is loading it: wait for that one and take its result (or load it ourselves if it failed).
        lock (entry)
        {
            if (entry.Value is { } loaded)
            {
                Interlocked.Increment(ref _hits);
                return loaded;
            }
        }
        return load(state);
    }

    private static CachedBlock Load<TState>(Shard shard, Entry entry, TState state, Func<TState, CachedBlock> load)
    {
        try
        {
            CachedBlock value;
            try
            {
                value = load(state);
            }
            catch
            {
                lock (shard)
                {
                    shard.Map.Remove(entry.Key);
                }
                throw;
            }
            lock (shard)
            {
                entry.Value = value;
                entry.Cost = value.Data.Length + EntryOverhead;
                shard.Insert(entry);
            }
            return value;
        }
        finally
        {
            Monitor.Exit(entry);
        }
    }

    private sealed class Entry(BlockKey key)
    {
        public readonly BlockKey Key = key;
        public CachedBlock? Value;
        public long Cost;
        public Segment? Owner;
        public Entry? Prev, Next;
    }

    /// <summary>An intrusive LRU list: Head is the most recently used.</summary>
    private sealed class Segment
    {
        public Entry? Head, Tail;
        public long Bytes;

        public void AddFirst(Entry e)
        {
            e.Owner = this;
            e.Prev = null;
            e.Next = Head;
            if (Head is not null)
            {
                Head.Prev = e;
            }
            Head = e;
            Tail ??= e;
            Bytes += e.Cost;
        }

        public void Remove(Entry e)
        {
            if (e.Prev is not null)
            {
                e.Prev.Next = e.Next;
            }
            else
            {
                Head = e.Next;
            }
            if (e.Next is not null)
            {
                e.Next.Prev = e.Prev;
            }
            else
            {
                Tail = e.Prev;
            }
            e.Prev = e.Next = null;
            e.Owner = null;
            Bytes -= e.Cost;
        }
    }

    private sealed class Shard(long capacity)
    {
        public readonly Dictionary<BlockKey, Entry> Map = [];
        public readonly Segment Probation = new(), Protected = new();
        private readonly long _protectedCapacity = capacity / 5 * 4;

        public void Insert(Entry e)
        {
            Probation.AddFirst(e);
            Trim();
        }

        public void Touch(Entry e)
        {
            if (e.Owner is null)
            {
                return;
            }
            e.Owner.Remove(e);
            Protected.AddFirst(e);
            while (Protected.Bytes > _protectedCapacity && Protected.Tail is { } demoted && demoted != e)
            {
                Protected.Remove(demoted);
                Probation.AddFirst(demoted);
            }
            Trim();
        }

        private void Trim()
        {
            while (Probation.Bytes + Protected.Bytes > capacity)
            {
                Entry victim = Probation.Tail ?? Protected.Tail!;
                victim.Owner!.Remove(victim);
                Map.Remove(victim.Key);
            }
        }
    }
}
