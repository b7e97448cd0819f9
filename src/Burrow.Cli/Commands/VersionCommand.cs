using System.CommandLine;
using System.Reflection;

namespace Burrow.Cli.Commands;

public static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Show the version of Burrow");
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            string version = typeof(VersionCommand).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            int plus = version.IndexOf('+');
            Console.Out.WriteLine(plus > 0 ? version[..plus] : version);
            return 0;
        });
        return command;
    }
}
