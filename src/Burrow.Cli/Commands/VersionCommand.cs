using System.CommandLine;
using System.Reflection;
using Burrow.Core.Config;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow version</c>: the version on the first line (as Apptainer prints it, for scripts), then the commit it was
/// built from, the installation prefix detected from the binary's place, and the configuration file that applies.
/// </summary>
public static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Show the version of Burrow, its commit and where it is installed");
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            string version = typeof(VersionCommand).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            int plus = version.IndexOf('+');
            Console.Out.WriteLine(plus > 0 ? version[..plus] : version);
            Console.Out.WriteLine("commit:        " + (plus > 0 ? version[(plus + 1)..] : "unknown"));
            Installation installation = CliConfig.Installation();
            Console.Out.WriteLine("prefix:        " + installation.Prefix);
            Console.Out.WriteLine("configuration: " + installation.ConfigFile + (File.Exists(installation.ConfigFile) ? "" : " (absent: defaults)"));
            return 0;
        });
        return command;
    }
}
