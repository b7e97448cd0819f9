using System.CommandLine;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow run-help [--app NAME] IMAGE</c>: the runscript's help (the definition's %help, or an app's %apphelp), as
/// Apptainer's run-help prints it; an image without one gets Apptainer's note and status 0.
/// </summary>
public static class RunHelpCommand
{
    public static Command Create()
    {
        var app = new Option<string?>("--app") { Description = "NAME show the help of the SCIF app NAME (/scif/apps/NAME/scif/runscript.help)" };
        var image = new Argument<string>("IMAGE") { Description = "A SIF file, a sandbox directory, or docker://, docker-archive:, oci:, oci-archive:" };
        var command = new Command("run-help", "Show the help of the image's runscript (the definition's %help)");
        command.Options.Add(app);
        command.Arguments.Add(image);
        command.SetAction(async (result, ct) =>
        {
            GlobalOptions.Apply(result);
            string reference = result.GetValue(image)!;
            string? appName = result.GetValue(app);
            using CancellationTokenSource cancel = Interruption.Linked(ct);
            ImageMetadata m = appName is not null
                ? ImageMetadataReader.ReadApp(reference, appName)
                : await ImageMetadataReader.ReadAsync(reference, cancel.Token);
            if (m.Helpfile.Length == 0)
            {
                Log.Info(appName is null ? "No help sections were defined for this image" : $"No help sections were defined for the app {appName}");
                return 0;
            }
            string text = TerminalText.EscapeMultiline(m.Helpfile);
            Console.Out.Write(text.EndsWith('\n') ? text : text + "\n");
            return 0;
        });
        return command;
    }
}
