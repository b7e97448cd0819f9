using Burrow.Core.Identity;
using Burrow.Core.Runtime.Planning.Facts;

namespace Burrow.Tests.Planning;

public class HostUserReaderTests
{
    [Fact]
    public void StatusIdsReadsRealIdFirstAndGroups()
    {
        const string status = "Name:\tburrow\nUid:\t1001\t1001\t1001\t1001\nGid:\t1002\t1002\t1002\t1002\nGroups:\t27 1002 5000 \n";
        Assert.Equal([1001u, 1001u, 1001u, 1001u], HostUserReader.StatusIds(status, "Uid:"));
        Assert.Equal(1002u, HostUserReader.StatusIds(status, "Gid:")[0]);
        Assert.Equal([27u, 1002u, 5000u], HostUserReader.StatusIds(status, "Groups:"));
        Assert.Empty(HostUserReader.StatusIds("Groups:\t\n", "Groups:"));
    }

    [Fact]
    public void ReadsTheProcessItself()
    {
        HostUser user = HostUserReader.Read();
        string status = File.ReadAllText("/proc/self/status");
        Assert.Equal(HostUserReader.StatusIds(status, "Uid:")[0], user.Uid);
        Assert.Contains(user.Groups, g => g.Gid == user.Gid);
        string[]? entry = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).FirstOrDefault(f => f.Length > 5 && f[2] == user.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (entry is not null)
        {
            Assert.Equal((entry[0], entry[5]), (user.Name, user.Home));
        }
    }
}
