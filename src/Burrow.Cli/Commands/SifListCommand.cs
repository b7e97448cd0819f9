using System.CommandLine;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

public static class SifListCommand
{
    public static Command Create()
    {
        Argument<string> path = SifCommand.ImageArgument();
        var command = new Command("list", "List data objects (reads only the header and the descriptor table)") { path };
        command.SetAction(result => SifCommand.Run(result, () =>
        {
            using SifImage image = SifImage.Open(result.GetValue(path)!);
            SifCommand.WriteText(SifText.List(image));
            return 0;
        }));
        return command;
    }
}
