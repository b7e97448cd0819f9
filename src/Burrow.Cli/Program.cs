using System.CommandLine;
using Burrow.Cli.Commands;
using Burrow.Core.Diagnostics;

namespace Burrow.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // The stage runs once per container start: skip building the command tree (start-up time counts).
        if (args.Length > 0 && args[0] == StageCommand.Name)
        {
            return Burrow.Core.Runtime.Stage.StageRunner.Run(args[1..]);
        }
        if (args.Length > 0 && args[0] == Burrow.Core.Runtime.Launch.NamespaceProbe.Command)
        {
            return Burrow.Core.Runtime.Stage.ProbeStage.Run(args[1..]);
        }
        try
        {
            RootCommand root = BuildRoot();
            string[] tokens = Parsing.OptionsEndAtImage.Apply(root, args, ActionRunner.CommandNames);
            // No @response files: "burrow exec IMG echo @x" must reach the container as typed. And no default
            // exception handler: a BurrowException must reach Report below, not print a stack trace.
            var parser = new ParserConfiguration { ResponseFileTokenReplacer = null };
            ParseResult parsed = root.Parse(tokens, parser);
            if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
            {
                return ReportUsage(parsed);
            }
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (BurrowException e)
        {
            return Report(e);
        }
    }

    /// <summary>Command-line mistakes as ERROR: lines like every other failure, pointing at the command's help, exit 2.</summary>
    private static int ReportUsage(ParseResult parsed)
    {
        foreach (string message in parsed.Errors.Select(e => e.Message).Distinct())
        {
            Log.Failure(message);
        }
        Command command = parsed.CommandResult.Command;
        Log.Failure(command is RootCommand ? "see burrow --help" : $"see burrow {command.Name} --help");
        return ExitCodes.Usage;
    }

    /// <summary>Every command, one class each; the order here is the order in --help.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Burrow: containers for unprivileged users on shared Linux machines.");
        GlobalOptions.AddTo(root);
        root.Subcommands.Add(ExecCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ShellCommand.Create());
        root.Subcommands.Add(TestCommand.Create());
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(PullCommand.Create());
        root.Subcommands.Add(RegistryCommand.Create());
        root.Subcommands.Add(BuildCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(CacheCommand.Create());
        root.Subcommands.Add(SifCommand.Create());
        root.Subcommands.Add(StageCommand.Create());
        root.Subcommands.Add(RunPlanCommand.Create());
        return root;
    }

    /// <summary>Prints a user-facing failure as Apptainer does: an ERROR: line, then the fix, never a stack trace.</summary>
    public static int Report(BurrowException e)
    {
        Log.Failure(e.Message);
        if (e.Hint is { Length: > 0 } hint)
        {
            Log.Failure(hint);
        }
        return e.ExitCode;
    }
}
