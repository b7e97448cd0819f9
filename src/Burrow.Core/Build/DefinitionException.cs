using Burrow.Core.Diagnostics;

namespace Burrow.Core.Build;

/// <summary>A mistake in a definition file, named by file, line and section so that the user can go straight to it.</summary>
public sealed class DefinitionException : BurrowException
{
    internal DefinitionException(string path, int line, string? section, string problem, string? hint = null)
        : base(Format(path, line, section, problem), hint, ExitCodes.Failure)
    {
        File = path;
        Line = line;
        Section = section;
        Problem = problem;
    }

    public string File { get; }

    /// <summary>1-based; 0 when the problem is the file as a whole.</summary>
    public int Line { get; }

    /// <summary>"%post", "header", or null for the file as a whole.</summary>
    public string? Section { get; }

    public string Problem { get; }

    private static string Format(string path, int line, string? section, string problem)
    {
        string where = "definition file " + path;
        if (line > 0)
        {
            where += ", line " + line.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (section is not null)
        {
            where += section == "header" ? ", in the header" : ", section " + section;
        }
        return where + ": " + problem;
    }
}
