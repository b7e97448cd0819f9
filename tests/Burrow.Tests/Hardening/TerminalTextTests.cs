using Burrow.Core.Diagnostics;

namespace Burrow.Tests.Hardening;

/// <summary>TerminalText (issue 13, item 6): image and registry text cannot move the cursor, erase or forge lines.</summary>
public sealed class TerminalTextTests
{
    [Theory]
    [InlineData("\u001b[1A\u001b[2KINFO: all good", @"\x1b[1A\x1b[2KINFO: all good")]
    [InlineData("\u001b]0;pwned\u0007", @"\x1b]0;pwned\x07")]
    [InlineData("one-byte CSI \u009b2J", @"one-byte CSI \x9b2J")]
    [InlineData("DEL\u007f", @"DEL\x7f")]
    [InlineData("abc\u202eexe.txt", @"abc\u202eexe.txt")]
    [InlineData("back\rspace\b", @"back\x0dspace\x08")]
    [InlineData("two\nlines\tand a tab", @"two\x0alines\x09and a tab")]
    public void ControlsBecomeVisibleEscapes(string raw, string shown)
    {
        Assert.Equal(shown, TerminalText.Escape(raw));
        Assert.False(TerminalText.IsSafe(raw));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain label: value")]
    [InlineData(@"C:\path\with\backslashes \x1b stays as typed")]
    [InlineData("non-ASCII: é, 日本語, emoji 🐇")]
    public void PrintableTextIsLeftAlone(string text) => Assert.Equal(text, TerminalText.Escape(text));

    [Fact]
    public void MultilineKeepsLayoutButNotEscapes()
    {
        string runscript = "#!/bin/sh\n\techo hi\n\u001b[2Kforged\r\n";
        Assert.Equal("#!/bin/sh\n\techo hi\n\\x1b[2Kforged\\x0d\n", TerminalText.EscapeMultiline(runscript));
    }

    [Fact]
    public void NullIsEmpty() => Assert.Equal("", TerminalText.Escape(null));
}
