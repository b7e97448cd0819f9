using System.CommandLine;
using System.Text.Json;
using Burrow.Core.Check;
using Burrow.Core.Config;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow check [--json]</c> (also <c>burrow config check</c>): one line per feature, OK or MISSING, with what was
/// found and, for a missing one, the fix. Exits 0 when containers can run here (every required feature is OK), else 1.
/// </summary>
public static class CheckCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the findings as JSON" };
        var command = new Command("check", "Check what this machine lets Burrow do: one line per feature, with the fix for what is missing");
        command.Options.Add(json);
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            LoadedConfig? config = null;
            BurrowException? error = null;
            try
            {
                config = CliConfig.Load(result);
            }
            catch (BurrowException e)
            {
                error = e;
            }
            IReadOnlyList<CheckItem> items = HostCheck.Run(RuntimePaths.FromProcess(), config, error);
            bool usable = items.All(i => i.Ok || !i.Required);
            if (result.GetValue(json))
            {
                WriteJson(items, usable);
            }
            else
            {
                int width = items.Max(i => i.Feature.Length);
                foreach (CheckItem i in items)
                {
                    Console.Out.WriteLine($"{(i.Ok ? "OK" : "MISSING"),-8}{i.Feature.PadRight(width)}  {i.Detail}");
                    if (!i.Ok && i.Fix is { } fix)
                    {
                        Console.Out.WriteLine($"{"",-8}{"".PadRight(width)}  fix: {fix}");
                    }
                }
                Console.Out.WriteLine(usable
                    ? "Burrow can run containers here" + (items.Any(i => !i.Ok) ? " (what is MISSING above only limits some images and options)" : "")
                    : "Burrow cannot run containers here until what is MISSING above (and required) is fixed");
            }
            return usable ? 0 : 1;
        });
        return command;
    }

    private static void WriteJson(IReadOnlyList<CheckItem> items, bool usable)
    {
        using Stream stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteBoolean("usable", usable);
            w.WriteStartArray("features");
            foreach (CheckItem i in items)
            {
                w.WriteStartObject();
                w.WriteString("feature", i.Feature);
                w.WriteString("status", i.Ok ? "OK" : "MISSING");
                w.WriteBoolean("required", i.Required);
                w.WriteString("detail", i.Detail);
                if (i.Fix is { } fix)
                {
                    w.WriteString("fix", fix);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
    }
}
