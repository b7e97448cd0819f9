using System.CommandLine;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

public static class SifInfoCommand
{
    public static Command Create()
    {
        Argument<uint> id = SifCommand.IdArgument();
        Argument<string> path = SifCommand.ImageArgument();
        var command = new Command("info", "Display data object info") { id, path };
        command.SetAction(result => SifCommand.Run(result, () =>
        {
            using SifImage image = SifImage.Open(result.GetValue(path)!);
            SifCommand.WriteText(SifText.Info(image.GetById(result.GetValue(id))));
            return 0;
        }));
        return command;
    }
}
