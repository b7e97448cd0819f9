using Burrow.Core.Runtime;

namespace Burrow.Core.Identity;

/// <summary>
/// Map arithmetic. Podman states its modes in "intermediate" ids (0 is the caller, 1… the
/// subordinate ranges back to back); composing such a map with the intermediate layout gives the
/// container → host lines newuidmap writes, split wherever a range ends.
/// </summary>
public static class IdMaps
{
    /// <summary>Intermediate id → host id: 0 is the caller, then each range in order.</summary>
    public static IReadOnlyList<IdMapEntry> Intermediate(uint ownId, IReadOnlyList<SubordinateRange> ranges)
    {
        var map = new List<IdMapEntry> { new(0, ownId, 1) };
        uint next = 1;
        foreach (SubordinateRange r in ranges)
        {
            map.Add(new IdMapEntry(next, r.Start, r.Count));
            next = checked(next + r.Count);
        }
        return map;
    }

    /// <summary>How many intermediate ids the ranges provide after the caller's own (the "n" of DESIGN.md).</summary>
    public static uint Total(IReadOnlyList<SubordinateRange> ranges) => checked((uint)ranges.Sum(r => (long)r.Count));

    /// <summary>
    /// container → intermediate composed with intermediate → host. Every intermediate id used must be
    /// in <paramref name="inner"/>: the callers build <paramref name="outer"/> from its size.
    /// </summary>
    public static IReadOnlyList<IdMapEntry> Compose(IReadOnlyList<IdMapEntry> outer, IReadOnlyList<IdMapEntry> inner)
    {
        var result = new List<IdMapEntry>();
        foreach (IdMapEntry o in outer)
        {
            ulong container = o.ContainerId;
            ulong mid = o.HostId;
            ulong left = o.Count;
            while (left > 0)
            {
                IdMapEntry i = inner.FirstOrDefault(e => mid >= e.ContainerId && mid < (ulong)e.ContainerId + e.Count)
                    ?? throw new InvalidOperationException($"intermediate id {mid} is outside the subordinate layout");
                ulong take = Math.Min(left, (ulong)i.ContainerId + i.Count - mid);
                Append(result, new IdMapEntry((uint)container, (uint)(i.HostId + (mid - i.ContainerId)), (uint)take));
                container += take;
                mid += take;
                left -= take;
            }
        }
        return result;
    }

    /// <summary>Adds an entry, merging it into the previous one when both sides continue it.</summary>
    private static void Append(List<IdMapEntry> map, IdMapEntry e)
    {
        if (map.Count > 0)
        {
            IdMapEntry last = map[^1];
            if ((ulong)last.ContainerId + last.Count == e.ContainerId && (ulong)last.HostId + last.Count == e.HostId)
            {
                map[^1] = last with { Count = last.Count + e.Count };
                return;
            }
        }
        map.Add(e);
    }

    /// <summary>Podman's keep-id, in intermediate ids: {0→1, min(id,max)}, {id→0, 1}, {id+1→id+1, max-id}.</summary>
    /// <param name="id">The container id the caller appears as.</param>
    /// <param name="max">How many subordinate ids the namespace may use (the total, or size-1).</param>
    public static IReadOnlyList<IdMapEntry> KeepId(uint id, uint max)
    {
        var map = new List<IdMapEntry>();
        if (id != 0 && max > 0)
        {
            map.Add(new IdMapEntry(0, 1, Math.Min(id, max)));
        }
        map.Add(new IdMapEntry(id, 0, 1));
        if (max > id)
        {
            map.Add(new IdMapEntry(id + 1, id + 1, max - id));
        }
        return map;
    }

    /// <summary>Root is the caller, 1… the first <paramref name="count"/> subordinate ids (fakeroot, auto).</summary>
    public static IReadOnlyList<IdMapEntry> RootThenRange(uint count) =>
        count == 0 ? [new IdMapEntry(0, 0, 1)] : [new IdMapEntry(0, 0, 1), new IdMapEntry(1, 1, count)];

    public static string Format(IReadOnlyList<IdMapEntry> map) =>
        string.Join(", ", map.Select(e => $"{e.ContainerId} {e.HostId} {e.Count}"));
}
