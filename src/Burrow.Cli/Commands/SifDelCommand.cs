using System.CommandLine;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

public static class SifDelCommand
{
    public static Command Create()
    {
        Argument<uint> id = SifCommand.IdArgument();
        Argument<string> path = SifCommand.ImageArgument();
        var zero = new Option<bool>("--zero") { Description = "Overwrite the object's data with zeros (not in siftool)" };
        var compact = new Option<bool>("--compact") { Description = "Shrink the file to the last remaining object (not in siftool)" };
        var command = new Command("del", "Delete data object (as siftool: the data stays in place unless --zero or --compact)") { id, path, zero, compact };
        command.SetAction(result => SifCommand.Run(result, () =>
        {
            using SifImage image = SifImage.Open(result.GetValue(path)!, writable: true);
            image.DeleteObject(result.GetValue(id), result.GetValue(zero), result.GetValue(compact));
            return 0;
        }));
        return command;
    }
}
