using System.CommandLine;
using System.Text.Json;
using Burrow.Core.Config;

namespace Burrow.Cli.Commands;

/// <summary><c>burrow config show|check</c>: the configuration in force, each value with where it came from; and the host check.</summary>
public static class ConfigCommand
{
    public static Command Create()
    {
        var command = new Command("config", "Show the configuration in force, or check this machine (as burrow check)");
        command.Subcommands.Add(Show());
        command.Subcommands.Add(CheckCommand.Create());
        return command;
    }

    private static Command Show()
    {
        var json = new Option<bool>("--json") { Description = "Print the configuration as JSON" };
        var command = new Command("show", "Print the effective configuration and where each value came from (a file's line, or the default)");
        command.Options.Add(json);
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            LoadedConfig loaded = CliConfig.Load(result);
            if (result.GetValue(json))
            {
                WriteJson(loaded);
                return 0;
            }
            string state = loaded.Exists ? "" : " (absent: every key has its default)";
            Console.Out.WriteLine($"# configuration: {loaded.Path}{state}, chosen by {Chooser(loaded)}");
            string[] lines = ConfigKeys.Names.Select(k => $"{k} = {ConfigKeys.Render(loaded.Config, k)}").ToArray();
            int width = lines.Max(l => l.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                Console.Out.WriteLine($"{lines[i].PadRight(width)}  # {loaded.Config.OriginOf(ConfigKeys.Names[i])}");
            }
            return 0;
        });
        return command;
    }

    private static string Chooser(LoadedConfig loaded) => loaded.ChosenBy == "installation" ? "the installation" : loaded.ChosenBy;

    private static void WriteJson(LoadedConfig loaded)
    {
        using Stream stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", loaded.Path);
            w.WriteBoolean("exists", loaded.Exists);
            w.WriteString("chosenBy", loaded.ChosenBy);
            w.WriteStartArray("keys");
            foreach (string key in ConfigKeys.Names)
            {
                ConfigOrigin origin = loaded.Config.OriginOf(key);
                w.WriteStartObject();
                w.WriteString("key", key);
                w.WriteString("value", ConfigKeys.Render(loaded.Config, key));
                if (origin.IsDefault)
                {
                    w.WriteString("source", "default");
                }
                else
                {
                    w.WriteString("source", origin.File);
                    w.WriteNumber("line", origin.Line);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        stdout.Write("\n"u8);
    }
}
