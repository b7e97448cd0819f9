using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Linux;

namespace Burrow.Tests.Hardening;

/// <summary>
/// FailureText, the one mapping of the CLI's error boundary: every exception a command can end with becomes one line
/// with a named exit code, never a stack trace (the E2E sweep checks the same through the shipped binary).
/// </summary>
public sealed class FailureTextTests
{
    public static TheoryData<Exception, string> Failures() => new()
    {
        { new BurrowException("cannot write out.sif: it is a directory", "give the path of a file"), "cannot write out.sif: it is a directory; give the path of a file" },
        { new LinuxException(Errno.EACCES, "open", "/x/y"), "check the permissions of /x/y" },
        { new LinuxException(Errno.EMFILE, "open", null), "ulimit -n" },
        { new EndOfStreamException(), "ended before the data it should hold" },
        { new FileNotFoundException("gone", "/a/b"), "/a/b: no such file" },
        { new UnauthorizedAccessException("Access to the path '/a' is denied."), "Access to the path '/a' is denied; check the permissions" },
        { new UriFormatException("Invalid URI: Invalid port specified."), "not a valid address: Invalid URI: Invalid port specified" },
        { new InvalidDataException("bad magic"), "bad magic" },
        { new AggregateException(new EndOfStreamException()), "ended before" },
        { new NotSupportedException("nope"), "internal error (NotSupportedException): nope; rerun with --debug and report it" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void EveryFailureIsOneLine(Exception e, string says)
    {
        FailureReport r = FailureText.Describe(e);
        Assert.Contains(says, r.Line);
        Assert.DoesNotContain('\n', r.Line);
        Assert.DoesNotContain("   at ", r.Line);
        Assert.Equal(ExitCodes.Failure, r.ExitCode);
    }

    [Fact]
    public void JsonFailuresSayJson()
    {
        JsonException e = Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse("{\"a\": "));
        FailureReport r = FailureText.Describe(e);
        Assert.StartsWith("invalid JSON: ", r.Line);
        Assert.DoesNotContain('\n', r.Line);
    }

    [Fact]
    public void UsageErrorsKeepTheirCode()
    {
        FailureReport r = FailureText.Describe(new BurrowException("unknown option --bogus for burrow pull", "see burrow pull --help", ExitCodes.Usage));
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
    }

    [Fact]
    public void FileSizeLimitIsNamed()
    {
        // What .NET throws for EFBIG from a write (ulimit -f).
        var e = new ArgumentException("The file is too large for the file system.");
        Assert.Contains("file size limit", FailureText.Describe(e).Line);
    }
}
