using System.CommandLine;
using Burrow.Core.Config;
using Burrow.Core.Runtime;
using Burrow.Linux;

namespace Burrow.Cli;

/// <summary>
/// Reads the configuration once per command, at the edge (--config, $BURROW_CONFIG, else the installation's file), and
/// applies its process-wide parts (cache-dir, temp-dir, binary-path). Commands pass <see cref="LoadedConfig.Config"/>
/// on as data to the image opener, the identity resolver and the planner.
/// </summary>
internal static class CliConfig
{
    private static LoadedConfig? s_loaded;

    public static Installation Installation() => Core.Config.Installation.Detect(RuntimePaths.FromProcess());

    public static LoadedConfig Load(ParseResult result)
    {
        if (s_loaded is not null)
        {
            return s_loaded;
        }
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        LoadedConfig loaded = ConfigLoader.Load(Installation(), result.GetValue(GlobalOptions.Config),
            Environment.GetEnvironmentVariable(ConfigLoader.EnvironmentVariable), ProcessSecurity.Uid);
        ConfiguredDirectories.Apply(loaded.Config);
        // bench/runtime/config.sh reads this line: what the configuration costs every launch.
        if (Core.Diagnostics.Log.Level <= Core.Diagnostics.LogLevel.Debug)
        {
            Core.Diagnostics.Log.Debug(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"configuration {loaded.Path} ({(loaded.Exists ? "read" : "absent")}) in {System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds:F3} ms"));
        }
        return s_loaded = loaded;
    }
}
