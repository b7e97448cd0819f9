using System.Text;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Reads an --env-file as Apptainer does, as a shell script of assignments evaluated with the host's environment:
/// <c>[export] NAME=WORD …</c> per line, <c>#</c> comments, <c>;</c> between commands, and each WORD read by the
/// shell's rules: <c>'…'</c> literal, <c>"…"</c> with backslash escapes, backslash outside quotes, and <c>$NAME</c>,
/// <c>${NAME}</c>, <c>${NAME:-word}</c> from the host (and from the file's earlier lines). Quotes may span lines.
/// The values are then evaluated once more, in the container, like --env values (unless --no-eval), so
/// <c>PATH="\$PATH:/opt/bin"</c> extends the container's PATH. Burrow runs no command from an env file: a
/// <c>$(…)</c> or any other construct beyond these is an error naming the file and the line.
/// </summary>
public static class EnvFileParser
{
    public static IReadOnlyList<EnvVar> Parse(string path, string text, IReadOnlyList<EnvVar>? hostEnvironment = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var host = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (EnvVar v in hostEnvironment ?? [])
        {
            host[v.Name] = v.Value;
        }
        var result = new List<EnvVar>();
        var reader = new Reader(path, text);
        while (reader.SkipBlanksAndComments())
        {
            int line = reader.Line;
            string first = reader.PeekWord();
            if (first == "export")
            {
                reader.Advance("export".Length);
                if (!reader.AtBlank())
                {
                    throw reader.Error(line, "expected NAME=value after export");
                }
            }
            bool any = false;
            while (reader.SkipBlanks() && !reader.AtCommandEnd())
            {
                reader.RefuseOperator(line);
                string name = reader.ReadName();
                if (name.Length == 0 || !reader.TryTake('='))
                {
                    if (name.Length > 0 && first == "export" && (reader.AtBlank() || reader.AtCommandEnd()))
                    {
                        any = true; // "export NAME": the host's NAME already passes through
                        continue;
                    }
                    throw reader.Error(line, $"expected NAME=value, got '{reader.LineText(line)}'");
                }
                string value = reader.ReadWord(line, n => result.LastOrDefault(v => v.Name == n)?.Value ?? host.GetValueOrDefault(n));
                result.Add(new EnvVar(name, value));
                any = true;
            }
            if (!any)
            {
                throw reader.Error(line, $"expected NAME=value, got '{reader.LineText(line)}'");
            }
            reader.TryTake(';');
        }
        return result;
    }

    private sealed class Reader(string path, string text)
    {
        private int _i;

        public int Line => 1 + text.AsSpan(0, Math.Min(_i, text.Length)).Count('\n');

        public string LineText(int line) => text.Split('\n')[line - 1].TrimEnd('\r').Trim();

        /// <summary>Moves to the next command; false at the end of the text.</summary>
        public bool SkipBlanksAndComments()
        {
            while (_i < text.Length)
            {
                char c = text[_i];
                if (c is ' ' or '\t' or '\r' or '\n' or ';')
                {
                    _i++;
                }
                else if (c == '#')
                {
                    SkipComment();
                }
                else
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>Skips spaces and tabs (and a comment, which runs to the end of the line); false at the end of the text.</summary>
        public bool SkipBlanks()
        {
            while (_i < text.Length && text[_i] is ' ' or '\t' or '\r')
            {
                _i++;
            }
            if (_i < text.Length && text[_i] == '#')
            {
                SkipComment();
            }
            return _i < text.Length;
        }

        public bool AtCommandEnd() => _i >= text.Length || text[_i] is '\n' or ';';

        public bool AtBlank() => _i < text.Length && text[_i] is ' ' or '\t';

        public string PeekWord()
        {
            int j = _i;
            while (j < text.Length && (char.IsAsciiLetterOrDigit(text[j]) || text[j] == '_'))
            {
                j++;
            }
            return text[_i..j];
        }

        public void Advance(int n) => _i += n;

        /// <summary>A pipe, a redirection, a subshell: a command, which an env file must not hold.</summary>
        public void RefuseOperator(int line)
        {
            if (_i < text.Length && text[_i] is '|' or '&' or '<' or '>' or '(' or ')' or '`')
            {
                throw Error(line, $"'{text[_i]}' is shell syntax Burrow does not run; an env file holds NAME=value assignments");
            }
        }

        public bool TryTake(char c)
        {
            if (_i < text.Length && text[_i] == c)
            {
                _i++;
                return true;
            }
            return false;
        }

        public string ReadName()
        {
            if (_i >= text.Length || !ShellExpansion.IsNameStart(text[_i]))
            {
                return "";
            }
            string name = PeekWord();
            _i += name.Length;
            return name;
        }

        /// <summary>One shell word: unquoted, '…' and "…" parts run together until a blank, ';', a newline or the end.</summary>
        public string ReadWord(int line, Func<string, string?> lookup)
        {
            var s = new StringBuilder();
            while (_i < text.Length && text[_i] is not (' ' or '\t' or '\r' or '\n' or ';'))
            {
                char c = text[_i];
                switch (c)
                {
                    case '\'':
                        int close = text.IndexOf('\'', _i + 1);
                        if (close < 0)
                        {
                            throw Error(line, "a single quote is not closed");
                        }
                        s.Append(text, _i + 1, close - _i - 1);
                        _i = close + 1;
                        break;
                    case '"':
                        _i++;
                        if (ShellExpansion.Expand(text, ref _i, end: null, lookup, s, quoteIsLiteral: false) is { } inQuotes)
                        {
                            throw Unsupported(line, inQuotes);
                        }
                        if (!TryTake('"'))
                        {
                            throw Error(line, "a double quote is not closed");
                        }
                        break;
                    case '\\':
                        if (_i + 1 < text.Length && text[_i + 1] == '\n')
                        {
                            _i += 2;
                        }
                        else if (_i + 1 < text.Length)
                        {
                            s.Append(text[_i + 1]);
                            _i += 2;
                        }
                        else
                        {
                            _i++;
                        }
                        break;
                    case '$':
                        // Unquoted, one expansion at a time: an assignment's value is neither split nor globbed.
                        int start = _i;
                        int end = DollarEnd(start);
                        int at = 0;
                        string piece = text[start..end];
                        if (ShellExpansion.Expand(piece, ref at, end: null, lookup, s, quoteIsLiteral: true) is { } unquoted)
                        {
                            throw Unsupported(line, unquoted);
                        }
                        _i = end;
                        break;
                    case '`':
                        throw Unsupported(line, "`…` (command substitution)");
                    case '|' or '&' or '<' or '>' or '(' or ')':
                        throw Error(line, $"'{c}' is shell syntax Burrow does not run; an env file holds NAME=value assignments");
                    default:
                        s.Append(c);
                        _i++;
                        break;
                }
            }
            return s.ToString();
        }

        /// <summary>Where the $-expansion at <paramref name="start"/> ends: $NAME, ${…} (to its brace), or the $ alone.</summary>
        private int DollarEnd(int start)
        {
            int j = start + 1;
            if (j < text.Length && text[j] == '{')
            {
                int depth = 0;
                for (; j < text.Length; j++)
                {
                    if (text[j] == '{')
                    {
                        depth++;
                    }
                    else if (text[j] == '}' && --depth == 0)
                    {
                        return j + 1;
                    }
                }
                return text.Length;
            }
            if (j < text.Length && text[j] == '(')
            {
                return j + 1;
            }
            if (j < text.Length && ShellExpansion.IsNameStart(text[j]))
            {
                while (j < text.Length && (char.IsAsciiLetterOrDigit(text[j]) || text[j] == '_'))
                {
                    j++;
                }
                return j;
            }
            return Math.Min(j + (j < text.Length && !char.IsWhiteSpace(text[j]) && text[j] != ';' ? 1 : 0), text.Length);
        }

        private void SkipComment()
        {
            while (_i < text.Length && text[_i] != '\n')
            {
                _i++;
            }
        }

        public BurrowException Error(int line, string problem) =>
            new($"--env-file {path} line {line}: {problem}",
                "each line must be NAME=value (optionally 'export NAME=value'), quoted as in sh; # starts a comment");

        private BurrowException Unsupported(int line, string construct) =>
            new($"--env-file {path} line {line}: {construct} is not supported: Burrow runs no command from an env file",
                "write the value itself, or \\$ to leave a $ for the container to expand (PATH=\"\\$PATH:/opt/bin\")");
    }
}
