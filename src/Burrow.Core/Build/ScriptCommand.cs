namespace Burrow.Core.Build;

/// <summary>
/// The command that runs a section's script, as Apptainer makes it: <c>/bin/sh -ex [ARGS…] SCRIPT</c>, where a
/// section's arguments are added before the script (<c>%post -x</c>); with <c>-c</c> everything after it becomes one
/// command string that ends with the script (<c>%post -c /bin/bash</c> runs <c>/bin/sh -ex -c "/bin/bash SCRIPT"</c>).
/// A # in the arguments starts a comment.
/// </summary>
public static class ScriptCommand
{
    public static IReadOnlyList<string> Argv(DefinitionScript section, string scriptPath, string sectionName, string definitionPath)
    {
        ArgumentNullException.ThrowIfNull(section);
        var argv = new List<string> { "/bin/sh", "-ex" };
        string[] parameters = section.Args.Split('#')[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        int c = Array.IndexOf(parameters, "-c");
        if (c < 0)
        {
            argv.AddRange(parameters);
            argv.Add(scriptPath);
            return argv;
        }
        if (c == parameters.Length - 1)
        {
            throw new DefinitionException(definitionPath, section.Line, sectionName, "-c needs a command after it (for example -c /bin/bash)");
        }
        argv.AddRange(parameters[..(c + 1)]);
        argv.Add(string.Join(' ', parameters[(c + 1)..]) + " " + scriptPath);
        return argv;
    }
}
