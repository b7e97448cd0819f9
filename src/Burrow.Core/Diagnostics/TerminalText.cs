using System.Globalization;
using System.Text;

namespace Burrow.Core.Diagnostics;

/// <summary>
/// Makes text from an image or a registry safe to print on a terminal: labels, runscripts, layer entry names,
/// error bodies and paths can hold ESC sequences that move the cursor, erase or forge lines of Burrow's output,
/// retitle the window or, on some terminals, answer back. Every C0 control, DEL, every C1 control (0x80–0x9f,
/// CSI included) and the Unicode bidirectional and line-separator controls are written as visible escapes
/// (<c>\x1b</c>, <c>\u009b</c>, <c>\u202e</c>); printable text, backslashes included, is left as it is.
/// </summary>
public static class TerminalText
{
    /// <summary>For one line: newlines, tabs and carriage returns are escaped too, so a value cannot start a forged line.</summary>
    public static string Escape(string? text) => Escape(text, keepLayout: false);

    /// <summary>For file contents shown as such (a runscript, an environment script): newlines and tabs stay.</summary>
    public static string EscapeMultiline(string? text) => Escape(text, keepLayout: true);

    /// <summary>True when <see cref="Escape(string?)"/> would change nothing.</summary>
    public static bool IsSafe(string text, bool keepLayout = false)
    {
        foreach (char c in text)
        {
            if (NeedsEscape(c, keepLayout))
            {
                return false;
            }
        }
        return true;
    }

    private static string Escape(string? text, bool keepLayout)
    {
        if (string.IsNullOrEmpty(text) || IsSafe(text, keepLayout))
        {
            return text ?? "";
        }
        var sb = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (!NeedsEscape(c, keepLayout))
            {
                sb.Append(c);
            }
            else if (c <= 0xff)
            {
                sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c, bool keepLayout) => c switch
    {
        '\n' or '\t' => !keepLayout,
        < ' ' => true,                                   // C0, ESC (0x1b) among them
        >= '\u007f' and <= '\u009f' => true,             // DEL and C1 (0x9b is a one-byte CSI)
        >= '\u202a' and <= '\u202e' => true,             // bidi embeddings and overrides
        >= '\u2066' and <= '\u2069' => true,             // bidi isolates
        '\u2028' or '\u2029' or '\u200e' or '\u200f' or '\u061c' => true, // line/paragraph separators, direction marks
        _ => false,
    };
}
