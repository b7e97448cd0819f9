using System.CommandLine;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

public static class SifDumpCommand
{
    public static Command Create()
    {
        Argument<uint> id = SifCommand.IdArgument();
        Argument<string> path = SifCommand.ImageArgument();
        var command = new Command("dump", "Dump data object (its raw bytes to standard output)") { id, path };
        command.SetAction(result => SifCommand.Run(result, () =>
        {
            using SifImage image = SifImage.Open(result.GetValue(path)!);
            SifDescriptor d = image.GetById(result.GetValue(id));
            using Stream data = image.OpenObject(d);
            data.CopyTo(Output.StandardOutput.Stream, 1 << 20);
            return 0;
        }));
        return command;
    }
}
