using System.CommandLine;
using Burrow.Core.Sif;

namespace Burrow.Cli.Commands;

public static class SifSetprimCommand
{
    public static Command Create()
    {
        Argument<uint> id = SifCommand.IdArgument();
        Argument<string> path = SifCommand.ImageArgument();
        var command = new Command("setprim",
            "Set primary system partition. Unlike siftool 2.8.3, which writes the first 3 bytes of the arch name "
            + "(\"amd\") into the partition and so shows it as \"unknown\" afterwards, the partition keeps its arch code "
            + "and both changed descriptors get the new modification time, as in sif v2.11 and Apptainer's sif.") { id, path };
        command.SetAction(result => SifCommand.Run(result, () =>
        {
            using SifImage image = SifImage.Open(result.GetValue(path)!, writable: true);
            image.SetPrimaryPartition(result.GetValue(id));
            return 0;
        }));
        return command;
    }
}
