using Burrow.Core.Build;

namespace Burrow.Tests.Build;

/// <summary>Which script line a failed section stopped at, from the shell's last trace line.</summary>
public class ScriptTraceTests
{
    private static readonly string[] s_script = ["echo first", "apt-get update", "apt-get install -y podman", "cp $SRC /opt/x", "echo done"];

    [Theory]
    [InlineData("apt-get install -y podman", 2)]
    [InlineData("apt-get update", 1)]
    [InlineData("cp /tmp/expanded /opt/x", 3)] // a variable the trace shows expanded
    [InlineData("nosuchcommand", -1)]
    [InlineData(null, -1)]
    public void MatchesTheTracedCommandToItsLine(string? traced, int expected) =>
        Assert.Equal(expected, ScriptTrace.Match(s_script, traced));
}
