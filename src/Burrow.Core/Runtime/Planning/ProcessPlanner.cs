namespace Burrow.Core.Runtime.Planning;

/// <summary>The payload's argv and environment for exec, run, shell and test.</summary>
public static class ProcessPlanner
{
    /// <summary>argv[0] of the environment wrapper, so that it shows up recognisably in ps.</summary>
    public const string WrapperName = "burrow-env";

    /// <summary>The argv the user's action means, before any wrapping; empty when --app names something the image lacks (a check says so).</summary>
    public static IReadOnlyList<string> ActionArgv(ActionRequest request, ImageFacts image) => request.Action switch
    {
        ActionKind.Exec => request.Arguments,
        ActionKind.Run when request.App is { } app => AppScript(ScifApp.Runscript(app), app, request, image),
        ActionKind.Run when image.KindOf(FactQueries.RunScript) == PathKind.File => [FactQueries.RunScript, .. request.Arguments],
        ActionKind.Run => [.. ShellArgv(request, image), .. request.Arguments],
        ActionKind.Shell => ShellArgv(request, image),
        ActionKind.Test when request.App is { } app => AppScript(ScifApp.Test(app), app, request, image),
        ActionKind.Test => [FactQueries.TestScript, .. request.Arguments],
        ActionKind.Start when image.KindOf(FactQueries.StartScript) == PathKind.File => [FactQueries.StartScript, .. request.Arguments],
        ActionKind.Start when image.KindOf(FactQueries.RunScript) == PathKind.File => [FactQueries.RunScript, .. request.Arguments],
        ActionKind.Start => [.. ShellArgv(request, image), .. request.Arguments],
        _ => throw new ArgumentOutOfRangeException(nameof(request), request.Action, "unknown action"),
    };

    private static IReadOnlyList<string> AppScript(string script, string app, ActionRequest request, ImageFacts image) =>
        ScifApp.IsValidName(app) && image.KindOf(script) == PathKind.File ? [script, .. request.Arguments] : [];

    /// <summary>--shell if given, else bash without rc files if the image has it, else /bin/sh.</summary>
    public static IReadOnlyList<string> ShellArgv(ActionRequest request, ImageFacts image) =>
        request.Shell is { Length: > 0 } shell ? [shell]
        : image.KindOf(FactQueries.Bash) == PathKind.File ? [FactQueries.Bash, "--norc"]
        : [FactQueries.Sh];

    /// <summary>True when the image has a /bin/sh to run the environment program with.</summary>
    public static bool HasShell(ImageFacts image) => image.KindOf(FactQueries.Sh) == PathKind.File;

    /// <summary>The process's argv, environment and the index of the user's command in argv.</summary>
    public sealed record Realized(IReadOnlyList<string> Argv, IReadOnlyList<EnvVar> Env, int CommandIndex, IReadOnlyList<string> Warnings);

    /// <summary>
    /// Carries the environment program out: by the planner itself when it can (no process added to the launch), else by
    /// <c>/bin/sh -c SCRIPT burrow-env ARGV…</c>, which runs the steps and execs the command. Without a /bin/sh in the
    /// image, scripts are skipped and values only a shell could evaluate stay as written, each with a warning.
    /// </summary>
    public static Realized Realize(EnvironmentProgram program, IReadOnlyList<string> argv, ImageFacts image, uint uid, uint gid)
    {
        Func<string, string?> shellVariables = name => name switch
        {
            "UID" or "EUID" => uid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "GID" => gid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        };
        if (argv.Count > 0 && HasShell(image) && program.NeedsShell(shellVariables))
        {
            return new Realized([FactQueries.Sh, "-c", program.Script(uid, gid), WrapperName, .. argv], program.Initial, 4, []);
        }
        var warnings = new List<string>();
        if (program.Steps.Any(s => s is SourceScript))
        {
            warnings.Add($"the image has environment scripts ({string.Join(", ", program.Steps.OfType<SourceScript>().Select(s => s.Path))}) "
                + $"but no {FactQueries.Sh} to source them with; they are ignored");
        }
        IReadOnlyList<EnvVar> env = program.Evaluate(shellVariables,
            name => warnings.Add($"the value of {name} is kept as written: evaluating it needs a shell, and the image has no {FactQueries.Sh}"));
        return new Realized(argv, env, 0, warnings);
    }

    /// <summary>Single-quotes a value for sh.</summary>
    public static string Quote(string value) => EnvironmentProgram.Quote(value);
}
