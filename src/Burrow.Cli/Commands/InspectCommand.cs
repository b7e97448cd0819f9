using System.CommandLine;
using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow inspect [--labels|--runscript|--test|--helpfile|--environment|--deffile|--json] [--app NAME|--list-apps] IMAGE</c>: the metadata Apptainer's
/// inspect shows, read from the SIF's <c>inspect-metadata.json</c> (an OCI source is pulled into the cache first),
/// or from <c>/.singularity.d</c> inside the image root of a sandbox directory or of a SIF without that object.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var labels = new Option<bool>("--labels", "-l") { Description = "Show the labels (the default)" };
        var runscript = new Option<bool>("--runscript", "-r") { Description = "Show the runscript" };
        var environment = new Option<bool>("--environment", "-e") { Description = "Show the environment scripts" };
        var deffile = new Option<bool>("--deffile", "-d") { Description = "Show the definition file the image was built from" };
        var test = new Option<bool>("--test", "-t") { Description = "Show the test script (the definition's %test)" };
        var helpfile = new Option<bool>("--helpfile", "-H") { Description = "Show the runscript's help (the definition's %help)" };
        var app = new Option<string?>("--app") { Description = "NAME show the SCIF app's metadata (/scif/apps/NAME/scif) instead of the image's" };
        var listApps = new Option<bool>("--list-apps") { Description = "List the image's SCIF apps (/scif/apps)" };
        var json = new Option<bool>("--json", "-j") { Description = "Print the metadata as JSON" };
        var image = new Argument<string>("IMAGE") { Description = "A SIF file, a sandbox directory, or docker://, docker-archive:, oci:, oci-archive:" };
        var command = new Command("inspect", "Show an image's metadata (labels, runscript, environment, definition)");
        foreach (Option o in new Option[] { labels, runscript, test, helpfile, environment, deffile, json, app, listApps })
        {
            command.Options.Add(o);
        }
        command.Arguments.Add(image);
        command.SetAction(async (result, ct) =>
        {
            GlobalOptions.Apply(result);
            CliConfig.Load(result); // cache-dir, temp-dir, binary-path
            string reference = result.GetValue(image)!;
            using CancellationTokenSource cancel = Interruption.Linked(ct);
            if (result.GetValue(listApps))
            {
                foreach (string name in ImageMetadataReader.ListApps(reference))
                {
                    Console.Out.WriteLine(TerminalText.Escape(name));
                }
                return 0;
            }
            ImageMetadata m = result.GetValue(app) is { } appName
                ? ImageMetadataReader.ReadApp(reference, appName)
                : await ImageMetadataReader.ReadAsync(reference, cancel.Token);
            if (result.GetValue(json))
            {
                // JSON escapes control characters itself (\u001b), so the output stays valid JSON and inert on a terminal.
                Console.Out.WriteLine(m.IndentedJson());
                return 0;
            }
            // Everything below is the image author's text: escaped for the terminal (TerminalText), so an ESC
            // sequence in a label or a runscript cannot erase, recolour or forge lines of this output.
            var sb = new StringBuilder();
            if (result.GetValue(runscript))
            {
                sb.Append(TerminalText.EscapeMultiline(m.Runscript));
            }
            if (result.GetValue(test))
            {
                sb.Append(TerminalText.EscapeMultiline(m.Test));
            }
            if (result.GetValue(helpfile))
            {
                sb.Append(TerminalText.EscapeMultiline(m.Helpfile));
            }
            if (result.GetValue(environment))
            {
                foreach ((string file, string content) in m.Environment)
                {
                    sb.Append("=== ").Append(TerminalText.Escape(file)).Append(" ===\n").Append(TerminalText.EscapeMultiline(content)).Append('\n');
                }
            }
            if (result.GetValue(deffile))
            {
                sb.Append(TerminalText.EscapeMultiline(m.Deffile));
            }
            // Labels are the default view; an empty runscript asked for alone prints nothing, not the labels.
            bool sectionAsked = result.GetValue(runscript) || result.GetValue(test) || result.GetValue(helpfile) || result.GetValue(environment) || result.GetValue(deffile);
            if (result.GetValue(labels) || !sectionAsked)
            {
                foreach ((string k, string v) in m.Labels)
                {
                    sb.Append(TerminalText.Escape(k)).Append(": ").Append(TerminalText.Escape(v)).Append('\n');
                }
            }
            Console.Out.Write(sb.ToString());
            return 0;
        });
        return command;
    }
}
