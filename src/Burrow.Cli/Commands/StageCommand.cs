using System.CommandLine;
using Burrow.Core.Runtime.Stage;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow __stage</c>: the in-namespace half of a launch, exec'd by burrow-starter. Hidden, and
/// normally reached through <see cref="Program.Main"/>'s fast path, which skips building the whole
/// command tree because start-up time counts on this path.
/// </summary>
public static class StageCommand
{
    public const string Name = "__stage";

    public static Command Create()
    {
        var args = new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(Name, "Internal: run a launch plan inside the container's namespaces") { Hidden = true };
        command.Arguments.Add(args);
        command.SetAction(result => StageRunner.Run(result.GetValue(args) ?? []));
        return command;
    }
}
