using System.CommandLine;
using Burrow.Cli.Options;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Cli.Commands;

/// <summary>burrow run [options] IMAGE [ARGS…]</summary>
public static class RunCommand
{
    public static Command Create() =>
        WithArguments("run", "Run the image's runscript (/.singularity.d/runscript), or its shell if it has none", "the runscript", ActionKind.Run);

    /// <summary>An action whose arguments after IMAGE go to an image script as they are (run, test).</summary>
    internal static Command WithArguments(string name, string description, string receiver, ActionKind kind)
    {
        var args = new Argument<string[]>("ARGS")
        {
            Description = $"Arguments for {receiver} (everything after IMAGE is passed as is)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command(name, description);
        ActionRunner.AddOptions(command);
        command.Arguments.Add(ActionOptions.Image);
        command.Arguments.Add(args);
        command.SetAction(result => ActionRunner.Run(result, kind, result.GetValue(args) ?? []));
        return command;
    }
}
