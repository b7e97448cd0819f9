using Burrow.Core.Identity;

namespace Burrow.Tests.Identity;

public class SubordinateIdFileTests
{
    private static SubordinateIdEntries Read(string text) => SubordinateIdFile.ForUser(text, "/etc/subuid", Users.Alice);

    [Fact]
    public void FindsTheCallersLinesByNameAndByUidAndSkipsOthers()
    {
        SubordinateIdEntries e = Read("# comment\n\nbob:100000:65536\nalice:165536:65536\r\n1001:300000:10\nalicex:1:1\n");

        Assert.Equal([new SubordinateRange(4, 165536, 65536, false), new SubordinateRange(5, 300000, 10, false)], e.Ranges);
        Assert.Empty(e.Malformed);
    }

    [Fact]
    public void AMissingFileHasNoLines()
    {
        SubordinateIdEntries e = SubordinateIdFile.ForUser(null, "/etc/subuid", Users.Alice);

        Assert.Empty(e.Ranges);
        Assert.False(e.HasEnabled);
    }

    [Fact]
    public void ABangMarksARangeDisabled()
    {
        SubordinateIdEntries e = Read("!alice:100000:65536\nalice:200000:65536\n");

        Assert.True(e.Ranges[0].Disabled);
        Assert.Equal([new SubordinateRange(2, 200000, 65536, false)], e.Enabled);
    }

    [Theory]
    [InlineData("alice:100000", "3 fields")]
    [InlineData("alice:100000:65536:9", "3 fields")]
    [InlineData("alice:abc:65536", "start 'abc'")]
    [InlineData("alice:-1:65536", "start '-1'")]
    [InlineData("alice:100000:0", "count '0'")]
    [InlineData("alice:100000:", "count ''")]
    [InlineData("alice:4294967295:1", "start '4294967295'")]
    [InlineData("alice:4294967000:65536", "runs past the last valid id")]
    public void MalformedLinesOfTheCallerAreReportedWithTheirProblem(string line, string problem)
    {
        SubordinateIdEntries e = Read("bob:1:1\n" + line + "\n");

        Assert.Empty(e.Ranges);
        MalformedSubordinateLine bad = Assert.Single(e.Malformed);
        Assert.Equal(2, bad.Line);
        Assert.Contains(problem, bad.Problem);
    }

    [Fact]
    public void OtherUsersMalformedLinesAreNotOurs()
    {
        SubordinateIdEntries e = Read("garbage\nbob:x:y\nalice:100000:65536\n");

        Assert.Empty(e.Malformed);
        Assert.Single(e.Ranges);
    }

    [Fact]
    public void TheLastValidIdMayBeUsed()
    {
        // 2^32-2 is the last id the kernel maps; a range ending exactly there is valid.
        SubordinateIdEntries e = Read("alice:4294901760:65535\n");

        Assert.Equal(4294967294u, e.Ranges[0].Start + e.Ranges[0].Count - 1);
    }
}
