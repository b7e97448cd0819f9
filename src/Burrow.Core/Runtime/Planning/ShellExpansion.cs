using System.Text;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The part of the shell's word expansion Burrow performs itself, so that evaluating a variable's value costs no
/// process: backslash escapes, <c>$NAME</c>, <c>${NAME}</c>, <c>${NAME:-word}</c>, <c>${NAME-word}</c>,
/// <c>${NAME:+word}</c> and <c>${NAME+word}</c>. Anything else that the shell would expand (<c>$(…)</c>, backquotes,
/// <c>$((…))</c>, <c>$1</c>, <c>$$</c>, other <c>${…}</c> forms) is reported, so that the caller can leave it to a real
/// shell. The results are those of POSIX sh (dash, bash --posix, busybox ash) for the same text.
/// </summary>
public static class ShellExpansion
{
    /// <summary>The characters after which a value may need the shell at all; a value without them is its own result.</summary>
    public static bool MayExpand(string value) => value.AsSpan().IndexOfAny('$', '`', '\\') >= 0;

    /// <summary>
    /// Expands <paramref name="text"/> as the inside of a double-quoted string in which a bare <c>"</c> is an ordinary
    /// character: Apptainer's rule for --env values, which it writes as <c>export NAME="VALUE"</c> with quotes escaped.
    /// False when the text holds something only a shell can expand; <paramref name="construct"/> then names it.
    /// </summary>
    public static bool TryExpandDoubleQuoted(string text, Func<string, string?> lookup, out string result, out string? construct)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(lookup);
        var s = new StringBuilder(text.Length);
        int i = 0;
        construct = Expand(text, ref i, end: null, lookup, s, quoteIsLiteral: true);
        result = construct is null ? s.ToString() : text;
        return construct is null;
    }

    /// <summary>
    /// The shell's reading of the text inside <c>"…"</c> (<paramref name="quoteIsLiteral"/> false: a bare <c>"</c> ends
    /// it, and is left at <paramref name="i"/>) or up to <paramref name="end"/> (the <c>}</c> of a <c>${…}</c> word).
    /// Returns null, or the construct it cannot expand.
    /// </summary>
    internal static string? Expand(string text, ref int i, char? end, Func<string, string?> lookup, StringBuilder s, bool quoteIsLiteral)
    {
        while (i < text.Length)
        {
            char c = text[i];
            if (end is { } e && c == e)
            {
                return null;
            }
            if (c == '"' && !quoteIsLiteral)
            {
                return null;
            }
            if (c == '\\')
            {
                if (i + 1 >= text.Length)
                {
                    s.Append('\\');
                    i++;
                    continue;
                }
                char next = text[i + 1];
                if (next == '\n')
                {
                    i += 2; // a line continuation
                    continue;
                }
                if (next is '$' or '`' or '"' or '\\' || (end is { } close && next == close))
                {
                    s.Append(next);
                    i += 2;
                    continue;
                }
                s.Append('\\');
                i++;
                continue;
            }
            if (c == '`')
            {
                return "`…` (command substitution)";
            }
            if (c == '$')
            {
                if (ExpandDollar(text, ref i, lookup, s) is { } unsupported)
                {
                    return unsupported;
                }
                continue;
            }
            s.Append(c);
            i++;
        }
        return end is null ? null : "an unterminated ${…}";
    }

    /// <summary>Expands the $ at <paramref name="i"/>; a $ that starts nothing the shell knows is a plain $.</summary>
    private static string? ExpandDollar(string text, ref int i, Func<string, string?> lookup, StringBuilder s)
    {
        i++;
        if (i >= text.Length)
        {
            s.Append('$');
            return null;
        }
        char c = text[i];
        if (c == '(')
        {
            return i + 1 < text.Length && text[i + 1] == '(' ? "$((…)) (arithmetic)" : "$(…) (command substitution)";
        }
        if (char.IsAsciiDigit(c) || c is '$' or '?' or '!' or '#' or '@' or '*' or '-')
        {
            return "$" + c + " (a special parameter)";
        }
        if (IsNameStart(c))
        {
            string name = Name(text, ref i);
            s.Append(lookup(name) ?? "");
            return null;
        }
        if (c != '{')
        {
            s.Append('$');
            return null;
        }
        i++;
        if (i >= text.Length || !IsNameStart(text[i]))
        {
            return "${" + (i < text.Length ? text[i].ToString() : "") + "…}";
        }
        string var = Name(text, ref i);
        string? value = lookup(var);
        if (i < text.Length && text[i] == '}')
        {
            i++;
            s.Append(value ?? "");
            return null;
        }
        bool colon = i < text.Length && text[i] == ':';
        int op = colon ? i + 1 : i;
        if (op >= text.Length)
        {
            return "an unterminated ${" + var + "…}";
        }
        if (text[op] is not ('-' or '+'))
        {
            return "${" + var + (colon ? ":" : "") + text[op] + "…}";
        }
        bool useDefault = text[op] == '-';
        i = op + 1;
        var word = new StringBuilder();
        // The word of ${VAR:-word} in double quotes: the same rules, up to the closing brace. Quotes inside it nest
        // in ways shells disagree on; leave those to a shell.
        int wordStart = i;
        if (Expand(text, ref i, '}', lookup, word, quoteIsLiteral: true) is { } inner)
        {
            return inner;
        }
        if (text.AsSpan(wordStart, i - wordStart).IndexOfAny('"', '\'') >= 0)
        {
            return "quotes inside ${" + var + (colon ? ":" : "") + text[op] + "…}";
        }
        i++; // the }
        bool set = colon ? !string.IsNullOrEmpty(value) : value is not null;
        s.Append(useDefault ? (set ? value : word.ToString()) : (set ? word.ToString() : ""));
        return null;
    }

    internal static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static string Name(string text, ref int i)
    {
        int start = i;
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
        {
            i++;
        }
        return text[start..i];
    }

    /// <summary>
    /// <paramref name="value"/> written so that <c>"…"</c> around it gives the shell exactly what
    /// <see cref="TryExpandDoubleQuoted"/> means: a bare <c>"</c> is escaped, a lone trailing backslash doubled.
    /// </summary>
    public static string ForDoubleQuotes(string value)
    {
        var s = new StringBuilder(value.Length + 8);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c == '\\')
            {
                if (i + 1 < value.Length)
                {
                    s.Append(c).Append(value[i + 1]);
                    i++;
                }
                else
                {
                    s.Append("\\\\");
                }
                continue;
            }
            if (c == '"')
            {
                s.Append("\\\"");
                continue;
            }
            s.Append(c);
        }
        return s.ToString();
    }
}
