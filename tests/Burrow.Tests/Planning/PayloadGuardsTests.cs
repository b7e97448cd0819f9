using System.Text.Json;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Tests.Planning;

/// <summary>The planner's part of the terminal (TIOCSTI) and monitor protections, and of the runtime's bad inputs.</summary>
public class PayloadGuardsTests
{
    private readonly PlanFixture _f = new();

    [Fact]
    public void WithoutATerminalThePayloadGetsASessionOfItsOwn()
    {
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        Assert.True(plan.Process.Session.New);
        Assert.Contains("none of stdin, stdout and stderr is a terminal", plan.Process.Session.Reason);
    }

    [Theory]
    [InlineData(new[] { 0 }, "stdin is a terminal")]
    [InlineData(new[] { 1, 2 }, "stdout and stderr are terminals")]
    [InlineData(new[] { 2, 0, 1 }, "stdin and stdout and stderr are terminals")]
    public void AnInteractivePayloadKeepsTheSessionAndSaysWhy(int[] terminals, string why)
    {
        _f.TerminalFds.AddRange(terminals);
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        Assert.False(plan.Process.Session.New);
        Assert.StartsWith(why, plan.Process.Session.Reason);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void TiocstiAndTioclinuxAreAlwaysRefusedComparingTheLow32Bits(bool interactive, bool pid)
    {
        if (interactive)
        {
            _f.TerminalFds.Add(0);
        }
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Pid = pid });
        foreach (uint request in new[] { PayloadGuards.TIOCSTI, PayloadGuards.TIOCLINUX })
        {
            SyscallRule rule = Assert.Single(plan.Process.SyscallFilter, r => r.Syscall == "ioctl" && r.Arguments.Any(a => a.Value == request));
            Assert.Equal(PayloadGuards.EPERM, rule.Errno);
            Assert.Equal([new SyscallArgument(1, SyscallOperand.Value, request)], rule.Arguments);
        }
    }

    [Fact]
    public void WithoutAPidNamespaceEveryWayToSignalTheMonitorIsRefused()
    {
        IReadOnlyList<SyscallRule> rules = _f.Plan(PlanFixture.Exec("id")).Process.SyscallFilter;
        void Has(string syscall, int errno, params SyscallArgument[] args) =>
            Assert.Contains(rules, r => r.Syscall == syscall && r.Errno == errno && r.Arguments.SequenceEqual(args));
        var monitor0 = new SyscallArgument(0, SyscallOperand.MonitorPid);
        Has("kill", PayloadGuards.EPERM, monitor0);
        Has("kill", PayloadGuards.EPERM, new SyscallArgument(0, SyscallOperand.MonitorProcessGroup));
        Has("kill", PayloadGuards.EPERM, new SyscallArgument(0, SyscallOperand.Value, uint.MaxValue));
        Has("tkill", PayloadGuards.EPERM, monitor0);
        Has("tgkill", PayloadGuards.EPERM, monitor0);
        Has("tgkill", PayloadGuards.EPERM, new SyscallArgument(1, SyscallOperand.MonitorPid));
        Has("rt_sigqueueinfo", PayloadGuards.EPERM, monitor0);
        Has("rt_tgsigqueueinfo", PayloadGuards.EPERM, monitor0);
        Has("rt_tgsigqueueinfo", PayloadGuards.EPERM, new SyscallArgument(1, SyscallOperand.MonitorPid));
        Has("pidfd_send_signal", PayloadGuards.ENOSYS);
        Has("prlimit64", PayloadGuards.EPERM, monitor0);
        foreach (string fcntl in new[] { "fcntl", "fcntl64" })
        {
            Has(fcntl, PayloadGuards.EPERM, new SyscallArgument(1, SyscallOperand.Value, PayloadGuards.F_SETOWN), new SyscallArgument(2, SyscallOperand.MonitorPid));
            Has(fcntl, PayloadGuards.EPERM, new SyscallArgument(1, SyscallOperand.Value, PayloadGuards.F_SETOWN), new SyscallArgument(2, SyscallOperand.MonitorProcessGroup));
            Has(fcntl, PayloadGuards.EPERM, new SyscallArgument(1, SyscallOperand.Value, PayloadGuards.F_SETOWN_EX));
        }
        Has("ioctl", PayloadGuards.EPERM, new SyscallArgument(1, SyscallOperand.Value, PayloadGuards.FIOSETOWN));
        Has("ioctl", PayloadGuards.EPERM, new SyscallArgument(1, SyscallOperand.Value, PayloadGuards.SIOCSPGRP));
        Assert.All(rules, r => Assert.NotEmpty(r.Reason));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void InAPidNamespaceTheMonitorNeedsNoRule(bool pid, bool containAll)
    {
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Pid = pid, ContainAll = containAll });
        Assert.Equal(2, plan.Process.SyscallFilter.Count);
        Assert.DoesNotContain(plan.Process.SyscallFilter, r => r.Arguments.Any(a => a.Operand != SyscallOperand.Value));
    }

    [Fact]
    public void ExplainSaysWhichProtectionAppliesAndWhy()
    {
        string batch = PlanExplainer.Render(_f.Plan(PlanFixture.Exec("id")));
        Assert.Contains("session  new (setsid): none of stdin, stdout and stderr is a terminal", batch);
        Assert.Contains("ioctl(arg1 == 0x5412) -> EPERM: would queue keystrokes on a terminal", batch);
        Assert.Contains("kill(arg0 == monitor pid) -> EPERM", batch);
        Assert.Contains("kill(arg0 == -(monitor pid)) -> EPERM", batch);
        Assert.Contains("kill(arg0 == -1) -> EPERM", batch);
        Assert.Contains("pidfd_send_signal(any arguments) -> ENOSYS", batch);

        _f.TerminalFds.AddRange([0, 1, 2]);
        string interactive = PlanExplainer.Render(_f.Plan(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], ContainAll = true }));
        Assert.Contains("session  yours, kept: stdin and stdout and stderr are terminals", interactive);
        Assert.Contains("monitor  outside the new PID namespace", interactive);
        Assert.DoesNotContain("monitor pid", interactive);
    }

    [Fact]
    public void JsonCarriesTheSessionAndTheFilter()
    {
        LaunchPlan plan = _f.Plan(PlanFixture.Exec("id"));
        string json = JsonSerializer.Serialize(plan, LaunchPlanJsonContext.Default.LaunchPlan);
        Assert.Contains("\"MonitorProcessGroup\"", json);
        LaunchPlan back = JsonSerializer.Deserialize(json, LaunchPlanJsonContext.Default.LaunchPlan)!;
        Assert.Equal(plan.Process.Session, back.Process.Session);
        Assert.Equal(plan.Process.SyscallFilter.Count, back.Process.SyscallFilter.Count);
        for (int i = 0; i < plan.Process.SyscallFilter.Count; i++)
        {
            Assert.Equal(plan.Process.SyscallFilter[i].Arguments, back.Process.SyscallFilter[i].Arguments);
            Assert.Equal(plan.Process.SyscallFilter[i] with { Arguments = [] }, back.Process.SyscallFilter[i] with { Arguments = [] });
        }
    }

    [Fact]
    public void AHandWrittenPlanWithoutTheFieldsHasNoFilterAndKeepsTheSession()
    {
        ProcessPlan p = new() { Argv = ["id"], Env = [], Cwd = "/", Uid = 0, Gid = 0 };
        Assert.False(p.Session.New);
        Assert.Empty(p.SyscallFilter);
        Assert.Equal(0, p.CommandIndex);
    }

    [Fact]
    public void TheEnvScriptWrapperNamesAScriptThatEndsTheContainerAndPointsAtTheCommand()
    {
        _f.EnvScripts.Add("/.singularity.d/env/90-x.sh");
        _f.ImagePaths[FactQueries.RunScript] = PathKind.File;
        LaunchPlan plan = _f.Plan(new ActionRequest { Action = ActionKind.Run, Arguments = ["a"] });
        Assert.Equal(FactQueries.RunScript, plan.Process.Argv[plan.Process.CommandIndex]);
        Assert.Equal("a", plan.Process.Argv[plan.Process.CommandIndex + 1]);
        string script = plan.Process.Argv[2];
        Assert.Contains("trap 'printf \"ERROR:   the image'\\''s environment script %s ended the container (exit status %s)", script);
        Assert.Contains("burrow_env_script='/.singularity.d/env/90-x.sh'; . '/.singularity.d/env/90-x.sh'\n", script);
        Assert.True(script.IndexOf("trap - EXIT", StringComparison.Ordinal) > script.IndexOf("90-x.sh'\n", StringComparison.Ordinal),
            "the trap is lifted after the scripts, before Burrow's own exit 127");
        Assert.True(script.IndexOf("trap - EXIT", StringComparison.Ordinal) < script.IndexOf("exit 127", StringComparison.Ordinal));
        Assert.Equal(0, new PlanFixture().Plan(PlanFixture.Exec("id")).Process.CommandIndex); // not wrapped: argv[0] is the command
    }

    [Fact]
    public void AnEmptyCommandIsNamed()
    {
        var (_, errors, _) = LaunchPlanner.PlanAndCheck(_f.Input(PlanFixture.Exec("")));
        CheckFinding e = Assert.Single(errors);
        Assert.Equal("exec: the command to run is an empty string ('')", e.Message);
    }

    [Theory]
    [InlineData(100_000, "is 100001 bytes long; Linux paths are at most 4095")]
    [InlineData(256, "has a name of 256 bytes; Linux names are at most 255")]
    public void AnOverlongBindDestinationIsRefusedBriefly(int length, string says)
    {
        string destination = "/" + new string('a', length);
        var (_, errors, _) = LaunchPlanner.PlanAndCheck(_f.Input(new ActionRequest { Action = ActionKind.Exec, Arguments = ["id"], Binds = ["/tmp:" + destination] }));
        CheckFinding e = Assert.Single(errors, f => f.Check == "bind-destination-length");
        Assert.Contains(says, e.Message);
        Assert.True(e.Message.Length < 200, e.Message);
    }

    [Fact]
    public void AStageFailureFitsOnePacketAndKeepsItsThreeFields()
    {
        string path = "/" + new string('a', 100_000);
        string packet = StarterProtocol.FormatStageFailure(255, $"cannot perform the bind on {path}: No such file\tor directory", "hint\twith a tab " + path);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(packet) < StarterProtocol.MaxPacketBytes);
        string[] fields = packet[1..].Split('\t');
        Assert.Equal(3, fields.Length);
        Assert.Equal("255", fields[0]);
        Assert.StartsWith("cannot perform the bind on /aaa", fields[1]);
        Assert.EndsWith("more characters)", fields[1]);
        Assert.StartsWith("hint with a tab /aaa", fields[2]);
        // Never half a surrogate pair at the cut.
        string emoji = string.Concat(Enumerable.Repeat("\U0001F600", 3000));
        string cut = StarterProtocol.FormatStageFailure(1, emoji, null).Split('\t')[1];
        Assert.False(char.IsHighSurrogate(cut[cut.IndexOf('…') - 1]));
    }
}
