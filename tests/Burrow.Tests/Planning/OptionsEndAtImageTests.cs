using System.CommandLine;
using Burrow.Cli;
using Burrow.Cli.Commands;
using Burrow.Cli.Options;
using Burrow.Cli.Parsing;

namespace Burrow.Tests.Planning;

public class OptionsEndAtImageTests
{
    private static readonly RootCommand s_root = Program.BuildRoot();

    private static string[] Apply(params string[] args) => OptionsEndAtImage.Apply(s_root, args, ActionRunner.CommandNames);

    [Theory]
    [InlineData("exec IMG ls -la --foo", "exec IMG -- ls -la --foo")]
    [InlineData("exec -B /a:/b IMG ls -B x", "exec -B /a:/b IMG -- ls -B x")]
    [InlineData("exec --bind=/a IMG ls", "exec --bind=/a IMG -- ls")]
    [InlineData("exec -c -B /a IMG ls", "exec -c -B /a IMG -- ls")]
    [InlineData("exec -cB /a IMG ls", "exec -cB /a IMG -- ls")]
    [InlineData("exec --contain --pwd /x --env A=1 IMG env", "exec --contain --pwd /x --env A=1 IMG -- env")]
    [InlineData("-v exec IMG id -v", "-v exec IMG -- id -v")]
    [InlineData("exec -v IMG id --help", "exec -v IMG -- id --help")]
    [InlineData("exec IMG -- ls", "exec IMG -- ls")]
    [InlineData("exec -- IMG ls", "exec -- IMG ls")]
    [InlineData("run IMG --arg", "run IMG -- --arg")]
    [InlineData("shell --shell /bin/sh IMG", "shell --shell /bin/sh IMG --")]
    [InlineData("exec --security uid:5 IMG id", "exec --security uid:5 IMG -- id")]
    [InlineData("version", "version")]
    [InlineData("exec --help", "exec --help")]
    [InlineData("exec -p IMG ls", "exec -p IMG -- ls")]
    [InlineData("exec -p 127.0.0.1:8080:80 IMG ls -p 1:2", "exec --publish 127.0.0.1:8080:80 IMG -- ls -p 1:2")]
    [InlineData("run -p 8080:80/udp -p IMG", "run --publish 8080:80/udp -p IMG --")]
    [InlineData("exec -p [::1]:8080:80 IMG id", "exec --publish [::1]:8080:80 IMG -- id")]
    [InlineData("exec -p docker://127.0.0.1:5000/box id", "exec -p docker://127.0.0.1:5000/box -- id")]
    public void InsertsDoubleDashAfterImage(string given, string expected) =>
        Assert.Equal(expected.Split(' '), Apply(given.Split(' ')));

    [Theory]
    [InlineData("exec --bogus IMG ls")]
    [InlineData("exec -Z IMG ls")]
    public void UnknownOptionBeforeImageIsAUsageError(string given)
    {
        var e = Assert.Throws<Core.Diagnostics.BurrowException>(() => Apply(given.Split(' ')));
        Assert.Equal(Core.Diagnostics.ExitCodes.Usage, e.ExitCode);
        Assert.Contains(given.Split(' ')[1], e.Message);
    }

    [Fact]
    public void ParsedCommandKeepsEverythingAfterImage()
    {
        ParseResult r = s_root.Parse(Apply("exec", "-B", "/a", "IMG", "ls", "-la", "--bind", "@resp", "--"),
            new ParserConfiguration { ResponseFileTokenReplacer = null });
        Assert.Empty(r.Errors);
        Assert.Equal("IMG", r.GetValue(ActionOptions.Image));
        Assert.Equal(["/a"], r.GetValue(ActionOptions.Bind)!);
        Assert.Equal(["ls", "-la", "--bind", "@resp", "--"], r.GetValue(ExecCommand.Command)!);
    }
}
