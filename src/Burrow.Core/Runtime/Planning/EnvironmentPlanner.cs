using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>The payload's environment and the part of it the user set explicitly (which wins over the image's env scripts).</summary>
public sealed record PlannedEnvironment(IReadOnlyList<EnvVar> Env, IReadOnlyList<EnvVar> UserSet);

/// <summary>
/// Apptainer's environment rules (apptainer-behaviour.md §2.4): host variables pass through except
/// PATH, LD_LIBRARY_PATH, HOME and Burrow's own BURROW_*; BURROWENV_X=v sets X; --env-file, then
/// --env (each later one wins); --cleanenv keeps only TERM and the proxy variables and sets LANG=C.
/// </summary>
public static class EnvironmentPlanner
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    public const string Prompt = "Burrow> ";
    public const string OwnPrefix = "BURROW_";
    public const string SetPrefix = "BURROWENV_";

    private static readonly string[] s_neverPassed = ["PATH", "LD_LIBRARY_PATH", "HOME"];

    /// <summary>What --cleanenv keeps from the host.</summary>
    public static readonly IReadOnlyList<string> CleanEnvKeeps =
    [
        "TERM", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
        "all_proxy", "ALL_PROXY", "ftp_proxy", "FTP_PROXY",
    ];

    public static PlannedEnvironment Plan(ActionRequest request, HostFacts host, string homeDestination, string imageRoot)
    {
        bool clean = request.CleanEnv || request.ContainAll;
        var env = new OrderedEnv();
        foreach (EnvVar v in host.Environment)
        {
            if (clean ? CleanEnvKeeps.Contains(v.Name) : PassesThrough(v.Name))
            {
                env.Set(v.Name, v.Value);
            }
        }
        if (clean)
        {
            env.Set("LANG", "C");
        }
        env.Set("PATH", DefaultPath);
        env.Set("HOME", homeDestination);
        env.Set("PS1", Prompt);
        env.Set("BURROW_CONTAINER", imageRoot);
        env.Set("BURROW_NAME", Path.GetFileName(imageRoot.TrimEnd('/')));

        var user = new OrderedEnv();
        foreach (EnvVar v in host.Environment.Where(v => v.Name.StartsWith(SetPrefix, StringComparison.Ordinal)))
        {
            user.Set(Checked(v.Name[SetPrefix.Length..], v.Name + "=" + v.Value), v.Value);
        }
        foreach (string file in request.EnvFiles)
        {
            string text = host.EnvFiles.TryGetValue(file, out string? t) ? t
                : throw new InvalidOperationException($"--env-file {file} was not read");
            foreach (EnvVar v in EnvFileParser.Parse(file, text))
            {
                user.Set(Checked(v.Name, $"--env-file {file}: {v.Name}"), v.Value);
            }
        }
        foreach (string given in request.Env)
        {
            int eq = given.IndexOf('=');
            if (eq <= 0)
            {
                throw new BurrowException($"--env {given}: expected NAME=value", "for example --env LANG=C.UTF-8");
            }
            user.Set(Checked(given[..eq], "--env " + given), given[(eq + 1)..]);
        }
        foreach (EnvVar v in user.Items)
        {
            env.Set(v.Name, v.Value);
        }
        return new PlannedEnvironment(env.Items, user.Items);
    }

    public static bool PassesThrough(string name) =>
        !s_neverPassed.Contains(name)
        && !name.StartsWith(OwnPrefix, StringComparison.Ordinal)
        && !name.StartsWith(SetPrefix, StringComparison.Ordinal);

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
            throw new BurrowException($"{given}: overriding HOME is not permitted", "HOME is the home directory bound into the container; use --no-home or --contain to change what is there");
        }
        return name;
    }

    /// <summary>Insertion-ordered name → value; setting an existing name keeps its place.</summary>
    private sealed class OrderedEnv
    {
        private readonly List<EnvVar> _items = [];

        public IReadOnlyList<EnvVar> Items => _items;

        public void Set(string name, string value)
        {
            int i = _items.FindIndex(v => v.Name == name);
            if (i >= 0)
            {
                _items[i] = new EnvVar(name, value);
            }
            else
            {
                _items.Add(new EnvVar(name, value));
            }
        }
    }
}
