using System.CommandLine;
using Burrow.Cli.Options;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Cli.Commands;

/// <summary>burrow run [options] IMAGE [ARGS…]</summary>
public static class RunCommand
{
    public static readonly Argument<string[]> Args = new("ARGS")
    {
        Description = "Arguments for the runscript (everything after IMAGE is passed as is)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static Command Create()
    {
        var command = new Command("run", "Run the image's runscript (/.singularity.d/runscript), or its shell if it has none");
        ActionRunner.AddOptions(command);
        command.Arguments.Add(ActionOptions.Image);
        command.Arguments.Add(Args);
        command.SetAction(result => ActionRunner.Run(result, ActionKind.Run, result.GetValue(Args) ?? []));
        return command;
    }
}
