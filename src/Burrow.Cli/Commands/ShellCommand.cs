using System.CommandLine;
using Burrow.Cli.Options;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Cli.Commands;

/// <summary>burrow shell [options] IMAGE</summary>
public static class ShellCommand
{
    public static Command Create()
    {
        var command = new Command("shell", "Start an interactive shell in a container (prompt 'Burrow> ')");
        ActionRunner.AddOptions(command);
        command.Arguments.Add(ActionOptions.Image);
        command.SetAction(result => ActionRunner.Run(result, ActionKind.Shell, []));
        return command;
    }
}
