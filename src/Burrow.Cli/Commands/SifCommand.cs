using System.CommandLine;
using Burrow.Core.Diagnostics;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow sif</c>: siftool's commands (header, list, info, dump, new, add, del, setprim) with its flags
/// and byte-identical output.
/// </summary>
public static class SifCommand
{
    public static Command Create()
    {
        var command = new Command("sif", "Inspect and edit SIF images (siftool's commands, output and flags)");
        command.Subcommands.Add(SifHeaderCommand.Create());
        command.Subcommands.Add(SifListCommand.Create());
        command.Subcommands.Add(SifInfoCommand.Create());
        command.Subcommands.Add(SifDumpCommand.Create());
        command.Subcommands.Add(SifNewCommand.Create());
        command.Subcommands.Add(SifAddCommand.Create());
        command.Subcommands.Add(SifDelCommand.Create());
        command.Subcommands.Add(SifSetprimCommand.Create());
        return command;
    }

    internal static Argument<string> ImageArgument() => new("sif_path") { Description = "Path of the SIF image" };

    internal static Argument<uint> IdArgument() => new("id") { Description = "Object ID (see burrow sif list)" };

    /// <summary>Runs a command body after applying the global options; failures go to the CLI's error boundary.</summary>
    internal static int Run(ParseResult result, Func<int> body)
    {
        GlobalOptions.Apply(result);
        return body();
    }

    /// <summary>Writes siftool's text to stdout as UTF-8 bytes, exactly, with no added newline.</summary>
    internal static void WriteText(string text)
    {
        Output.StandardOutput.Stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
    }
}
