using System.Text;

namespace Burrow.Core.Runtime.Planning;

/// <summary>The payload's argv for exec, run and shell, wrapped to source the image's env scripts when it has any.</summary>
public static class ProcessPlanner
{
    /// <summary>argv[0] of the env-script wrapper, so that it shows up recognisably in ps.</summary>
    public const string WrapperName = "burrow-env";

    /// <summary>The argv the user's action means, before any wrapping.</summary>
    public static IReadOnlyList<string> ActionArgv(ActionRequest request, ImageFacts image) => request.Action switch
    {
        ActionKind.Exec => request.Arguments,
        ActionKind.Run when image.KindOf(FactQueries.RunScript) == PathKind.File => [FactQueries.RunScript, .. request.Arguments],
        ActionKind.Run => [.. ShellArgv(request, image), .. request.Arguments],
        ActionKind.Shell => ShellArgv(request, image),
        ActionKind.Test => [FactQueries.TestScript, .. request.Arguments],
        ActionKind.Start when image.KindOf(FactQueries.StartScript) == PathKind.File => [FactQueries.StartScript, .. request.Arguments],
        ActionKind.Start when image.KindOf(FactQueries.RunScript) == PathKind.File => [FactQueries.RunScript, .. request.Arguments],
        ActionKind.Start => [.. ShellArgv(request, image), .. request.Arguments],
        _ => throw new ArgumentOutOfRangeException(nameof(request), request.Action, "unknown action"),
    };

    /// <summary>--shell if given, else bash without rc files if the image has it, else /bin/sh.</summary>
    public static IReadOnlyList<string> ShellArgv(ActionRequest request, ImageFacts image) =>
        request.Shell is { Length: > 0 } shell ? [shell]
        : image.KindOf(FactQueries.Bash) == PathKind.File ? [FactQueries.Bash, "--norc"]
        : [FactQueries.Sh];

    /// <summary>True when the env scripts can be sourced: there are some, and a /bin/sh to source them with.</summary>
    public static bool CanSourceEnvScripts(ImageFacts image) =>
        image.EnvScripts.Count > 0 && image.KindOf(FactQueries.Sh) == PathKind.File;

    /// <summary>
    /// Wraps argv in <c>/bin/sh -c SCRIPT burrow-env ARGV…</c>: source each env script in order, then set the
    /// user's own variables again (they win over the image's, as in Apptainer), then exec the payload.
    /// </summary>
    public static IReadOnlyList<string> WithEnvScripts(IReadOnlyList<string> argv, IReadOnlyList<string> scripts, IReadOnlyList<EnvVar> userSet)
    {
        var script = new StringBuilder();
        // An env script that runs exit (or fails under set -e) ends the wrapper before the command: say which one, and how.
        script.Append("trap 'printf \"ERROR:   the image'\\''s environment script %s ended the container (exit status %s) before the command ran\\n\" \"$burrow_env_script\" \"$?\" >&2' EXIT\n");
        foreach (string path in scripts)
        {
            script.Append("burrow_env_script=").Append(Quote(path)).Append("; . ").Append(Quote(path)).Append('\n');
        }
        script.Append("trap - EXIT\n");
        foreach (EnvVar v in userSet)
        {
            script.Append("export ").Append(v.Name).Append('=').Append(Quote(v.Value)).Append('\n');
        }
        // The shell's own "not found" would not say where; keep Burrow's message and exit status 127.
        script.Append("command -v -- \"$1\" >/dev/null 2>&1 || { printf 'ERROR:   command not found in the container: %s\\n' \"$1\" >&2; exit 127; }\n");
        script.Append("exec \"$@\"\n");
        return [FactQueries.Sh, "-c", script.ToString(), WrapperName, .. argv];
    }

    /// <summary>Single-quotes a value for sh.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
