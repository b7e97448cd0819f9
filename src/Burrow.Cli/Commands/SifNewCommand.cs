using System.CommandLine;
using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

public static class SifNewCommand
{
    public static Command Create()
    {
        Argument<string> path = SifCommand.ImageArgument();
        var deterministic = new Option<bool>("--deterministic") { Description = "Nil ID and Go's zero time, so that equal inputs give equal bytes (not in siftool)" };
        var command = new Command("new", "Create SIF image (empty: random ID, the current time, 48 descriptor slots)") { path, deterministic };
        command.SetAction(result => SifCommand.Run(result, () =>
        {
            string target = result.GetValue(path)!;
            if (Directory.Exists(target))
            {
                throw new BurrowException($"cannot create SIF image {target}: it is a directory");
            }
            SifBuilder.Create(target, [], new SifCreateOptions { Deterministic = result.GetValue(deterministic) });
            return 0;
        }));
        return command;
    }
}
