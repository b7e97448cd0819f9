using System.CommandLine;
using Burrow.Core.Diagnostics;

namespace Burrow.Cli.Parsing;

/// <summary>
/// System.CommandLine takes an unknown "--bogus" for a positional argument when one is free, so
/// <c>burrow pull --bogus REF</c> wrote <c>./--bogus</c> and <c>burrow inspect --bogus IMAGE</c> named --bogus as the
/// image. Before parsing, every option-like token of the chosen (sub)command is checked against that command's own
/// options; an unknown one is a usage error that says so. A file whose name starts with "-" is given as ./-name or
/// after "--". exec, run and shell are checked by <see cref="OptionsEndAtImage"/>, up to IMAGE.
/// </summary>
public static class UnknownOptions
{
    public static void Check(RootCommand root, IReadOnlyList<string> args, IReadOnlySet<string> actionCommands)
    {
        Command command = root;
        int i = 0;
        for (; i < args.Count; i++)
        {
            string token = args[i];
            if (token == "--")
            {
                return;
            }
            if (OptionsEndAtImage.IsOptionLike(token))
            {
                Check(command, root, args, ref i);
                continue;
            }
            Command? sub = command.Subcommands.FirstOrDefault(c => c.Name == token || c.Aliases.Contains(token));
            if (sub is null)
            {
                break; // the first positional of a command: the rest is arguments and options of that command
            }
            command = sub;
            if (actionCommands.Contains(command.Name) && command.Parents.Contains(root))
            {
                return;
            }
        }
        for (; i < args.Count; i++)
        {
            if (args[i] == "--")
            {
                return;
            }
            if (OptionsEndAtImage.IsOptionLike(args[i]))
            {
                Check(command, root, args, ref i);
            }
        }
    }

    private static void Check(Command command, RootCommand root, IReadOnlyList<string> args, ref int i)
    {
        IReadOnlyList<Option> options = [.. command.Options, .. root.Options.Where(o => o.Recursive || command == root)];
        string token = args[i];
        if (!OptionsEndAtImage.IsKnown(options, token))
        {
            string name = command == root ? "burrow" : "burrow " + CommandPath(command);
            throw new BurrowException($"unknown option {token} for {name}", $"see {name} --help (a file whose name starts with - can be given as ./{token})", ExitCodes.Usage);
        }
        i += OptionsEndAtImage.ValuesTaken(options, args, i);
    }

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is Command c and not RootCommand; s = c.Parents.FirstOrDefault())
        {
            names.Insert(0, c.Name);
        }
        return string.Join(' ', names);
    }
}
