using Burrow.Core.Diagnostics;

namespace Burrow.Core.Identity;

/// <summary>
/// Picks which of the caller's subordinate ranges a mode uses, and refuses the ones that cannot
/// work: malformed or disabled lines, a range holding the caller's own id, ranges overlapping each other.
/// </summary>
public static class SubordinateRangeSelector
{
    /// <summary>The range size Apptainer's fakeroot wants (and what useradd hands out).</summary>
    public const uint FakeRootRangeSize = 65536;

    /// <summary>
    /// Apptainer's GetIDRange: a range of exactly 65536 is preferred, else the largest larger one;
    /// only smaller ones is an error. Returns null when the caller has no lines at all.
    /// </summary>
    public static SubordinateRange? ForFakeRoot(SubordinateIdEntries entries, string userName, uint ownId)
    {
        IReadOnlyList<SubordinateRange>? usable = Enabled(entries, userName, "--fakeroot");
        if (usable is null)
        {
            return null;
        }
        SubordinateRange? chosen = usable.FirstOrDefault(r => r.Count == FakeRootRangeSize)
            ?? usable.Where(r => r.Count > FakeRootRangeSize).OrderByDescending(r => r.Count).ThenBy(r => r.Line).FirstOrDefault();
        if (chosen is not null)
        {
            CheckOwnId([chosen], entries.FileName, userName, ownId);
            return chosen;
        }
        throw new BurrowException(
            $"mapping entries for user {userName} found in {entries.FileName} but all with a range count lower than {FakeRootRangeSize} " +
            $"({string.Join(", ", usable.Select(r => $"line {r.Line}: {r}"))})",
            $"--fakeroot needs a range of at least {FakeRootRangeSize} ids; ask the administrator for one " +
            $"(e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {userName})");
    }

    /// <summary>Podman's user namespace modes use every enabled range, in file order, laid back to back. Null when there are none.</summary>
    public static IReadOnlyList<SubordinateRange>? ForUserNamespace(SubordinateIdEntries entries, string userName, uint ownId, string mode)
    {
        IReadOnlyList<SubordinateRange>? usable = Enabled(entries, userName, mode);
        if (usable is not null)
        {
            CheckOwnId(usable, entries.FileName, userName, ownId);
            CheckNoOverlap(usable, entries.FileName, userName);
        }
        return usable;
    }

    /// <summary>The caller's enabled ranges; null when there are no lines at all; an error for malformed or only disabled lines.</summary>
    private static IReadOnlyList<SubordinateRange>? Enabled(SubordinateIdEntries entries, string userName, string mode)
    {
        if (entries.Malformed.Count > 0)
        {
            MalformedSubordinateLine bad = entries.Malformed[0];
            throw new BurrowException(
                $"{entries.FileName} line {bad.Line} for user {userName} is malformed: {bad.Problem} (\"{bad.Text}\")",
                $"ask the administrator to fix {entries.FileName}: each line is name:start:count, e.g. {userName}:100000:65536");
        }
        if (entries.Ranges.Count == 0)
        {
            return null;
        }
        SubordinateRange[] enabled = entries.Enabled.ToArray();
        if (enabled.Length == 0)
        {
            throw new BurrowException(
                $"your subordinate id range in {entries.FileName} (line {entries.Ranges[0].Line}) has been disabled by the administrator (the line starts with '!'), so {mode} cannot use it",
                "ask the administrator to re-enable it, or run without " + mode);
        }
        return enabled;
    }

    private static void CheckOwnId(IReadOnlyList<SubordinateRange> ranges, string fileName, string userName, uint ownId)
    {
        foreach (SubordinateRange r in ranges)
        {
            if (r.Contains(ownId))
            {
                throw new BurrowException(
                    $"invalid configuration: the range {r} on line {r.Line} of {fileName} includes your own id {ownId}",
                    $"ask the administrator to move the range for {userName} so that it does not include {ownId}");
            }
        }
    }

    private static void CheckNoOverlap(IReadOnlyList<SubordinateRange> enabled, string fileName, string userName)
    {
        for (int i = 0; i < enabled.Count; i++)
        {
            for (int j = i + 1; j < enabled.Count; j++)
            {
                if (enabled[i].Start < enabled[j].End && enabled[j].Start < enabled[i].End)
                {
                    throw new BurrowException(
                        $"the ranges {enabled[i]} (line {enabled[i].Line}) and {enabled[j]} (line {enabled[j].Line}) for {userName} in {fileName} overlap",
                        $"ask the administrator to fix {fileName}: the kernel refuses overlapping maps");
                }
            }
        }
    }
}
