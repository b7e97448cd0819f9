using System.CommandLine;
using Burrow.Core.Diagnostics;

namespace Burrow.Cli;

/// <summary>Options every command accepts (Apptainer's -q/-s/-v/-d), applied before a command runs.</summary>
public static class GlobalOptions
{
    public static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Only print errors", Recursive = true };
    public static readonly Option<bool> Silent = new("--silent", "-s") { Description = "Print nothing, not even errors", Recursive = true };
    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Print more about what is done", Recursive = true };
    public static readonly Option<bool> Debug = new("--debug", "-d") { Description = "Print debugging information", Recursive = true };

    /// <summary>Apptainer's --config: only root, or anyone on an installation they made (see <see cref="Core.Config.ConfigLoader"/>).</summary>
    public static readonly Option<string?> Config = new("--config")
    {
        Description = "Use this burrow.conf instead of the installation's (root, or an installation you made; also $BURROW_CONFIG)",
        Recursive = true,
    };

    public static void AddTo(RootCommand root)
    {
        root.Options.Add(Quiet);
        root.Options.Add(Silent);
        root.Options.Add(Verbose);
        root.Options.Add(Debug);
        root.Options.Add(Config);
    }

    /// <summary>Sets the log level from the parse result; call first in every command action.</summary>
    public static void Apply(ParseResult result)
    {
        Log.Level = result.GetValue(Silent) ? LogLevel.Silent
            : result.GetValue(Quiet) ? LogLevel.Error
            : result.GetValue(Debug) ? LogLevel.Debug
            : result.GetValue(Verbose) ? LogLevel.Verbose
            : LogLevel.Info;
    }
}
