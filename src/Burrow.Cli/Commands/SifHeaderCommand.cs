using System.CommandLine;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

public static class SifHeaderCommand
{
    public static Command Create()
    {
        Argument<string> path = SifCommand.ImageArgument();
        var command = new Command("header", "Display global header") { path };
        command.SetAction(result => SifCommand.Run(result, () =>
        {
            using SifImage image = SifImage.Open(result.GetValue(path)!);
            SifCommand.WriteText(SifText.Header(image));
            return 0;
        }));
        return command;
    }
}
