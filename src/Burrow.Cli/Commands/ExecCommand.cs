using System.CommandLine;
using Burrow.Cli.Options;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Cli.Commands;

/// <summary>burrow exec [options] IMAGE COMMAND [ARGS…]</summary>
public static class ExecCommand
{
    public static readonly Argument<string[]> Command = new("COMMAND")
    {
        Description = "The command to run in the container and its arguments (everything after IMAGE is passed as is)",
        Arity = ArgumentArity.OneOrMore,
    };

    public static Command Create()
    {
        var command = new Command("exec", "Run a command in a container");
        ActionRunner.AddOptions(command);
        command.Arguments.Add(ActionOptions.Image);
        command.Arguments.Add(Command);
        command.SetAction(result => ActionRunner.Run(result, ActionKind.Exec, result.GetValue(Command) ?? []));
        return command;
    }
}
