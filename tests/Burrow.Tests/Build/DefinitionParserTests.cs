using Burrow.Core.Build;

namespace Burrow.Tests.Build;

/// <summary>
/// The definition-file shapes Apptainer's parser takes (its testdata_good set: comments around the header, apps,
/// multiple stages, section arguments, quoted %files paths, no header, repeated sections, a shebang runscript),
/// and the mistakes it refuses, each named by file, line and section.
/// </summary>
public class DefinitionParserTests
{
    private const string Docker = """
        # a comment before the header
        Bootstrap: docker   # a comment on a header line
        From: debian:12
        IncludeCmd: yes

        # a comment between header and sections
        %help
        Help for the image.
        %setup
            touch ${APPTAINER_ROOTFS}/mock.txt

        %files
        mock1.txt
        mock2.txt /opt

        %labels
        Maintainer Someone Else
        Version v1.0

        %environment
            GREETING=hello
            export GREETING

        %post
            echo 'a long command that the user split' \
              'over two lines'
            echo 'export X=1' >> $APPTAINER_ENVIRONMENT

        %runscript
            echo "Arguments received: $*"
            exec echo "$@"
        """;

    [Fact]
    public void ReadsHeaderAndSections()
    {
        Definition d = DefinitionParser.Parse(Docker, "docker.def");
        DefinitionStage s = Assert.Single(d.Stages);
        Assert.Equal("docker", s.Bootstrap);
        Assert.Equal("debian:12", s.From);
        Assert.Equal("yes", s.Header["includecmd"]);
        Assert.Equal(2, s.LineOf("bootstrap"));
        Assert.Equal("Help for the image.\n", s.Help!.Text);
        Assert.Contains("touch ${APPTAINER_ROOTFS}/mock.txt", s.Setup!.Text);
        Assert.Equal(12, s.Files.Single().Line);
        Assert.Equal([new FileTransfer("mock1.txt", "", 13), new FileTransfer("mock2.txt", "/opt", 14)], s.Files.Single().Files);
        Assert.Equal([new LabelLine("Maintainer", "Someone Else", 17), new LabelLine("Version", "v1.0", 18)], s.Labels);
        Assert.Contains("export GREETING", s.Environment!.Text);
        Assert.Equal(24, s.Post!.Line);
        Assert.Contains("'over two lines'", s.Post.Text);
        Assert.StartsWith("    echo \"Arguments received", s.Runscript!.Text);
        Assert.Null(s.Test);
        Assert.Equal(Docker, d.FullRaw);
    }

    [Fact]
    public void ReadsApps()
    {
        const string text = """
            Bootstrap: docker
            From: alpine

            %appinstall foo
                touch filefoo.exec
            %appinstall bar
                touch filebar.exec
            %apphelp foo
                This is the help for foo!
            %applabels foo
                HELLOTHISIS foo
            %appenv foo
                HELLOTHISIS=foo
            %apprun foo
                echo "RUNNING FOO"
            """;
        DefinitionStage s = DefinitionParser.Parse(text, "apps.def").Final;
        Assert.Equal(["foo", "bar"], s.Apps.Select(a => a.Name));
        AppDefinition foo = s.Apps[0];
        Assert.Contains("touch filefoo.exec", foo.Install!.Text);
        Assert.Contains("help for foo", foo.Help!.Text);
        Assert.Equal([new LabelLine("HELLOTHISIS", "foo", 11)], foo.Labels);
        Assert.Contains("RUNNING FOO", foo.Run!.Text);
        Assert.Null(s.Apps[1].Run);
    }

    [Fact]
    public void ReadsStagesAndFilesFromAStage()
    {
        const string text = """
            Bootstrap: docker
            From: golang
            Stage: one

            %post
                go build -o /hello

            Bootstrap: docker
            From: alpine
            Stage: two

            %files from one
                /hello /bin/hello
            %runscript
                hello
            """;
        Definition d = DefinitionParser.Parse(text, "multi.def");
        Assert.Equal(["one", "two"], d.Stages.Select(s => s.Name));
        Assert.Equal(8, d.Stages[1].FirstLine);
        FilesSection from = d.Final.Files.Single();
        Assert.Equal("one", from.FromStage);
        Assert.Equal(new FileTransfer("/hello", "/bin/hello", 13), from.Files.Single());
        Assert.Same(d.Stages[0], d.StageNamed("one"));
    }

    [Fact]
    public void KeepsSectionArgumentsAndConcatenatesRepeatedSections()
    {
        const string text = """
            Bootstrap: docker
            From: debian
            %post
                echo first
            %runscript
                echo one
            %post -c /bin/bash extra #comment
                echo second
            """;
        DefinitionStage s = DefinitionParser.Parse(text, "x.def").Final;
        Assert.Equal("    echo first\n    echo second\n", s.Post!.Text);
        Assert.Equal("-c /bin/bash extra #comment", s.Post.Args);
        Assert.Equal(3, s.Post.Line);
        Assert.Equal(["/bin/sh", "-ex", "-c", "/bin/bash extra /.post.script"], ScriptCommand.Argv(s.Post, "/.post.script", "%post", "x.def"));
        Assert.Equal(["/bin/sh", "-ex", "/.post.script"], ScriptCommand.Argv(s.Runscript!, "/.post.script", "%post", "x.def"));
    }

    [Fact]
    public void SplitsQuotedFilePaths()
    {
        const string text = """
            Bootstrap: docker
            From: alpine
            %files
                "file 1"
                "file 1" "with space 1"
                file2 nospace2
                'file3' "/opt/with space 3" # a comment
            """;
        FilesSection f = DefinitionParser.Parse(text, "q.def").Final.Files.Single();
        Assert.Equal([("file 1", ""), ("file 1", "with space 1"), ("file2", "nospace2"), ("file3", "/opt/with space 3")],
            f.Files.Select(t => (t.Source, t.Destination)));
    }

    [Fact]
    public void TakesSectionsWithoutAHeader()
    {
        const string text = "\n# only a comment first\n   \n%post\n    echo hi\n%runscript\n    echo run\n";
        Definition d = DefinitionParser.Parse(text, "noheader.def");
        DefinitionStage s = Assert.Single(d.Stages);
        Assert.Empty(s.Header);
        Assert.Null(s.Bootstrap);
        Assert.Equal(4, s.Post!.Line);
    }

    [Fact]
    public void JoinsContinuedHeaderLines()
    {
        const string text = "Bootstrap: debootstrap\nOSVersion: bookworm\nInclude: podman \\\n  uidmap\nMirrorURL: http://deb.debian.org/debian\n%post\n  true\n";
        DefinitionStage s = DefinitionParser.Parse(text, "d.def").Final;
        Assert.Equal("podman uidmap", s.Header["include"]);
        Assert.Equal("http://deb.debian.org/debian", s.Header["mirrorurl"]);
        Assert.Equal(3, s.LineOf("include"));
    }

    [Fact]
    public void KeepsAShebangRunscript()
    {
        const string text = "Bootstrap: docker\nFrom: python\n\n%runscript\n#!/usr/bin/env python\nprint('hi')";
        Assert.Equal("#!/usr/bin/env python\nprint('hi')\n", DefinitionParser.Parse(text, "s.def").Final.Runscript!.Text);
    }

    [Theory]
    [InlineData("Bootstrap: docker\nFrom: x\nColour: blue\n%post\n true\n", 3, "header", "unknown header keyword \"colour\"")]
    [InlineData("Bootstrap: docker\nFrom x\n", 2, "header", "has no value")]
    [InlineData("Bootstrap: docker\nFrom: x\n%post\n true\n%postt\n true\n", 5, "%postt", "unknown section %postt")]
    [InlineData("Bootstrap: docker\nFrom: x\n%post\n printf '\n%d\n' 3\n", 5, "%d", "unknown section %d")]
    [InlineData("Bootstrap: docker\nFrom: x\n%appinstall\n true\n", 3, "%appinstall", "needs the app's name")]
    [InlineData("Bootstrap: docker\nFrom: x\n%files\n a b c\n", 4, "%files", "more than a source and a destination")]
    [InlineData("Bootstrap: docker\nFrom: x\n%files to x\n a b\n", 3, "%files", "is not understood")]
    [InlineData("Bootstrap: docker\nFrom: x\n%files from nowhere\n a b\n", 3, "%files", "no earlier stage is named \"nowhere\"")]
    [InlineData("Bootstrap: yum\nFrom: x\n", 1, "header", "unknown bootstrap agent \"yum\"")]
    [InlineData("%post\n true\nBootstrap: docker\nFrom: x\n", 1, "header", "every stage needs a header")]
    [InlineData("Bootstrap: docker\nFrom: a\nStage: s\nBootstrap: docker\nFrom: b\nStage: s\n", 6, "header", "two stages are named \"s\"")]
    public void RefusesMistakesNamingFileLineAndSection(string text, int line, string section, string problem)
    {
        DefinitionException e = Assert.Throws<DefinitionException>(() => DefinitionParser.Parse(text, "bad.def"));
        Assert.Equal("bad.def", e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(section, e.Section);
        Assert.Contains(problem, e.Message);
        Assert.StartsWith($"definition file bad.def, line {line}, ", e.Message);
    }

    [Fact]
    public void RefusesAFileWithNothingInIt()
    {
        DefinitionException e = Assert.Throws<DefinitionException>(() => DefinitionParser.Parse("# nothing\n\n", "empty.def"));
        Assert.Contains("empty", e.Message);
        Assert.Equal(0, e.Line);
    }

    [Fact]
    public void NamesTheStageOfAFilesFromAStageBuiltLater()
    {
        const string text = "Bootstrap: docker\nFrom: a\nStage: one\n%files from two\n x y\nBootstrap: docker\nFrom: b\nStage: two\n";
        DefinitionException e = Assert.Throws<DefinitionException>(() => DefinitionParser.Parse(text, "m.def"));
        Assert.Contains("built after this one", e.Message);
        Assert.Equal(4, e.Line);
    }
}
