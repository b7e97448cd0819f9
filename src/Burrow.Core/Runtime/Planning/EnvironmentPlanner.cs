using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Apptainer's environment rules (apptainer-behaviour.md §2.4): host variables pass through except PATH,
/// LD_LIBRARY_PATH, HOME, Burrow's own BURROW_* and the names of --no-env; --cleanenv keeps only TERM and the proxy
/// variables and sets LANG=C. Then, in the container, the image's /.singularity.d/env/*.sh (and a SCIF app's
/// environment) are sourced in order, and the user's own values are set last so they win: BURROWENV_X, then
/// --env-file, then --env, each evaluated in the container's environment as Apptainer does (<c>PATH=$PATH:/opt</c>,
/// <c>'$UID'</c>) unless --no-eval. PATH, PREPEND_PATH and APPEND_PATH edit the PATH as Apptainer's runtime variables do;
/// a LD_LIBRARY_PATH gets /.singularity.d/libs appended.
/// </summary>
public static class EnvironmentPlanner
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    public const string Prompt = "Burrow> ";
    public const string OwnPrefix = "BURROW_";
    public const string SetPrefix = "BURROWENV_";

    /// <summary>
    /// The prefixes that set a container variable, weakest first: Apptainer's and Singularity's own, so that job scripts
    /// written for them carry over, then Burrow's, which wins. None of them is passed into the container as it is.
    /// </summary>
    public static readonly IReadOnlyList<string> SetPrefixes = ["SINGULARITYENV_", "APPTAINERENV_", SetPrefix];
    public const string ImageLibraries = "/.singularity.d/libs";

    private static readonly string[] s_neverPassed = ["PATH", "LD_LIBRARY_PATH", "HOME"];

    /// <summary>What --cleanenv keeps from the host.</summary>
    public static readonly IReadOnlyList<string> CleanEnvKeeps =
    [
        "TERM", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
        "all_proxy", "ALL_PROXY", "ftp_proxy", "FTP_PROXY",
    ];

    public static EnvironmentProgram Plan(PlanInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ActionRequest request = input.Request;
        HostFacts host = input.Host;
        bool clean = request.CleanEnv || request.ContainAll;
        var blocked = request.NoEnv.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToHashSet(StringComparer.Ordinal);
        var env = new OrderedEnv();
        foreach (EnvVar v in host.Environment)
        {
            if (clean ? CleanEnvKeeps.Contains(v.Name) : PassesThrough(v.Name) && !blocked.Contains(v.Name))
            {
                env.Set(v.Name, v.Value);
            }
        }
        if (clean)
        {
            env.Set("LANG", "C");
        }
        env.Set("PATH", DefaultPath);
        env.Set("HOME", input.Identity.HomeDestination);
        env.Set("PS1", Prompt);
        string imageRoot = input.Image.RootPath;
        env.Set("BURROW_CONTAINER", imageRoot);
        env.Set("BURROW_NAME", Path.GetFileName(imageRoot.TrimEnd('/')));
        if (request.App is { } app)
        {
            // Apptainer's names too: the images' own 95-apps.sh and app scripts test SINGULARITY_APPNAME.
            foreach (string name in new[] { "BURROW_APPNAME", "APPTAINER_APPNAME", "SINGULARITY_APPNAME" })
            {
                env.Set(name, app);
            }
        }

        var steps = new List<EnvStep>();
        IReadOnlyList<EnvStep> appSteps = request.App is { } appName && !input.Image.EnvScripts.Contains(ScifApp.ImageAppsScript)
            ? ScifApp.EnvironmentSteps(appName, input.Image) : [];
        bool appStepsPlaced = appSteps.Count == 0;
        foreach (string script in input.Image.EnvScripts)
        {
            // Where the image's own 95-apps.sh would have run (Apptainer writes it into every image it builds).
            if (!appStepsPlaced && string.CompareOrdinal(script, ScifApp.ImageAppsScript) > 0)
            {
                steps.AddRange(appSteps);
                appStepsPlaced = true;
            }
            steps.Add(new SourceScript(script));
        }
        if (!appStepsPlaced)
        {
            steps.AddRange(appSteps);
        }
        steps.AddRange(UserSteps(input));
        return new EnvironmentProgram(env.Items, steps);
    }

    /// <summary>The user's variables, in Apptainer's order of precedence (SINGULARITYENV_, APPTAINERENV_, BURROWENV_, then --env-file, then --env), as steps.</summary>
    public static IReadOnlyList<EnvStep> UserSteps(PlanInput input)
    {
        ActionRequest request = input.Request;
        var user = new OrderedEnv();
        foreach (string prefix in SetPrefixes)
        {
            foreach (EnvVar v in input.Host.Environment.Where(v => v.Name.StartsWith(prefix, StringComparison.Ordinal)))
            {
                user.Set(Checked(v.Name[prefix.Length..], v.Name + "=" + v.Value), v.Value);
            }
        }
        foreach ((string file, EnvVar v) in EnvFileValues(request, input.Host))
        {
            user.Set(Checked(v.Name, $"--env-file {file}: {v.Name}"), v.Value);
        }
        foreach (string given in EnvOptionValues(request.Env))
        {
            int eq = given.IndexOf('=');
            if (eq <= 0)
            {
                throw new BurrowException($"--env {given}: expected NAME=value", "for example --env LANG=C.UTF-8");
            }
            user.Set(Checked(given[..eq], "--env " + given), given[(eq + 1)..]);
        }
        bool evaluate = !request.NoEval;
        var steps = new List<EnvStep>();
        foreach (EnvVar v in user.Items)
        {
            if (v.Name is "PATH" or "PREPEND_PATH" or "APPEND_PATH")
            {
                continue;
            }
            // As Apptainer: the image's libraries (/.singularity.d/libs, bound there by GPU options) stay searchable.
            string value = v.Name == "LD_LIBRARY_PATH" && v.Value.Length > 0 ? v.Value + ":" + ImageLibraries : v.Value;
            steps.Add(new SetVariable(v.Name, value, evaluate));
        }
        if (user.Get("PATH") is not null || user.Get("PREPEND_PATH") is not null || user.Get("APPEND_PATH") is not null)
        {
            steps.Add(new EditPath(user.Get("PREPEND_PATH"), user.Get("APPEND_PATH"), user.Get("PATH"), evaluate));
        }
        return steps;
    }

    /// <summary>Every --env-file's assignments, read with the host's environment (Apptainer evaluates env files on the host).</summary>
    public static IEnumerable<(string File, EnvVar Value)> EnvFileValues(ActionRequest request, HostFacts host)
    {
        foreach (string file in request.EnvFiles)
        {
            string text = host.EnvFiles.TryGetValue(file, out string? t) ? t
                : throw new InvalidOperationException($"--env-file {file} was not read");
            foreach (EnvVar v in EnvFileParser.Parse(file, text, host.Environment))
            {
                yield return (file, v);
            }
        }
    }

    /// <summary>
    /// The NAME=value items of every --env, each of which may be a comma list as in Apptainer (<c>--env A=1,B=2</c>):
    /// a piece that does not start with NAME= belongs to the value before it (<c>--env LD_LIBRARY_PATH=/a,/b</c>).
    /// </summary>
    public static IEnumerable<string> EnvOptionValues(IEnumerable<string> values)
    {
        foreach (string value in values)
        {
            string? current = null;
            foreach (string piece in value.Split(','))
            {
                int eq = piece.IndexOf('=');
                bool starts = eq > 0 && IsValidName(piece[..eq]);
                if (current is not null && !starts)
                {
                    current += "," + piece;
                    continue;
                }
                if (current is not null)
                {
                    yield return current;
                }
                current = piece;
            }
            if (current is not null)
            {
                yield return current;
            }
        }
    }

    public static bool PassesThrough(string name) =>
        !s_neverPassed.Contains(name)
        && !name.StartsWith(OwnPrefix, StringComparison.Ordinal)
        && !SetPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    public static bool IsValidName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string Checked(string name, string given)
    {
        if (!IsValidName(name))
        {
            throw new BurrowException($"{given}: '{name}' is not a valid environment variable name", "names are letters, digits and _, not starting with a digit");
        }
        if (name == "HOME")
        {
            // As Apptainer: HOME follows the home bind; overriding it would point the payload at the wrong place.
            throw new BurrowException($"{given}: overriding HOME is not permitted", "HOME is the home directory bound into the container; use --home SRC:DST to change where it is");
        }
        return name;
    }
}
