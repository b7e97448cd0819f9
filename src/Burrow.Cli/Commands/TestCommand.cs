using System.CommandLine;
using Burrow.Core.Runtime.Planning;

namespace Burrow.Cli.Commands;

/// <summary>burrow test [options] IMAGE [ARGS…]: the image's %test section, as Apptainer runs it.</summary>
public static class TestCommand
{
    public static Command Create() => RunCommand.WithArguments("test",
        "Run the image's test script (/.singularity.d/test, from the definition's %test)", "the test script", ActionKind.Test);
}
