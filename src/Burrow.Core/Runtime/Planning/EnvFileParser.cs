using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Reads an --env-file: <c>NAME=value</c> lines, optionally prefixed by <c>export</c>, blank lines and
/// <c>#</c> comments ignored, values optionally in single or double quotes. Unlike Apptainer the file
/// is not evaluated by a shell: no expansion happens, so what you see is what the container gets.
/// </summary>
public static class EnvFileParser
{
    public static IReadOnlyList<EnvVar> Parse(string path, string text)
    {
        var result = new List<EnvVar>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }
            int eq = line.IndexOf('=');
            string name = eq > 0 ? line[..eq] : "";
            if (!EnvironmentPlanner.IsValidName(name))
            {
                throw new BurrowException($"--env-file {path} line {i + 1}: expected NAME=value, got '{lines[i].Trim()}'",
                    "each line must be NAME=value (optionally 'export NAME=value'); # starts a comment");
            }
            result.Add(new EnvVar(name, Unquote(line[(eq + 1)..])));
        }
        return result;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;
}
