using System.CommandLine;
using Burrow.Cli.Commands;
using Burrow.Cli.Output;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // The stage runs once per container start: skip building the command tree (start-up time counts).
        // It reports its own failures to the engine over its socket.
        if (args.Length > 0 && args[0] == StageCommand.Name)
        {
            return Burrow.Core.Runtime.Stage.StageRunner.Run(args[1..]);
        }
        // A build's file work, run by burrow-starter as root of the build's user namespace.
        if (args.Length > 0 && args[0] == Burrow.Core.Build.Tasks.BuildTaskRunner.CommandName)
        {
            return Burrow.Core.Build.Tasks.BuildTaskRunner.Run(args[1..]);
        }
        // The capability probe of `burrow check`, run by burrow-starter inside the namespaces it tests.
        if (args.Length > 0 && args[0] == Burrow.Core.Runtime.Launch.NamespaceProbe.Command)
        {
            return Burrow.Core.Runtime.Stage.ProbeStage.Run(args[1..]);
        }
        // The holder of a shared image server's namespaces, run by burrow-starter (docs/ARCHITECTURE.md, "One server per image").
        if (args.Length > 0 && args[0] == Burrow.Core.Runtime.Sharing.ImageHolderStage.Command)
        {
            return Burrow.Core.Runtime.Sharing.ImageHolderStage.Run(args[1..]);
        }
        if (args.Length > 0 && args[0] == Burrow.Core.Runtime.Sharing.SharedImageServer.Command)
        {
            return Burrow.Core.Runtime.Sharing.SharedImageServer.Run(args[1..]);
        }
        bool[] closed = FileDescriptors.EnsureStandardDescriptors();
        StandardOutput.Install(closed);
        if (closed[0])
        {
            Console.SetIn(TextReader.Null); // never read a password from whatever the runtime put on descriptor 0
        }
        Interruption.Install();
        OriginalArguments = args;
        return ErrorBoundary.Run(() => Dispatch(args));
    }

    /// <summary>The command line as given, for commands that start burrow again (instance start).</summary>
    internal static IReadOnlyList<string> OriginalArguments { get; private set; } = [];

    private static int Dispatch(string[] args)
    {
        RootCommand root = BuildRoot();
        string[] tokens = Parsing.OptionsEndAtImage.Apply(root, args, ActionRunner.CommandNames);
        Parsing.UnknownOptions.Check(root, tokens, ActionRunner.CommandNames);
        // No @response files: "burrow exec IMG echo @x" must reach the container as typed. No default exception
        // handler and no termination handling of System.CommandLine's: failures reach the ErrorBoundary, signals
        // reach Interruption (which cleans up and exits 128+N).
        var parser = new ParserConfiguration { ResponseFileTokenReplacer = null };
        ParseResult parsed = root.Parse(tokens, parser);
        if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
        {
            return ReportUsage(parsed);
        }
        return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    /// <summary>Command-line mistakes as one ERROR: line like every other failure, pointing at the command's help, exit 1 (Apptainer's).</summary>
    private static int ReportUsage(ParseResult parsed)
    {
        Command command = parsed.CommandResult.Command;
        string help = command is RootCommand ? "see burrow --help" : $"see burrow {command.Name} --help";
        string errors = string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.')).Distinct());
        Log.Failure(errors + "; " + help);
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
        root.Subcommands.Add(InstanceCommand.Create());
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(PullCommand.Create());
        root.Subcommands.Add(RegistryCommand.Create());
        root.Subcommands.Add(BuildCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(RunHelpCommand.Create());
        root.Subcommands.Add(CacheCommand.Create());
        root.Subcommands.Add(KeyCommand.Create());
        root.Subcommands.Add(SignCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(SifCommand.Create());
        root.Subcommands.Add(StageCommand.Create());
        root.Subcommands.Add(RunPlanCommand.Create());
        return root;
    }
}
