using System.CommandLine;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Ecl;

namespace Burrow.Cli.Commands;

/// <summary><c>burrow __run-plan FILE.json</c>: runs a launch plan written by hand (tests, debugging the stage).</summary>
public static class RunPlanCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A launch plan as JSON (the --explain structure)" };
        var command = new Command("__run-plan", "Internal: run a launch plan from a JSON file") { Hidden = true };
        command.Arguments.Add(file);
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            string path = result.GetValue(file)!;
            Core.Config.BurrowConfig config = CliConfig.Load(result).Config;
            if (ExecutionControl.Load(TrustPaths.ForProcess() with { EclFileOverride = config.EclFile }) is { Activated: true } ecl)
            {
                // A hand-written plan names its root directly: no image the list could judge.
                throw new BurrowException($"while checking container image with ECL: __run-plan runs a hand-written launch plan, which the execution control list {ecl.Config.Path} cannot judge",
                    "run the image with burrow exec, run or shell");
            }
            LaunchPlan plan;
            try
            {
                using Microsoft.Win32.SafeHandles.SafeFileHandle fd = Burrow.Linux.RegularFile.Open(path);
                plan = JsonSerializer.Deserialize(Burrow.Linux.FileDescriptors.ReadAll(fd, 64 << 20, path), LaunchPlanJsonContext.Default.LaunchPlan)
                    ?? throw new BurrowException($"the launch plan {path} is empty");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException or ArgumentException)
            {
                throw new BurrowException($"cannot read the launch plan {path}: {FailureText.Reason(e)}");
            }
            foreach (string warning in plan.Warnings ?? [])
            {
                Log.Warning(warning);
            }
            return ContainerLauncher.Run(plan, RuntimePaths.FromProcess());
        });
        return command;
    }
}
