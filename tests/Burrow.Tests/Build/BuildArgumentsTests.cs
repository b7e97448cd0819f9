using Burrow.Core.Build;
using Burrow.Core.Diagnostics;

namespace Burrow.Tests.Build;

/// <summary>{{ NAME }} templating: given values, %arguments defaults, nested defaults, comments, unused and missing names.</summary>
public class BuildArgumentsTests
{
    private const string Text = """
        Bootstrap: docker
        From: {{ BASE }}

        %arguments
            BASE=debian:{{ RELEASE }}
            RELEASE=12
            WHO=world

        %post
            echo "hello {{WHO}}"
            # echo {{ UNDEFINED_IN_A_COMMENT }}
            echo '#!{{ WHO }}'
        """;

    [Fact]
    public void UsesDefaultsAndNestedDefaults()
    {
        Definition d = DefinitionParser.Parse(Text, "a.def", new Dictionary<string, string>(), out IReadOnlyList<string> unused);
        Assert.Equal("debian:12", d.Final.From);
        Assert.Contains("echo \"hello world\"", d.Final.Post!.Text);
        Assert.Contains("# echo {{ UNDEFINED_IN_A_COMMENT }}", d.Final.Post.Text);
        Assert.Contains("echo '#!world'", d.Final.Post.Text);
        Assert.Contains("From: debian:12\n", d.FullRaw);
        Assert.Empty(unused);
    }

    [Fact]
    public void GivenValuesWinAndUnusedOnesAreReported()
    {
        var given = new Dictionary<string, string> { ["RELEASE"] = "13", ["WHO"] = "you", ["EXTRA"] = "x" };
        Definition d = DefinitionParser.Parse(Text, "a.def", given, out IReadOnlyList<string> unused);
        Assert.Equal("debian:13", d.Final.From);
        Assert.Contains("hello you", d.Final.Post!.Text);
        Assert.Equal(["EXTRA"], unused); // RELEASE counts as used through BASE's default
    }

    [Fact]
    public void AMissingValueNamesItsLine()
    {
        DefinitionException e = Assert.Throws<DefinitionException>(() =>
            DefinitionParser.Parse("Bootstrap: docker\nFrom: alpine\n%post\n  echo {{ NOPE }}\n", "m.def"));
        Assert.Equal(4, e.Line);
        Assert.Contains("\"NOPE\" has no value", e.Message);
        Assert.Contains("--build-arg NOPE=VALUE", e.Hint);
    }

    [Fact]
    public void ReadsTheFileThenTheOptions()
    {
        var warnings = new List<string>();
        IReadOnlyDictionary<string, string> values = BuildArguments.Read(["A=from-option", "C = spaced "], "args.txt",
            _ => "# comment\nA=from-file\nB=2\nnot a pair\n", warnings);
        Assert.Equal("from-option", values["A"]);
        Assert.Equal("2", values["B"]);
        Assert.Equal("spaced", values["C"]);
        Assert.Contains(warnings, w => w.Contains("not a pair"));
        BurrowException e = Assert.Throws<BurrowException>(() => BuildArguments.Read(["novalue"], null, _ => "", warnings));
        Assert.Contains("is not NAME=VALUE", e.Message);
    }
}
