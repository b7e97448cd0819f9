using System.Globalization;

namespace Burrow.Core.Identity;

/// <summary>One <c>owner:start:count</c> line of /etc/subuid or /etc/subgid that belongs to the caller.</summary>
/// <param name="Line">1-based line number, for messages and --explain.</param>
/// <param name="Disabled">The administrator prefixed the owner with <c>!</c> (Apptainer's way to switch a range off).</param>
public sealed record SubordinateRange(int Line, uint Start, uint Count, bool Disabled)
{
    /// <summary>One past the last id (may be 2^32, hence ulong).</summary>
    public ulong End => (ulong)Start + Count;

    public bool Contains(uint id) => id >= Start && id < End;

    public override string ToString() => $"{Start}:{Count}";
}

/// <summary>The caller's lines of one subordinate id file, and the ones of theirs that cannot be used.</summary>
public sealed record SubordinateIdEntries(string FileName, IReadOnlyList<SubordinateRange> Ranges, IReadOnlyList<MalformedSubordinateLine> Malformed)
{
    public IEnumerable<SubordinateRange> Enabled => Ranges.Where(r => !r.Disabled);

    public bool HasEnabled => Ranges.Any(r => !r.Disabled);
}

public sealed record MalformedSubordinateLine(int Line, string Text, string Problem);

/// <summary>
/// Reads /etc/subuid or /etc/subgid the way shadow's newuidmap and Podman do: lines
/// <c>owner:start:count</c>, owner a user name or a numeric uid; blank and <c>#</c> lines skipped.
/// Only the caller's lines matter: other users' lines, well-formed or not, are not ours to judge
/// (and newuidmap ignores them too), so they are skipped without a word.
/// </summary>
public static class SubordinateIdFile
{
    public static SubordinateIdEntries ForUser(string? text, string fileName, HostUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var ranges = new List<SubordinateRange>();
        var malformed = new List<MalformedSubordinateLine>();
        if (text is null)
        {
            return new SubordinateIdEntries(fileName, ranges, malformed);
        }

        string uidText = user.Uid.ToString(CultureInfo.InvariantCulture);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            string[] fields = line.Split(':');
            string owner = fields[0].Trim();
            bool disabled = owner.StartsWith('!');
            if (disabled)
            {
                owner = owner[1..].Trim();
            }
            if (owner != user.Name && owner != uidText)
            {
                continue;
            }

            int lineNumber = i + 1;
            string? problem = Validate(fields, out uint start, out uint count);
            if (problem is not null)
            {
                malformed.Add(new MalformedSubordinateLine(lineNumber, line, problem));
                continue;
            }
            ranges.Add(new SubordinateRange(lineNumber, start, count, disabled));
        }
        return new SubordinateIdEntries(fileName, ranges, malformed);
    }

    private static string? Validate(string[] fields, out uint start, out uint count)
    {
        start = 0;
        count = 0;
        if (fields.Length != 3)
        {
            return $"expected owner:start:count (3 fields), found {fields.Length}";
        }
        if (!TryParseId(fields[1], out start))
        {
            return $"start '{fields[1].Trim()}' is not a number from 0 to 4294967294";
        }
        if (!TryParseId(fields[2], out count) || count == 0)
        {
            return $"count '{fields[2].Trim()}' is not a number from 1 to 4294967294";
        }
        // The kernel's id space ends at 2^32-2 (2^32-1 is the invalid id -1).
        if ((ulong)start + count > uint.MaxValue)
        {
            return $"the range {start}:{count} runs past the last valid id 4294967294";
        }
        return null;
    }

    private static bool TryParseId(string text, out uint value) =>
        uint.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value) && value != uint.MaxValue;
}
