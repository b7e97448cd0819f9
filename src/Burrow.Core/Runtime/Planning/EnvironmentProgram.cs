using System.Globalization;
using System.Text;

namespace Burrow.Core.Runtime.Planning;

/// <summary>One step of setting up the payload's environment, after the initial variables and before the command.</summary>
public abstract record EnvStep;

/// <summary>Source an image script (/.singularity.d/env/*.sh, a SCIF app's env/*.sh): only a shell can.</summary>
public sealed record SourceScript(string Path) : EnvStep;

/// <summary>Set and export <paramref name="Name"/>; its value is evaluated in the container first when <paramref name="Evaluate"/>.</summary>
public sealed record SetVariable(string Name, string Value, bool Evaluate) : EnvStep;

/// <summary><c>NAME=DIR${NAME:+:$NAME}</c>: a directory first in a search path (a SCIF app's bin and lib).</summary>
public sealed record PrependDirectory(string Name, string Directory) : EnvStep;

/// <summary>
/// The user's PATH edits (BURROWENV_/--env PREPEND_PATH, APPEND_PATH and PATH), applied last as Apptainer's
/// 99-runtimevars.sh does: all three evaluated first, then prepend, append, and a non-empty PATH replaces the result.
/// </summary>
public sealed record EditPath(string? Prepend, string? Append, string? Replace, bool Evaluate) : EnvStep;

/// <summary>
/// The payload's environment as a program: initial variables, then steps in order. When no step needs a shell (no script
/// to source, no value beyond <see cref="ShellExpansion"/>), the planner runs it itself and the payload starts with the
/// result, no process added; otherwise <c>/bin/sh -c</c> runs it and then execs the command.
/// </summary>
public sealed record EnvironmentProgram(IReadOnlyList<EnvVar> Initial, IReadOnlyList<EnvStep> Steps)
{
    /// <summary>True when only a shell can carry the program out.</summary>
    public bool NeedsShell(Func<string, string?> shellVariables) =>
        Steps.Any(s => s is SourceScript) || Expressions().Any(v => !CanExpand(v, shellVariables));

    /// <summary>
    /// Runs the program without a shell: scripts are skipped (the caller warns), and a value only a shell could
    /// evaluate is kept as written (<paramref name="literal"/> is told its name).
    /// </summary>
    public IReadOnlyList<EnvVar> Evaluate(Func<string, string?> shellVariables, Action<string>? literal = null)
    {
        var env = new OrderedEnv(Initial);
        string Expand(string name, string value, bool evaluate)
        {
            if (!evaluate || !ShellExpansion.MayExpand(value))
            {
                return value;
            }
            if (ShellExpansion.TryExpandDoubleQuoted(value, n => env.Get(n) ?? shellVariables(n), out string result, out _))
            {
                return result;
            }
            literal?.Invoke(name);
            return value;
        }
        foreach (EnvStep step in Steps)
        {
            switch (step)
            {
                case SetVariable set:
                    env.Set(set.Name, Expand(set.Name, set.Value, set.Evaluate));
                    break;
                case PrependDirectory pre:
                    env.Set(pre.Name, env.Get(pre.Name) is { Length: > 0 } rest ? pre.Directory + ":" + rest : pre.Directory);
                    break;
                case EditPath edit:
                    string? prepend = edit.Prepend is null ? null : Expand("PREPEND_PATH", edit.Prepend, edit.Evaluate);
                    string? append = edit.Append is null ? null : Expand("APPEND_PATH", edit.Append, edit.Evaluate);
                    string? replace = edit.Replace is null ? null : Expand("PATH", edit.Replace, edit.Evaluate);
                    string path = env.Get("PATH") ?? "";
                    if (prepend is { Length: > 0 })
                    {
                        path = prepend + ":" + path;
                    }
                    if (append is { Length: > 0 })
                    {
                        path = path + ":" + append;
                    }
                    env.Set("PATH", replace is { Length: > 0 } ? replace : path);
                    break;
            }
        }
        return env.Items;
    }

    /// <summary>
    /// The program as a POSIX sh script: each step, then a check that the command exists, then <c>exec "$@"</c>.
    /// UID and GID are given the payload's ids where the shell lacks them (dash and ash do; bash's are read-only), so that
    /// <c>$UID</c> means what it means in Apptainer.
    /// </summary>
    public string Script(uint uid, uint gid)
    {
        var s = new StringBuilder();
        if (Expressions().Any(v => v.Contains("UID", StringComparison.Ordinal) || v.Contains("GID", StringComparison.Ordinal)))
        {
            s.Append(CultureInfo.InvariantCulture, $"[ -n \"${{UID+x}}\" ] || UID={uid}; [ -n \"${{GID+x}}\" ] || GID={gid}\n");
        }
        int lastSource = -1;
        for (int i = 0; i < Steps.Count; i++)
        {
            if (Steps[i] is SourceScript)
            {
                lastSource = i;
            }
        }
        if (lastSource >= 0)
        {
            // An env script that runs exit (or fails under set -e) ends the wrapper before the command: say which one, and how.
            s.Append("trap 'printf \"ERROR:   the image'\\''s environment script %s ended the container (exit status %s) before the command ran\\n\" \"$burrow_env_script\" \"$?\" >&2' EXIT\n");
        }
        for (int i = 0; i < Steps.Count; i++)
        {
            EnvStep step = Steps[i];
            switch (step)
            {
                case SourceScript script:
                    s.Append("burrow_env_script=").Append(Quote(script.Path)).Append("; . ").Append(Quote(script.Path)).Append('\n');
                    break;
                case SetVariable set:
                    s.Append("export ").Append(set.Name).Append('=').Append(Word(set.Value, set.Evaluate)).Append('\n');
                    break;
                case PrependDirectory pre:
                    s.Append(pre.Name).Append('=').Append(Quote(pre.Directory)).Append("\"${").Append(pre.Name).Append(":+:$").Append(pre.Name)
                        .Append("}\"; export ").Append(pre.Name).Append('\n');
                    break;
                case EditPath edit:
                    s.Append("burrow_pre=").Append(Word(edit.Prepend ?? "", edit.Evaluate))
                        .Append("; burrow_app=").Append(Word(edit.Append ?? "", edit.Evaluate))
                        .Append("; burrow_path=").Append(Word(edit.Replace ?? "", edit.Evaluate)).Append('\n');
                    s.Append("[ -z \"$burrow_pre\" ] || PATH=\"$burrow_pre:$PATH\"; [ -z \"$burrow_app\" ] || PATH=\"$PATH:$burrow_app\"; ")
                        .Append("[ -z \"$burrow_path\" ] || PATH=\"$burrow_path\"; export PATH; unset burrow_pre burrow_app burrow_path\n");
                    break;
            }
            if (i == lastSource)
            {
                s.Append("trap - EXIT\n");
            }
        }
        // The shell's own "not found" would not say where; keep Burrow's message and exit status 127.
        s.Append("command -v -- \"$1\" >/dev/null 2>&1 || { printf 'ERROR:   command not found in the container: %s\\n' \"$1\" >&2; exit 127; }\n");
        s.Append("exec \"$@\"\n");
        return s.ToString();
    }

    private IEnumerable<string> Expressions()
    {
        foreach (EnvStep step in Steps)
        {
            switch (step)
            {
                case SetVariable { Evaluate: true } set:
                    yield return set.Value;
                    break;
                case EditPath { Evaluate: true } edit:
                    foreach (string? v in new[] { edit.Prepend, edit.Append, edit.Replace })
                    {
                        if (v is not null)
                        {
                            yield return v;
                        }
                    }
                    break;
            }
        }
    }

    private static bool CanExpand(string value, Func<string, string?> shellVariables) =>
        !ShellExpansion.MayExpand(value) || ShellExpansion.TryExpandDoubleQuoted(value, shellVariables, out _, out _);

    /// <summary>A value for sh: "…" to be evaluated (Apptainer's rule), '…' to be taken as it is.</summary>
    private static string Word(string value, bool evaluate) =>
        evaluate && ShellExpansion.MayExpand(value) ? "\"" + ShellExpansion.ForDoubleQuotes(value) + "\"" : Quote(value);

    /// <summary>Single-quotes a value for sh.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>Insertion-ordered name → value; setting an existing name keeps its place.</summary>
internal sealed class OrderedEnv
{
    private readonly List<EnvVar> _items = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public OrderedEnv(IEnumerable<EnvVar>? initial = null)
    {
        foreach (EnvVar v in initial ?? [])
        {
            Set(v.Name, v.Value);
        }
    }

    public IReadOnlyList<EnvVar> Items => _items;

    public string? Get(string name) => _index.TryGetValue(name, out int i) ? _items[i].Value : null;

    public void Set(string name, string value)
    {
        if (_index.TryGetValue(name, out int i))
        {
            _items[i] = new EnvVar(name, value);
        }
        else
        {
            _index[name] = _items.Count;
            _items.Add(new EnvVar(name, value));
        }
    }

    public void Remove(string name)
    {
        if (_index.Remove(name, out int i))
        {
            _items.RemoveAt(i);
            for (int j = i; j < _items.Count; j++)
            {
                _index[_items[j].Name] = j;
            }
        }
    }
}
