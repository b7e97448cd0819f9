using System.CommandLine;
using Burrow.Core.Diagnostics;

namespace Burrow.Cli.Parsing;

/// <summary>
/// Apptainer's rule for exec, run and shell: options end at the first positional (IMAGE); everything
/// after it belongs to the container, so <c>burrow exec IMG ls -la --foo</c> runs <c>ls -la --foo</c>.
/// System.CommandLine has no such switch, so before parsing this inserts <c>--</c> right after IMAGE,
/// finding IMAGE with the command's own option definitions (aliases, arity, <c>--opt=value</c>, bundles).
/// It also settles <c>-p</c>, which is <c>--pid</c> in Apptainer and <c>--publish</c> in Podman: followed by a
/// port mapping (a token that starts with a digit or '[' and holds a ':', such as 127.0.0.1:8080:80) it is --publish.
/// </summary>
public static class OptionsEndAtImage
{
    public static string[] Apply(RootCommand root, IReadOnlyList<string> args, IReadOnlySet<string> commandNames)
    {
        int i = 0;
        Command? command = null;
        for (; i < args.Count; i++)
        {
            string token = args[i];
            if (token == "--")
            {
                return [.. args];
            }
            if (IsOptionLike(token))
            {
                i += ValuesTaken([.. root.Options], args, i);
                continue;
            }
            command = root.Subcommands.FirstOrDefault(c => c.Name == token || c.Aliases.Contains(token));
            // burrow instance start IMAGE NAME [ARGS…] takes exec's options, and they end at IMAGE too.
            if (command is { Name: "instance" } && i + 1 < args.Count && command.Subcommands.FirstOrDefault(c => c.Name == args[i + 1]) is { Name: "start" } start)
            {
                command = start;
                i++;
            }
            break;
        }
        if (command is null || !commandNames.Contains(command.Name))
        {
            return [.. args];
        }

        IReadOnlyList<Option> options = [.. command.Options, .. root.Options.Where(o => o.Recursive)];
        string[] tokens = [.. args];
        for (i++; i < tokens.Length; i++)
        {
            string token = tokens[i];
            if (token == "--")
            {
                return tokens;
            }
            if (token == "-p" && i + 1 < tokens.Length && IsPortMapping(tokens[i + 1]) && IsKnown(options, PublishName))
            {
                tokens[i] = PublishName;
                i++;
                continue;
            }
            if (IsOptionLike(token))
            {
                if (!IsKnown(options, token))
                {
                    // System.CommandLine would take an unknown "--foo" for IMAGE; say what it is instead.
                    throw new BurrowException($"unknown option {token} for burrow {command.Name}", $"see burrow {command.Name} --help", ExitCodes.Usage);
                }
                i += ValuesTaken(options, tokens, i);
                continue;
            }
            // token is IMAGE. An explicit "--" right after it already ends the options.
            if (i + 1 < tokens.Length && tokens[i + 1] == "--")
            {
                return tokens;
            }
            return [.. tokens.Take(i + 1), "--", .. tokens.Skip(i + 1)];
        }
        return tokens;
    }

    private const string PublishName = "--publish";

    internal static bool IsPortMapping(string token) =>
        token.Length > 2 && (char.IsAsciiDigit(token[0]) || token[0] == '[') && token.Contains(':');

    internal static bool IsOptionLike(string token) => token.Length > 1 && token[0] == '-';

    /// <summary>How many of the following tokens the option at <paramref name="index"/> consumes as its value.</summary>
    internal static int ValuesTaken(IReadOnlyList<Option> options, IReadOnlyList<string> args, int index)
    {
        string token = args[index];
        if (Find(options, token) is { } exact)
        {
            return TakesValue(exact) && index + 1 < args.Count ? 1 : 0;
        }
        // --name=value and --name:value carry their value in the same token.
        int split = token.IndexOfAny(['=', ':']);
        if (split > 0 && Find(options, token[..split]) is not null)
        {
            return 0;
        }
        // A POSIX bundle such as -cB: flags, then possibly one option that takes the rest or the next token.
        if (token[1] != '-')
        {
            for (int c = 1; c < token.Length; c++)
            {
                Option? o = Find(options, "-" + token[c]);
                if (o is null)
                {
                    return 0; // not a bundle we understand; the parser will report it
                }
                if (TakesValue(o))
                {
                    return c == token.Length - 1 && index + 1 < args.Count ? 1 : 0;
                }
            }
        }
        return 0; // an unknown option: the parser reports it
    }

    /// <summary>An option of the command: by name or alias, as --name=value, or as a bundle of short flags.</summary>
    internal static bool IsKnown(IReadOnlyList<Option> options, string token)
    {
        if (Find(options, token) is not null)
        {
            return true;
        }
        int split = token.IndexOfAny(['=', ':']);
        if (split > 0 && Find(options, token[..split]) is not null)
        {
            return true;
        }
        return token[1] != '-' && Find(options, "-" + token[1]) is not null;
    }

    private static Option? Find(IReadOnlyList<Option> options, string name) =>
        options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));

    /// <summary>Flags (bool options) have arity zero-or-one but never take the next token here, as in Apptainer.</summary>
    private static bool TakesValue(Option option) => option.Arity.MinimumNumberOfValues > 0;
}
